"""Drawing grids: units never split (blocks, compounds, buildings), household estimates, grouping into grids
within the household band, rebalancing oversized grids; every proposal is a plan (:mod:`geogrid.planning`).

- :mod:`geogrid.partition.households` — estimates for buildings without figures (marked, replaced by real ones);
- :mod:`geogrid.partition.osm` — compounds and barrier lines (roads, rivers, railways) from OpenStreetMap;
- :mod:`geogrid.partition.units` — blocks cut by barrier lines, joined for compounds, cut into buildings;
- :mod:`geogrid.partition.grow` — grouping units into contiguous regions within the band (pure, seeded);
- :mod:`geogrid.partition.area` — reading a community's units' inputs from PostGIS, in metres;
- :mod:`geogrid.partition.propose` — grids for a community or street office as a draft plan;
- :mod:`geogrid.partition.rebalance` — fixing grids outside the band with the fewest buildings moved.
"""
