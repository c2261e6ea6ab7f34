"""The demo city: a fictional street office in 海淀区, Beijing, generated deterministically by our own code.

``load_demo(conn, buildings=None, seed=7)`` writes it with COPY in the caller's transaction and returns a
:class:`DemoSummary` (counts, plus the codes and ids of the deliberate edge cases, for tests and docs).

What it contains and the choices made where the issue was silent:

- 长湖街道 (street office code 110108600; codes 600+ are not in the NBS list for 海淀区 110108), generated in
  UTM 50N around 116.35E 39.96N on a jittered lattice of 250 m cells; every shared edge is computed once,
  so grids tile communities and communities tile the street exactly. Communities are blocks of 3×3 cells,
  grids are one cell each; grid codes = 12-digit community code + 3-digit sequence, west→east then
  north→south by each grid's nominal cell (communities are numbered the same way within the street).
- Default city: 8×5 cells → 6 communities, 38 basic grids (330–470 households each), 2 dedicated grids
  (长湖医院 filling a hole in a basic grid, 学府路小学), ~310 buildings, ~15,000 households, ~40,000 residents.
- Edge cases (see ``DemoSummary``): a two-part MultiPolygon grid, a holed grid and the dedicated grid filling
  its hole, three street-front buildings exactly on shared grid vertices, three buildings south of the street
  (outside every grid), grids with no party branch and with no full-time grid worker, one community in three
  without a service station (so some grids are outside every 5-minute circle), six candidate sites.
- Addresses: ``<road><number>号 <compound><n>号楼``, e.g. ``长湖街2号 巴蜀花园1号楼``: the road is the street on
  the compound's south side, the number the compound gate's; buildings are numbered 1号楼… in reading order.
  ``buildings.name`` is ``巴蜀花园1号楼``, ``buildings.number`` is ``1``.
- Walking network: streets along every cell edge, a path through each compound (gate–centre–gate), a river
  (east–west) and a railway (north–south) that only bridges on every 6th north–south street and underpasses
  on every 5th east–west street cross.
- ``buildings=N`` scales to exactly N buildings on about N/47 grids (300–500 households each, so ~8 per
  building), more communities, and street offices of up to 5×5 communities (codes 600, 601, …). Households,
  residents and personal data are generated only up to ``PEOPLE_MAX_BUILDINGS`` (10,000) buildings; above
  that only ``buildings.households`` counts, grid-level staff and party organisations.
"""

from geogrid.demo.load import PEOPLE_MAX_BUILDINGS, DemoSummary, load_demo

__all__ = ["PEOPLE_MAX_BUILDINGS", "DemoSummary", "load_demo"]
