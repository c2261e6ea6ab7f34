"""The gazetteer: every name a caller may type (building address, compound + building, compound, area),
normalised once by :mod:`geogrid.address` and searched with PostgreSQL trigram similarity (GIN index).

Rebuilt in bulk by :func:`build_gazetteer` (a pipeline step) and read by :func:`search`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import Connection, text

from geogrid import address
from geogrid.address import normalise, normalise_many
from geogrid.db.bulk import copy_rows

# One row per name: kind, ref_id, text, geom, and ``pref`` (which text wins when two normalise alike: the
# address, then the name). Compound + number gives 巴蜀花园3栋 for a building.
SOURCES_SQL = """
SELECT 'building' AS kind, b.id AS ref_id, left(b.address, 300) AS text, b.geom, 1 AS pref
  FROM buildings b WHERE b.address IS NOT NULL AND b.address <> ''
UNION ALL
SELECT 'building', b.id, left(b.name, 300), b.geom, 2
  FROM buildings b WHERE b.name IS NOT NULL AND b.name <> ''
UNION ALL
SELECT 'building', b.id, left(c.name || b.number || CASE WHEN b.number ~ '^[0-9]+$' THEN '栋' ELSE '' END, 300),
       b.geom, 3
  FROM buildings b JOIN compounds c ON c.id = b.compound_id WHERE b.number IS NOT NULL AND b.number <> ''
UNION ALL
SELECT 'compound', c.id, left(n.text, 300), p.g, n.pref
  FROM compounds c
  LEFT JOIN (SELECT compound_id, ST_Centroid(ST_Collect(geom)) AS g FROM buildings
              WHERE compound_id IS NOT NULL GROUP BY compound_id) m ON m.compound_id = c.id
  CROSS JOIN LATERAL (VALUES (c.name, 1), (c.address, 2)) AS n(text, pref)
  CROSS JOIN LATERAL (SELECT COALESCE(ST_PointOnSurface(c.geom), m.g) AS g) AS p
 WHERE n.text IS NOT NULL AND n.text <> '' AND p.g IS NOT NULL
UNION ALL
SELECT 'area', a.id, left(a.name, 300), ST_PointOnSurface(a.geom), 1
  FROM admin_areas a WHERE a.geom IS NOT NULL
UNION ALL
SELECT p.kind, p.id, left(n.text, 300), p.geom, n.pref
  FROM address_points p
 CROSS JOIN LATERAL (VALUES (p.text, 1), (p.road || p.door, 2), (p.compound || p.building, 3)) AS n(text, pref)
 WHERE n.text IS NOT NULL AND n.text <> ''
UNION ALL
SELECT 'place', p.id, left(n.text, 300), p.geom, n.pref
  FROM address_points p
 CROSS JOIN LATERAL (SELECT p.name, 1 UNION ALL SELECT unnest(p.aliases), 2) AS n(text, pref)
 WHERE p.kind <> 'address_book' AND n.text IS NOT NULL AND n.text <> ''
UNION ALL
SELECT 'road', r.id, left(n.text, 300), ST_ClosestPoint(r.geom, ST_Centroid(r.geom)), n.pref
  FROM roads r CROSS JOIN LATERAL (SELECT r.name, 1 UNION ALL SELECT unnest(r.aliases), 2) AS n(text, pref)
 WHERE n.text IS NOT NULL AND n.text <> ''
"""

# Every source name once with its normal form, then one row per (kind, ref_id, norm), the preferred text kept.
FILL_SQL = """
INSERT INTO gazetteer (id, kind, ref_id, text, norm, geom, road, number, door_prefix, door_sub)
SELECT row_number() OVER (), kind, ref_id, text, norm, geom, road, number, door_prefix, door_sub
  FROM (SELECT DISTINCT ON (s.kind, s.ref_id, n.norm) s.kind, s.ref_id, s.text, n.norm, s.geom, s.pref,
               n.road, n.number, n.door_prefix, n.door_sub
          FROM gazetteer_sources s JOIN address_norms n ON n.text = s.text
         WHERE n.norm <> ''
         ORDER BY s.kind, s.ref_id, n.norm, s.pref) t
"""

INDEX_SQL = "CREATE INDEX ix_gazetteer_norm_trgm ON gazetteer USING gin (norm gin_trgm_ops)"

# Names whose normal form is not kept yet (``address_norms``), and kept forms no name uses any more.
NEW_NAMES_SQL = """
SELECT DISTINCT s.text FROM gazetteer_sources s
 WHERE NOT EXISTS (SELECT 1 FROM address_norms n WHERE n.text = s.text)
"""
PRUNE_SQL = "DELETE FROM address_norms n WHERE NOT EXISTS (SELECT 1 FROM gazetteer_sources s WHERE s.text = n.text)"


@lru_cache(maxsize=1)
def normaliser_stamp() -> str:
    """What the normal forms depend on: geogrid/address.py as written and the jionlp and OpenCC releases."""
    code = hashlib.sha256(Path(address.__file__).read_bytes()).hexdigest()[:16]
    return f"normaliser {code} jionlp {version('jionlp')} opencc {version('opencc-python-reimplemented')}"


def build_gazetteer(conn: Connection) -> int:
    """Refill ``gazetteer`` from buildings, compounds and areas; returns the number of names written.

    Set-based: the names stay in PostgreSQL except each distinct text, which goes to Python once to be
    normalised and comes back by COPY; the trigram index is rebuilt once rather than grown row by row.
    Normalising is most of the work (45 s of a million buildings' names), so names seen before keep their
    normal form (``address_norms``) while the normaliser is unchanged (its stamp is that table's comment).
    """
    # Memory for this transaction's sort (one name per building and form) and index build, not spills to disk.
    conn.execute(text("SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'"))
    conn.execute(text(f"CREATE TEMP TABLE gazetteer_sources ON COMMIT DROP AS {SOURCES_SQL}"))
    if conn.scalar(text("SELECT obj_description('address_norms'::regclass, 'pg_class')")) != normaliser_stamp():
        conn.execute(text("TRUNCATE address_norms"))
    conn.execute(text(PRUNE_SQL))
    names = conn.execute(text(NEW_NAMES_SQL)).scalars().all()
    copy_rows(
        conn,
        "address_norms",
        ("text", "norm", "road", "number", "door_prefix", "door_sub"),
        (_norm_row(name, norm) for name, norm in zip(names, normalise_many(names), strict=True)),
    )
    conn.execute(text("ANALYZE gazetteer_sources; ANALYZE address_norms"))
    conn.execute(text("TRUNCATE gazetteer"))
    conn.execute(text("DROP INDEX IF EXISTS ix_gazetteer_norm_trgm"))
    written = conn.execute(text(FILL_SQL)).rowcount
    conn.execute(text(INDEX_SQL))
    conn.execute(text("DROP TABLE gazetteer_sources"))
    conn.execute(text("COMMENT ON TABLE address_norms IS " + _quote(normaliser_stamp())))
    conn.execute(text("ANALYZE gazetteer"))
    return written


def _norm_row(name: str, norm: str) -> tuple:
    """A name, its normal form and the door number read from it (None where it holds none)."""
    door = address.parse_door(norm)
    if door is None:
        return name, norm[:300], None, None, None, None
    return name, norm[:300], door.road[:200], door.number, door.prefix or None, door.sub


def _quote(value: str) -> str:
    """A SQL string literal (COMMENT takes no bind parameters)."""
    return "'" + value.replace("'", "''") + "'"


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
