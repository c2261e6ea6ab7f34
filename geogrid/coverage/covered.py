"""Per-building coverage stored once per service-area computation, so coverage reads need no geometry.

Testing a million buildings against the service areas takes seconds; it changes only when buildings or
service areas do. :func:`store_building_coverage` (a pipeline step after ``compute_service_areas``) tests
every building once against every stored area of a real facility (not a candidate) and writes, per covered
building, a bitmask of the (mode, minutes, kind) sets that cover it, packed into a few large values.
:func:`stored_covered` answers "covered for this mode, minutes and kind?" from them, or ``None`` when they
are stale or missing (database triggers log any change to buildings, service areas or facility kinds in
``building_coverage_changes``), in which case callers test the geometry with :func:`covered_mask`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_rows, fetch_geoms, fetch_points, query_frame

BITS_PER_WORD = 63  # bit 63 would make the int8 negative
BLOCK_RECORDS = 1_000_000  # (id, bits) records per stored value: 16 MB
RECORD = np.dtype([("id", "<i8"), ("bits", "<i8")])
POINTS_PER_CHUNK = 250_000  # buildings per STRtree: bounds the (area, building) pairs held at once

AREAS_SQL = """
SELECT sa.mode, sa.minutes, f.kind, ST_AsBinary(sa.geom)
FROM service_areas sa JOIN facilities f ON f.id = sa.facility_id
WHERE NOT f.candidate AND sa.geom IS NOT NULL
ORDER BY sa.mode, sa.minutes, f.kind, f.id
"""


def covered_mask(x: np.ndarray, y: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """True for each lon/lat point inside or on the edge of any of ``areas``.

    The tree holds the points and the areas are the queries: GEOS prepares each (large) area once and
    tests its candidate points against it, faster than testing each point against unprepared polygons.
    """
    out = np.zeros(len(x), dtype=bool)
    areas = np.asarray(areas, dtype=object)
    areas = areas[~shapely.is_missing(areas)] if len(areas) else areas
    if len(x) and len(areas):
        _, hit = shapely.STRtree(shapely.points(x, y)).query(areas, predicate="intersects")
        out[hit] = True
    return out


def _covering_bits(x: np.ndarray, y: np.ndarray, areas: np.ndarray, combo: np.ndarray, words: int) -> np.ndarray:
    """(points, words) int64 bitmasks: bit ``combo % 63`` of word ``combo // 63`` set where an area covers."""
    out = np.zeros((len(x), words), dtype=np.int64)
    if not len(areas):
        return out
    for start in range(0, len(x), POINTS_PER_CHUNK):
        stop = min(start + POINTS_PER_CHUNK, len(x))
        tree = shapely.STRtree(shapely.points(x[start:stop], y[start:stop]))
        area_idx, point_idx = tree.query(areas, predicate="intersects")
        c = combo[area_idx]
        np.bitwise_or.at(out, (start + point_idx, c // BITS_PER_WORD), np.int64(1) << (c % BITS_PER_WORD))
    return out


def store_building_coverage(conn: Connection) -> int:
    """Recompute and store which service-area sets cover each building; returns covered (building, word) pairs.

    Buildings, facilities and service areas are locked against writes for the computation, so what is
    stored describes exactly the data it was computed from (a write after commit marks it stale again).
    """
    conn.execute(text("LOCK TABLE buildings, facilities, service_areas IN SHARE MODE"))
    conn.execute(text("TRUNCATE building_coverage"))
    conn.execute(text("DELETE FROM building_coverage_sets"))
    conn.execute(text("DELETE FROM building_coverage_changes"))  # all committed or ours: writers wait on the lock
    areas = fetch_geoms(conn, AREAS_SQL)
    if areas.empty:  # nothing can be covered; readers find no sets and compute (trivially) on the fly
        return 0
    sets = areas[["mode", "minutes", "kind"]].drop_duplicates().reset_index(drop=True)
    sets["index"] = np.arange(len(sets))
    combo = areas.merge(sets, on=["mode", "minutes", "kind"], how="left")["index"].to_numpy()
    words = (len(sets) + BITS_PER_WORD - 1) // BITS_PER_WORD
    pts = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM buildings ORDER BY id")
    bits = _covering_bits(pts["x"].to_numpy(), pts["y"].to_numpy(), areas["geom"].to_numpy(), combo, words)
    blocks = list(_blocks(pts["id"].to_numpy(), bits))
    if blocks:
        conn.execute(text("INSERT INTO building_coverage (word, lo, hi, data) VALUES (:word, :lo, :hi, :data)"), blocks)
    copy_rows(
        conn,
        "building_coverage_sets",
        ["mode", "minutes", "kind", "word", "bit"],
        (
            (m, int(mi), k, int(i) // BITS_PER_WORD, int(i) % BITS_PER_WORD)
            for m, mi, k, i in sets.itertuples(index=False, name=None)
        ),
    )
    return int(np.count_nonzero(bits))


def _blocks(ids: np.ndarray, bits: np.ndarray) -> Iterator[dict]:
    """Rows of ``building_coverage``: per word, the covered buildings' packed records in id order."""
    for word in range(bits.shape[1]):
        sel = np.flatnonzero(bits[:, word])
        records = np.empty(len(sel), dtype=RECORD)
        records["id"], records["bits"] = ids[sel], bits[sel, word]
        for start in range(0, len(records), BLOCK_RECORDS):
            part = records[start : start + BLOCK_RECORDS]
            yield {"word": word, "lo": int(part["id"][0]), "hi": int(part["id"][-1]), "data": part.tobytes()}


READ_SQL = """
WITH n AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM building_coverage_changes) THEN 0 ELSE count(*) END AS sets
    FROM building_coverage_sets
),
m AS (
    SELECT word, bit_or(1::int8 << bit) AS mask FROM building_coverage_sets
    WHERE mode = :mode AND minutes = :minutes AND (CAST(:kind AS text) IS NULL OR kind = :kind) GROUP BY word
)
SELECT n.sets, b.mask, b.data FROM n LEFT JOIN (
    SELECT m.mask, c.data FROM m JOIN building_coverage c ON c.word = m.word AND c.hi >= :lo AND c.lo <= :hi
) b ON true
"""


def stored_covered(
    conn: Connection, ids: np.ndarray, mode: str, minutes: int, kind: str | None = None
) -> np.ndarray | None:
    """Covered flags of buildings ``ids`` for the mode, minutes and kind (``None``: any), or ``None`` if stale.

    One statement reads the freshness marker (how many sets are stored) and the covered buildings
    together, so both come from the same snapshot even while coverage is being recomputed.
    """
    ids = np.asarray(ids, dtype=np.int64)
    lo, hi = (int(ids.min()), int(ids.max())) if len(ids) else (0, -1)
    rows = conn.execute(text(READ_SQL), {"mode": mode, "minutes": int(minutes), "kind": kind, "lo": lo, "hi": hi}).all()
    if rows[0].sets == 0:
        return None
    hits = [np.empty(0, dtype=np.int64)]
    for row in rows:
        if row.data is not None:
            records = np.frombuffer(row.data, dtype=RECORD)
            hits.append(records["id"][(records["bits"] & row.mask) != 0])
    return np.isin(ids, np.concatenate(hits))


def has_stored(conn: Connection) -> bool:
    """True when stored coverage describes the current buildings and service areas."""
    return bool(
        conn.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM building_coverage_sets) "
                "AND NOT EXISTS (SELECT 1 FROM building_coverage_changes)"
            )
        )
    )


def coverage_sets(conn: Connection) -> pd.DataFrame:
    """The stored (mode, minutes, kind) sets, for inspection and tests (see :func:`has_stored` for freshness)."""
    return query_frame(
        conn, "SELECT mode, minutes, kind, word, bit, computed_at FROM building_coverage_sets ORDER BY word, bit"
    )


def covered_column(
    conn: Connection,
    frame: pd.DataFrame,
    mode: str,
    minutes: int,
    kind: str | None,
    areas: Callable[[], np.ndarray],
    use_stored: bool = True,
) -> np.ndarray:
    """Coverage of the buildings in ``frame`` (``id, x, y``): stored when fresh, else tested against ``areas()``."""
    covered = stored_covered(conn, frame["id"].to_numpy(), mode, minutes, kind) if use_stored else None
    if covered is None:
        covered = covered_mask(frame["x"].to_numpy(), frame["y"].to_numpy(), areas())
    return covered
