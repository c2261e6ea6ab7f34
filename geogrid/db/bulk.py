"""Fast bulk writes with PostgreSQL ``COPY``: the one way geogrid writes many rows.

Importers, the demo city, the walking network and assignment all write hundreds of thousands of rows;
``COPY`` is an order of magnitude faster than ``INSERT`` and runs inside the caller's transaction, so an
import that fails half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from geogrid.model import SRID

CHUNK_ROWS = 200_000


def ewkb_hex(geoms: Sequence | np.ndarray, srid: int = SRID) -> np.ndarray:
    """Hex EWKB (with SRID) of Shapely geometries, vectorised; ``None`` stays ``None``."""
    arr = np.asarray(geoms, dtype=object)
    return shapely.to_wkb(shapely.set_srid(arr, srid), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows (tuples in ``columns`` order) into ``table`` on the connection's transaction."""
    cursor = _driver(conn).cursor()
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame, geometry: Sequence[str] = ("geom",)) -> int:
    """COPY a DataFrame into ``table``: its columns are the table's, Shapely columns named in ``geometry``.

    Streams CSV written by pandas (fast at a million rows); empty text is stored as NULL. Frames holding
    lists (PostgreSQL arrays) go row by row through psycopg, which adapts them.
    """
    frame = frame.copy()
    for col in geometry:
        if col in frame:
            frame[col] = ewkb_hex(frame[col].to_numpy())
    if any(frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, list | tuple)).any() for c in frame):
        frame = frame.astype(object).where(frame.notna(), None)
        return copy_rows(conn, table, list(frame.columns), frame.itertuples(index=False, name=None))
    cursor = _driver(conn).cursor()
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            copy.write(frame.iloc[start : start + CHUNK_ROWS].to_csv(header=False, index=False, na_rep=""))
    return len(frame)


