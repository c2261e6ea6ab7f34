"""Scope: the streets and communities an account may change. A planner of community A cannot touch B's grids."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geogrid.accounts.store import Principal
from geogrid.errors import Forbidden
from geogrid.i18n import t


def grid_areas(conn: Connection, codes: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """``{grid code: (community code, street code)}`` for grids by code (retired ones too)."""
    rows = conn.execute(
        text(
            "SELECT g.code, c.code AS community, s.code AS street FROM grids g "
            "LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN admin_areas s ON s.id = c.parent_id "
            "WHERE g.code = ANY(:codes)"
        ),
        {"codes": list(codes)},
    ).all()
    return {r.code: (r.community, r.street) for r in rows}


def check_grids(conn: Connection, who: Principal, codes: list[str]) -> str | None:
    """Raise 403 naming the first grid outside the account's areas; returns the community of the grids."""
    areas = grid_areas(conn, codes)
    for code in sorted(codes):
        community, street = areas.get(code, (None, None))
        if who.role != "admin" and not ({community, street} & set(who.areas)):
            raise Forbidden(
                t(
                    "grid {grid} (community {community}) is outside the areas granted to {name}",
                    grid=code,
                    community=community or "-",
                    name=who.name,
                )
            )
    found = sorted({a[0] for a in areas.values() if a[0]})
    return found[0] if len(found) == 1 else None


def plan_grids(preview: dict) -> list[str]:
    """Grid codes a plan changes: those it redraws, retires or restores, and those buildings move between."""
    codes = {g["code"] for g in preview.get("grids", []) if g.get("status") != "new"}
    for kind in ("buildings", "facilities"):
        for item in preview.get("moved", {}).get(kind, []):
            codes.update(c for c in (item.get("from"), item.get("to")) if c)
    return sorted(codes)
