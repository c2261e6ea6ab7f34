"""The gazetteer: every name a caller may type (building address, compound + building, compound, area),
normalised once by :mod:`geogrid.address` and searched with PostgreSQL trigram similarity (GIN index).

Rebuilt in bulk by :func:`build_gazetteer` (a pipeline step) and read by :func:`search`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.address import normalise
from geogrid.db.bulk import copy_frame

# One row per name: kind, ref_id, text, lon, lat. Compound + number gives 巴蜀花园3栋 for a building.
SOURCES_SQL = """
SELECT 'building' AS kind, b.id AS ref_id, b.address AS text, ST_X(b.geom) AS x, ST_Y(b.geom) AS y
  FROM buildings b WHERE b.address IS NOT NULL AND b.address <> ''
UNION ALL
SELECT 'building', b.id, b.name, ST_X(b.geom), ST_Y(b.geom)
  FROM buildings b WHERE b.name IS NOT NULL AND b.name <> ''
UNION ALL
SELECT 'building', b.id, c.name || b.number || CASE WHEN b.number ~ '^[0-9]+$' THEN '栋' ELSE '' END,
       ST_X(b.geom), ST_Y(b.geom)
  FROM buildings b JOIN compounds c ON c.id = b.compound_id WHERE b.number IS NOT NULL AND b.number <> ''
UNION ALL
SELECT 'compound', c.id, n.text, ST_X(p.g), ST_Y(p.g)
  FROM compounds c
  CROSS JOIN LATERAL (VALUES (c.name), (c.address)) AS n(text)
  CROSS JOIN LATERAL (SELECT COALESCE(ST_PointOnSurface(c.geom),
                              (SELECT ST_Centroid(ST_Collect(b.geom)) FROM buildings b WHERE b.compound_id = c.id))
                      AS g) AS p
 WHERE n.text IS NOT NULL AND n.text <> '' AND p.g IS NOT NULL
UNION ALL
SELECT 'area', a.id, a.name, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom))
  FROM admin_areas a WHERE a.geom IS NOT NULL
"""


def build_gazetteer(conn: Connection) -> int:
    """Refill ``gazetteer`` from buildings, compounds and areas; returns the number of names written."""
    rows = pd.DataFrame(conn.execute(text(SOURCES_SQL)).all(), columns=["kind", "ref_id", "text", "x", "y"])
    conn.execute(text("TRUNCATE gazetteer"))
    if rows.empty:
        return 0
    rows["text"] = rows["text"].str.slice(0, 300)
    rows["norm"] = rows["text"].map(normalise).str.slice(0, 300)
    rows = rows[rows["norm"] != ""].drop_duplicates(["kind", "ref_id", "norm"]).reset_index(drop=True)
    frame = pd.DataFrame({
        "id": np.arange(1, len(rows) + 1, dtype=np.int64),
        "kind": rows["kind"], "ref_id": rows["ref_id"], "text": rows["text"], "norm": rows["norm"],
        "geom": shapely.points(rows["x"].to_numpy(float), rows["y"].to_numpy(float)),
    })
    copy_frame(conn, "gazetteer", frame)
    conn.execute(text("ANALYZE gazetteer"))
    return len(frame)


@dataclass(frozen=True)
class Candidate:
    kind: str
    ref_id: int
    address: str
    score: float
    lon: float
    lat: float


# Exact normalised matches first, then trigram similarity; the % operator uses the GIN index. A name found
# whole inside a longer query (王平巴蜀花园3栋 holds 巴蜀花园3栋) ranks by word similarity, slightly discounted.
SEARCH_SQL = text("""
SELECT kind, ref_id, text, score, ST_X(geom) AS lon, ST_Y(geom) AS lat
  FROM (SELECT *, CASE WHEN norm = :q THEN 1.0
                       ELSE greatest(similarity(norm, :q),
                                     CASE WHEN length(norm) >= 4 THEN 0.9 * word_similarity(norm, :q) ELSE 0 END)
                  END AS score
          FROM gazetteer WHERE (norm = :q OR norm % :q) AND geom IS NOT NULL) t
 ORDER BY score DESC, length(norm) DESC, kind, ref_id
 LIMIT :limit
""")


def search(conn: Connection, query: str, limit: int = 5) -> list[Candidate]:
    """Best gazetteer names for a free-text address, best first (empty when nothing is similar enough)."""
    q = normalise(query)
    if not q:
        return []
    rows = conn.execute(SEARCH_SQL, {"q": q, "limit": limit}).all()
    return [Candidate(r.kind, r.ref_id, r.text, round(float(r.score), 3), r.lon, r.lat) for r in rows]