def next_ids(conn: Connection, table: str, count: int, column: str = "id") -> np.ndarray:
    """Reserve ``count`` consecutive ids from a table's sequence, for rows written by COPY."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    seq = conn.scalar(text(f"SELECT pg_get_serial_sequence('{table}', '{column}')"))
    first = conn.scalar(text("SELECT nextval(:s)"), {"s": seq})
    conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": first + count - 1})
    return np.arange(first, first + count, dtype=np.int64)


# PostgreSQL's binary COPY format: a fixed header, then per row a field count and (length, value) pairs.
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_PG_TYPES = {"int8": ">i8", "int4": ">i4", "float8": ">f8"}


def binary_rows(columns: dict[str, tuple[str, np.ndarray]], nulls: dict[str, np.ndarray] | None = None) -> bytes:
    """Numeric arrays (``{column: (pg type, array)}``) as rows of PostgreSQL's binary COPY format.

    ``nulls``: a boolean mask per nullable column. Rows are grouped by which of their fields are NULL (a NULL is
    a length of -1 and no value), so each group is one fixed-width NumPy record array: no per-row Python.
    """
    n = len(next(iter(columns.values()))[1]) if columns else 0
    nulls = {name: np.asarray(mask, dtype=bool) for name, mask in (nulls or {}).items() if np.any(mask)}
    if not nulls:
        return _fixed_rows(columns, np.arange(n), ())
    keys = list(nulls)
    pattern = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(keys):
        pattern |= nulls[name].astype(np.int64) << bit
    return b"".join(
        _fixed_rows(columns, np.flatnonzero(pattern == p), [k for bit, k in enumerate(keys) if p >> bit & 1])
        for p in np.unique(pattern)
    )


def _fixed_rows(columns: dict[str, tuple[str, np.ndarray]], at: np.ndarray, null: Sequence[str]) -> bytes:
    fields: list[tuple[str, str]] = [("_n", ">i2")]
    for name, (pg, _) in columns.items():
        fields += [(f"_len_{name}", ">i4")] + ([] if name in null else [(name, _PG_TYPES[pg])])
    rows = np.empty(len(at), dtype=np.dtype(fields))
    rows["_n"] = len(columns)
    for name, (pg, values) in columns.items():
        rows[f"_len_{name}"] = -1 if name in null else np.dtype(_PG_TYPES[pg]).itemsize
        if name not in null:
            rows[name] = np.asarray(values)[at]
    return rows.tobytes()


def copy_binary(conn: Connection, table: str, columns: Sequence[str], chunks: Iterable[bytes]) -> None:
    """COPY chunks of :func:`binary_rows` into ``table``, each sent by a worker thread as soon as it is made.

    No text is formatted or parsed on either side: at a million rows several times faster than CSV.

    The server stores one chunk while the caller computes the next (``chunks`` may be a generator doing the
    work): on two cores the COPY and the computation overlap instead of following each other.
    """
    cursor = _driver(conn).cursor()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)"
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        copy.write(_PGCOPY_HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(b"\xff\xff")


def fetch_points(conn: Connection, sql: str) -> pd.DataFrame:
    """Run ``sql`` selecting ``id, x, y`` (any numeric types) and return them ordered by id, as a DataFrame.

    Packed into one value (:func:`fetch_packed`): at a million buildings that reads in half the time of a
    binary COPY, whose client handles one message per row. A value is at most 1 GB, ~44 million points.
    """
    fields = {
        "id": ("int8send(q.id::bigint)", ">i8"),
        "x": ("float8send(q.x::float8)", ">f8"),
        "y": ("float8send(q.y::float8)", ">f8"),
    }
    # Sorted here, not by the server: its sort took half the query's time; the rows usually arrive in order.
    frame = fetch_packed(conn, fields, f"FROM ({sql}) AS q(id, x, y)")
    ids = frame["id"].to_numpy()
    if len(ids) > 1 and not (ids[1:] >= ids[:-1]).all():
        frame = frame.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)
    return frame


# A row of fetch_point_table: the id (int8send, big-endian), then ST_AsBinary of a 2D point (little-endian WKB).
_ID_POINT_WKB = np.dtype([("id", ">i8"), ("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def fetch_point_table(conn: Connection, table: str, parts: int = 2) -> pd.DataFrame:
    """``id, x, y`` of every row of ``table`` (``id`` and a 2D point ``geom``), ordered by id.

    As :func:`fetch_points`, but the point arrives as WKB (one function call a row where ``ST_X``, ``ST_Y`` and
    two ``float8send`` took four: a third less server time) and the table is packed in ``parts`` page ranges,
    which PostgreSQL reads in parallel (a Parallel Append of TID range scans). Empty points are left out, as
    ``ST_X`` leaves them out of :func:`fetch_points`.
    """
    pages = conn.scalar(
        text("SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"), {"t": table}
    )
    cuts = [pages * i // parts for i in range(1, parts if pages >= 64 * parts else 1)]
    sql = " UNION ALL ".join(
        f"SELECT string_agg(int8send(id) || ST_AsBinary(geom, 'NDR'), ''::bytea) FROM {table} WHERE {_pages(lo, hi)}"
        for lo, hi in zip([0, *cuts], [*cuts, None], strict=True)
    )
    with _driver(conn).cursor(binary=True) as cursor:
        blob = b"".join(row[0] for row in cursor.execute(sql).fetchall() if row[0])
    rows = np.frombuffer(blob, dtype=_ID_POINT_WKB)
    if ((rows["order"] != 1) | (rows["kind"] != 1)).any():
        raise ValueError(f"{table}.geom holds geometries other than 2D points")
    rows = rows[~(np.isnan(rows["x"]) & np.isnan(rows["y"]))]  # POINT EMPTY
    order = np.argsort(rows["id"], kind="stable") if len(rows) > 1 and (np.diff(rows["id"]) < 0).any() else None
    if order is not None:
        rows = rows[order]
    return pd.DataFrame({name: rows[name].astype(rows.dtype[name].newbyteorder("=")) for name in ("id", "x", "y")})


def _pages(lo: int, hi: int | None) -> str:
    """A TID range condition: pages ``lo`` to ``hi`` (excluded; ``None``: to the end, rows added since too)."""
    return f"ctid >= '({lo},0)'" + (f" AND ctid < '({hi},0)'" if hi is not None else "")


def query_frame(conn: Connection, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Run ``sql`` and return its rows as a DataFrame with the query's column names."""
    result = conn.execute(text(sql), params or {})
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def fetch_geoms(conn: Connection, sql: str, params: dict | None = None, *, binary: bool = False) -> pd.DataFrame:
    """Run ``sql`` whose last column is ``ST_AsBinary(geom)``; return a DataFrame with Shapely ``geom``.

    ``binary``: read the rows in PostgreSQL's binary format (a query without parameters): WKB then arrives as
    bytes instead of hex text decoded on both sides, 3-5 times faster for 20,000 grids.
    """
    if binary:
        with _driver(conn).cursor(binary=True) as cursor:
            cursor.execute(sql)
            frame = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description or ()])
    else:
        frame = query_frame(conn, sql, params)
    if frame.empty:
        frame["geom"] = pd.Series(dtype=object)
        return frame
    wkb_col = frame.columns[-1]
    geoms = shapely.from_wkb(np.asarray([bytes(b) if b is not None else None for b in frame[wkb_col]], dtype=object))
    frame = frame.drop(columns=[wkb_col])
    frame["geom"] = geoms
    return frame


def fetch_packed(
    conn: Connection,
    fields: dict[str, tuple[str, str]],
    rest: str,
    params: dict | None = None,
    order: str | None = None,
) -> pd.DataFrame:
    """Columns (``{name: (SQL of a *send() value, NumPy type)}``) of ``SELECT ... {rest}`` as a DataFrame.

    PostgreSQL packs every row into one bytea (``string_agg``): a million rows arrive as one value, many
    times faster than fetching rows or COPY, which sends one message per row. Values must not be NULL (a row
    with one is left out). ``order``: the SQL the rows are packed in order of.
    """
    packed = " || ".join(sql for sql, _ in fields.values())
    ordered = f" ORDER BY {order}" if order else ""
    blob = conn.scalar(text(f"SELECT string_agg({packed}, ''::bytea{ordered}) {rest}"), params or {})
    rows = np.frombuffer(blob or b"", dtype=np.dtype([(name, kind) for name, (_, kind) in fields.items()]))
    return pd.DataFrame({name: rows[name].astype(rows.dtype[name].newbyteorder("=")) for name in fields})


def _driver(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one, for COPY."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a closed connection"
    return raw
