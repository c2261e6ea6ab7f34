"""Where a plan can change which grid a point falls in: only the buildings and facilities there are reassigned.

A point keeps its grid unless the set of grids covering it changes, and that set changes only where some grid's
boundary moved: in the area a grid gained or lost (old △ new), in the whole of a grid retired, created or brought
back. Points within a centimetre of an old or new outline are tested too: overlay operations may re-node an
unchanged edge, and a point lying on it could fall either side. Testing only these instead of every building of
the touched grids keeps a grown boundary's preview and apply proportional to the strip, not to the grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geogrid.planning.edits import Changes

EDGE_DEG = 1e-7  # about 1 cm: points this close to a touched outline are tested again


@dataclass(frozen=True)
class Reach:
    """What a plan's writes can affect, as :data:`CANDIDATES_SQL` takes it (WKB, lon/lat)."""

    areas: list[bytes]  # areas gained or lost, per grid
    edges: list[bytes]  # outlines of the touched and new grids, before and after
    retired: list[int]  # grids retired: everything they held is reassigned
    old: list[int]  # grids touched: buildings in no grid that counted one as nearest are measured again

    def params(self) -> dict:
        return {"wkbs": self.areas, "edges": self.edges, "eps": EDGE_DEG, "retired": self.retired, "old": self.old}


def reach(changes: Changes) -> Reach:
    """The reach of ``changes`` (grids already computed, before or after they are written)."""
    areas, edges = [], []
    for g in changes.touched:
        before = changes.original[g.saved_id]
        if g.retired:
            area = before
        elif not g.in_force:  # brought back: it covered nothing before
            area = g.geom
        else:
            area = shapely.symmetric_difference(before, g.geom)
        areas.append(area)
        edges += [before.boundary] if g.retired else [before.boundary, g.geom.boundary]
    for g in changes.new:
        areas.append(g.geom)
        edges.append(g.geom.boundary)
    return Reach(
        areas=[shapely.to_wkb(a) for a in areas if not a.is_empty],
        edges=[shapely.to_wkb(e) for e in edges if not e.is_empty],
        retired=[g.saved_id for g in changes.touched if g.retired],
        old=[g.saved_id for g in changes.touched],
    )


CANDIDATES_SQL = """
WITH area AS (SELECT ST_GeomFromWKB(w, 4326) AS geom FROM unnest(CAST(:wkbs AS bytea[])) w),
edge AS (SELECT ST_GeomFromWKB(w, 4326) AS geom FROM unnest(CAST(:edges AS bytea[])) w)
SELECT b.id FROM buildings b JOIN area ON ST_Intersects(b.geom, area.geom)
UNION SELECT b.id FROM buildings b JOIN edge ON ST_DWithin(b.geom, edge.geom, :eps)
UNION SELECT building_id FROM building_assignments WHERE grid_id = ANY(:retired)
UNION SELECT building_id FROM building_assignments WHERE grid_id IS NULL AND nearest_grid_id = ANY(:old)
"""

FACILITY_CANDIDATES_SQL = """
SELECT f.id FROM facilities f JOIN area ON ST_Intersects(f.geom, area.geom)
UNION SELECT f.id FROM facilities f JOIN edge ON ST_DWithin(f.geom, edge.geom, :eps)
UNION SELECT id FROM facilities WHERE grid_id = ANY(:retired)
"""
