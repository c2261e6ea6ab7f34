"""Boundary planning: validate the grids, propose edits with a preview, apply them atomically, undo them.

- :mod:`geogrid.planning.validate` — the rules a community's grids must follow, each problem with a location;
- :mod:`geogrid.planning.edits` — redraw, split, merge, move buildings, revert: new boundaries in Shapely;
- :mod:`geogrid.planning.apply` — write new versions, retire codes with lineage, reassign affected buildings;
- :mod:`geogrid.planning.preview` — plans: the same writes in a rolled-back savepoint, measured before/after;
- :mod:`geogrid.planning.history` — every version of a grid, and revert (itself a new version).
"""
