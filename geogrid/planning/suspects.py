"""Which grids may overlap a neighbour: a fast coverage check in Shapely before the exact one in PostGIS.

Checking every pair of neighbouring grids for a shared interior costs PostGIS a full DE-9IM relate per
pair (about 85,000 pairs in a 21,000-grid city). GEOS's coverage validator instead matches the edges of
the whole coverage at once: grids whose edges all meet a neighbour's exactly cannot overlap, so only the
few others go on to the exact overlap query.
"""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Connection

from geogrid.db.bulk import fetch_geoms

MIN_GRIDS = 1000  # below this the exact query alone is fast enough

SQL = """
SELECT g.id, ST_AsBinary(g.geom) FROM grids g
WHERE g.valid_to IS NULL AND (CAST(:cids AS int[]) IS NULL OR g.community_id = ANY(CAST(:cids AS int[])))
"""


def overlap_suspects(conn: Connection, cids: list[int] | None) -> list[int] | None:
    """Ids of grids that may overlap another (None: too few grids to be worth it, check them all).

    Invalid grids and exact duplicates are always suspects: the edge matching cannot judge them.
    """
    grids = fetch_geoms(conn, SQL, {"cids": cids})
    if len(grids) < MIN_GRIDS:
        return None
    geoms = grids["geom"].to_numpy()
    ids = grids["id"].to_numpy()
    valid = shapely.is_valid(geoms)
    suspect = ~valid
    edges = shapely.coverage_invalid_edges(geoms[valid])
    suspect[np.flatnonzero(valid)[~shapely.is_empty(edges)]] = True
    keys = shapely.to_wkb(shapely.normalize(geoms))
    _, first, counts = np.unique(keys, return_inverse=True, return_counts=True)
    suspect |= counts[first] > 1
    return [int(i) for i in ids[suspect]]
