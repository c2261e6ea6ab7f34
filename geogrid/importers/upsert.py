"""Write imported rows by COPY into a temporary table, then update-or-insert by a key in two statements.

Re-importing a file updates the rows it wrote before (matched by source id or code) instead of
duplicating them, and rows that reference them (households, assignments) stay attached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_frame
from geogrid.errors import InputError
from geogrid.i18n import Text, join, t
from geogrid.importers.read import Source

CHUNK = 50_000


def stage(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    geometry: Sequence[str] = ("geom",),
    tick: Callable[[int], None] | None = None,
    source: Source | None = None,
) -> str:
    """COPY ``frame`` into a temporary copy of ``table`` (dropped at commit); returns its name.

    Values that the table cannot hold are refused first, naming the row (of ``source``) and the field.
    """
    check_fits(frame, table, source)
    temp = f"import_{table}"
    conn.execute(
        text(f"DROP TABLE IF EXISTS {temp}; CREATE TEMP TABLE {temp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    )
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start : start + CHUNK]
        copy_frame(conn, temp, chunk, geometry=geometry)
        if tick:
            tick(len(chunk))
    return temp


INT_RANGE = {"SmallInteger": 2**15 - 1, "Integer": 2**31 - 1, "BigInteger": 2**63 - 1}


def check_fits(frame: pd.DataFrame, table: str, source: Source | None = None) -> None:
    """Refuse, before COPY, a text longer than its column or a number beyond its column's integer type.

    Row ``i`` of ``frame`` (its index label) is record ``i`` of ``source``. The message names the row and the field,
    never the value (an address, a phone number or an ID number is personal data); before this check, an address
    of 301 characters or households = 2³¹ ended in a database traceback that printed the row.
    """
    from geogrid.model import Base

    columns = Base.metadata.tables[table].columns
    for name in frame.columns:
        if name not in columns:
            continue
        kind = columns[name].type
        values = frame[name]
        length = getattr(kind, "length", None)
        if length:
            bad = values.map(lambda v, n=length: isinstance(v, str) and len(v) > n).to_numpy(dtype=bool)
            message = t("longer than {n} characters", n=length)
        elif type(kind).__name__ in INT_RANGE:
            high = INT_RANGE[type(kind).__name__]
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            bad = np.abs(np.nan_to_num(numbers)) > high
            message = t("out of range: at most {n:,}", n=high)
        else:
            continue
        hits = np.flatnonzero(bad)
        if len(hits):
            row = int(frame.index[hits[0]])
            if source is not None:
                source.fail(row, message, name)
            raise InputError(message, row=row + 1, field=name)


def merge(
    conn: Connection,
    table: str,
    temp: str,
    key: str,
    columns: Sequence[str],
    update: Sequence[str] | None = None,
    keep_existing: Sequence[str] = (),
) -> tuple[int, int]:
    """Update rows of ``table`` whose ``key`` is in ``temp``, insert the others; returns (updated, inserted).

    Only the ``update`` columns (default: all) of a matched row change: a re-import updates what its file carries
    and keeps the rest (a file of source ids and households once set 419 names to NULL). A column in
    ``keep_existing`` keeps the stored value where the file has none (OpenStreetMap's missing names).
    New rows take every column.
    """
    update = [c for c in (columns if update is None else update) if c != key]
    sets = ", ".join(f"{c} = coalesce(s.{c}, t.{c})" if c in keep_existing else f"{c} = s.{c}" for c in update)
    matched = f"FROM {temp} s WHERE t.{key} = s.{key}"
    updated = (
        conn.execute(text(f"UPDATE {table} t SET {sets} {matched}")).rowcount
        if sets
        else conn.scalar(text(f"SELECT count(*) FROM {table} t WHERE EXISTS (SELECT 1 {matched})"))
    )
    cols = ", ".join(columns)
    inserted = conn.execute(
        text(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})"
        )
    ).rowcount
    return updated, inserted


def kept(conn: Connection, table: str, temp: str, key: str) -> int:
    """Rows of ``table`` the file does not mention (kept as they are)."""
    return int(
        conn.scalar(
            text(f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {temp} s WHERE s.{key} = t.{key})")
        )
    )


class ImportReport:
    """What an import did, for the CLI to print; ``what`` is a translated name such as ``t("buildings")``."""

    def __init__(self, what: str, rows: int, updated: int = 0, inserted: int = 0, **extra: int) -> None:
        self.what, self.rows, self.updated, self.inserted, self.extra = what, rows, updated, inserted, extra
        self.columns: list[str] | None = None  # the columns a re-import updated (None: not said)
        self.replaced = False

    def __str__(self) -> str:
        parts = (
            [
                t(
                    "{rows:,} rows read, {inserted:,} new, {updated:,} updated",
                    rows=self.rows,
                    inserted=self.inserted,
                    updated=self.updated,
                )
            ]
            if self.rows
            else []
        )
        if self.columns is not None:  # which columns of the updated rows changed
            parts.append(
                t("all columns replaced (--replace)")
                if self.replaced
                else t("updated columns: {columns}", columns=", ".join(self.columns) or "-")
            )
        parts += [_extra(k, v) for k, v in self.extra.items()]
        return t("{what}: {done}", what=self.what, done=join(parts, zh="，") if parts else t("nothing"))


def _extra(key: str, n: int) -> Text:
    """One extra count of a report, e.g. ``12 new households``; an unknown key reads as its words."""
    known = {
        "linked_to_parent": lambda: t("{n:,} linked to parent", n=n),
        "new_households": lambda: t("{n:,} new households", n=n),
        "with_personal_data": lambda: t("{n:,} with personal data", n=n),
        "with_footprint": lambda: t("{n:,} with footprint", n=n),
        "with_door_number": lambda: t("{n:,} with door number", n=n),
        "new_boundaries": lambda: t("{n:,} new boundaries", n=n),
        "other_pois_skipped": lambda: t("{n:,} other POIs skipped", n=n),
        "nodes": lambda: t("{n:,} nodes", n=n),
        "edges": lambda: t("{n:,} edges", n=n),
        "phones": lambda: t("{n:,} phones", n=n),
        "new_staff": lambda: t("{n:,} new staff", n=n),
        "assignments_started": lambda: t("{n:,} assignments started", n=n),
        "assignments_ended": lambda: t("{n:,} assignments ended", n=n),
        "new_nodes": lambda: t("{n:,} new nodes", n=n),
        "new_edges": lambda: t("{n:,} new edges", n=n),
        "network_nodes": lambda: t("{n:,} nodes in all", n=n),
        "network_edges": lambda: t("{n:,} edges in all", n=n),
        "kept": lambda: t("{n:,} kept as they were (not in the file)", n=n),
        "estimated": lambda: t("{n:,} buildings with estimated households", n=n),
    }
    return known[key]() if key in known else Text(f"{n:,} {key.replace('_', ' ')}")
