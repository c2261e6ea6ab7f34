"""Write imported rows by COPY into a temporary table, then update-or-insert by a key in two statements.

Re-importing a file updates the rows it wrote before (matched by source id or code) instead of
duplicating them, and rows that reference them (households, assignments) stay attached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_frame
from geogrid.i18n import Text, join, t

CHUNK = 50_000


def stage(conn: Connection, table: str, frame: pd.DataFrame, geometry: Sequence[str] = ("geom",),
          tick: Callable[[int], None] | None = None) -> str:
    """COPY ``frame`` into a temporary copy of ``table`` (dropped at commit); returns its name."""
    temp = f"import_{table}"
    conn.execute(text(f"DROP TABLE IF EXISTS {temp}; "
                      f"CREATE TEMP TABLE {temp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start:start + CHUNK]
        copy_frame(conn, temp, chunk, geometry=geometry)
        if tick:
            tick(len(chunk))
    return temp


def merge(conn: Connection, table: str, temp: str, key: str, columns: Sequence[str]) -> tuple[int, int]:
    """Update rows of ``table`` whose ``key`` is in ``temp``, insert the others; returns (updated, inserted)."""
    sets = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
    cols = ", ".join(columns)
    updated = conn.execute(text(f"UPDATE {table} t SET {sets} FROM {temp} s WHERE t.{key} = s.{key}")).rowcount
    inserted = conn.execute(text(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})"
    )).rowcount
    return updated, inserted


class ImportReport:
    """What an import did, for the CLI to print; ``what`` is a translated name such as ``t("buildings")``."""

    def __init__(self, what: str, rows: int, updated: int = 0, inserted: int = 0, **extra: int) -> None:
        self.what, self.rows, self.updated, self.inserted, self.extra = what, rows, updated, inserted, extra

    def __str__(self) -> str:
        parts = [t("{rows:,} rows read, {inserted:,} new, {updated:,} updated", rows=self.rows,
                   inserted=self.inserted, updated=self.updated)] if self.rows else []
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
    }
    return known[key]() if key in known else Text(f"{n:,} {key.replace('_', ' ')}")

