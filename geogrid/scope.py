"""Which grids a question is about: the one :class:`Scope` every reader takes.

A scope is the whole city, or one place named by code or name: a district, a street, a community or a
grid. It is resolved once (:func:`resolve_scope`) into the ids of the grids in force under it and of the
communities they lie in; every per-grid reader (stats, export, the read API, maps, plan previews,
validation) then filters with :meth:`Scope.where` instead of deciding "which grids" again. A name shared
by several places (two communities called 新村) means all of them, as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geogrid.errors import NotFound
from geogrid.i18n import t

LEVELS = ("district", "street", "community", "grid")

# Matched areas and everything under them (any depth), then the grids in force of those communities.
_AREAS_SQL = """
WITH RECURSIVE hit AS (
    SELECT id, level FROM admin_areas
     WHERE (code = :ref OR name = :ref) AND level = ANY(CAST(:levels AS text[]))
), under AS (
    SELECT id, level FROM hit
    UNION SELECT a.id, a.level FROM admin_areas a JOIN under u ON a.parent_id = u.id
)
SELECT (SELECT array_agg(DISTINCT level) FROM hit) AS levels,
       (SELECT array_agg(id ORDER BY id) FROM under WHERE level = 'community') AS communities,
       (SELECT array_agg(g.id ORDER BY g.id) FROM grids g
         WHERE g.valid_to IS NULL AND g.community_id IN (SELECT id FROM under)) AS grids
"""
_GRID_SQL = """
SELECT array_agg(id ORDER BY id) AS grids,
       array_agg(DISTINCT community_id) FILTER (WHERE community_id IS NOT NULL) AS communities
  FROM grids WHERE code = :ref AND valid_to IS NULL
"""


@dataclass(frozen=True)
class Scope:
    """The grids a question is about, resolved: ``grid_ids``/``community_ids`` are None for the whole city."""

    ref: str | None = None  # what the user typed: a code or a name
    level: str = "city"  # city | district | street | community | grid (the highest matched)
    grid_ids: tuple[int, ...] | None = None
    community_ids: tuple[int, ...] | None = None

    @property
    def is_city(self) -> bool:
        return self.grid_ids is None

    def where(self, grid_id: str = "g.id") -> str:
        """SQL condition keeping the scope's grids (bind :meth:`params`)."""
        return f"(CAST(:scope_all AS boolean) OR {grid_id} = ANY(CAST(:scope_grids AS int[])))"

    def params(self) -> dict[str, Any]:
        return {"scope_all": self.grid_ids is None, "scope_grids": list(self.grid_ids or ())}


CITY = Scope()


def resolve_scope(conn: Connection, ref: str | None, levels: tuple[str, ...] = LEVELS) -> Scope:
    """The scope named by ``ref`` (a code or name of one of ``levels``; None = the whole city).

    Raises :class:`NotFound` (a 404, one CLI line) when nothing of those levels has that code or name.
    """
    if ref is None or ref == "":
        return CITY
    if "\x00" in ref or len(ref) > 200:  # PostgreSQL text cannot hold NUL; no code or name is that long
        raise NotFound(_unknown(ref.replace("\x00", ""), levels))
    areas = [lv for lv in levels if lv != "grid"]
    if areas:
        row = conn.execute(text(_AREAS_SQL), {"ref": ref, "levels": areas}).mappings().one()
        if row["levels"]:
            level = next(lv for lv in LEVELS if lv in row["levels"])
            return Scope(ref, level, tuple(row["grids"] or ()), tuple(row["communities"] or ()))
    if "grid" in levels:
        row = conn.execute(text(_GRID_SQL), {"ref": ref}).mappings().one()
        if row["grids"]:
            return Scope(ref, "grid", tuple(row["grids"]), tuple(row["communities"] or ()))
    raise NotFound(_unknown(ref, levels))


def _unknown(ref: str, levels: tuple[str, ...]) -> str:
    if levels == ("community",):
        return t("no community with code or name '{community}'", community=ref)
    if "grid" in levels:
        return t("no community, street, district or grid in force with code or name '{area}'", area=ref[:60])
    return t("no district, street or community with code or name '{area}'", area=ref[:60])
