"""Fast bulk writes with PostgreSQL ``COPY``: the one way geogrid writes many rows.

Importers, the demo city, the walking network and assignment all write hundreds of thousands of rows;
``COPY`` is an order of magnitude faster than ``INSERT`` and runs inside the caller's transaction, so an
import that fails half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.model import SRID


def ewkb_hex(geoms: Sequence | np.ndarray, srid: int = SRID) -> np.ndarray:
    """Hex EWKB (with SRID) of Shapely geometries, vectorised; ``None`` stays ``None``."""
    arr = np.asarray(geoms, dtype=object)
    return shapely.to_wkb(shapely.set_srid(arr, srid), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows (tuples in ``columns`` order) into ``table`` on the connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame, geometry: Sequence[str] = ("geom",)) -> int:
    """COPY a DataFrame into ``table``: its columns are the table's, Shapely columns named in ``geometry``."""
    frame = frame.copy()
    for col in geometry:
        if col in frame:
            frame[col] = ewkb_hex(frame[col].to_numpy())
    frame = frame.astype(object).where(frame.notna(), None)
    return copy_rows(conn, table, list(frame.columns), frame.itertuples(index=False, name=None))


def reset_sequence(conn: Connection, table: str, column: str = "id") -> None:
    """Move a table's id sequence past the ids that COPY wrote explicitly."""
    conn.execute(text(
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
        f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)"
    ))


def next_ids(conn: Connection, table: str, count: int, column: str = "id") -> np.ndarray:
    """Reserve ``count`` consecutive ids from a table's sequence, for rows written by COPY."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    seq = conn.scalar(text(f"SELECT pg_get_serial_sequence('{table}', '{column}')"))
    first = conn.scalar(text("SELECT nextval(:s)"), {"s": seq})
    conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": first + count - 1})
    return np.arange(first, first + count, dtype=np.int64)


def fetch_points(conn: Connection, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Run ``sql`` selecting ``id, x, y`` and return it as a DataFrame, streamed with COPY (fast at 1M rows)."""
    import io

    rendered = _render(conn, sql, params)
    buf = io.BytesIO()
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY ({rendered}) TO STDOUT") as copy:
        for block in copy:
            buf.write(block)
    buf.seek(0)
    return pd.read_csv(buf, sep="\t", header=None, names=["id", "x", "y"], dtype={"id": "int64"})


def fetch_geoms(conn: Connection, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Run ``sql`` whose last column is ``ST_AsBinary(geom)``; return a DataFrame with Shapely ``geom``."""
    result = conn.execute(text(sql), params or {})
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    if frame.empty:
        frame["geom"] = pd.Series(dtype=object)
        return frame
    wkb_col = frame.columns[-1]
    geoms = shapely.from_wkb(np.asarray([bytes(b) if b is not None else None for b in frame[wkb_col]], dtype=object))
    frame = frame.drop(columns=[wkb_col])
    frame["geom"] = geoms
    return frame


def _render(conn: Connection, sql: str, params: dict | None) -> str:
    """Inline bound parameters (COPY cannot take them); values are quoted by the driver."""
    if not params:
        return sql
    from psycopg import sql as psql

    raw = conn.connection.driver_connection
    out = sql
    for key, value in params.items():
        out = out.replace(f":{key}", psql.Literal(value).as_string(raw))
    return out
