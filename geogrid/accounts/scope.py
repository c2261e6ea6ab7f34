"""Scope: the streets, communities or grids an account may act in. A planner of community A cannot touch B's grids;
a grid worker granted their grid's code reads that grid only."""

from __future__ import annotations

import json
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geogrid.accounts.store import Principal
from geogrid.errors import Forbidden
from geogrid.i18n import t


class GridArea(NamedTuple):
    """The community and street codes a grid lies in (either may be unknown)."""

    community: str | None
    street: str | None


NOWHERE = GridArea(None, None)


def grid_areas(conn: Connection, codes: list[str]) -> dict[str, GridArea]:
    """``{grid code: (community code, street code)}`` for grids by code (retired ones too)."""
    rows = conn.execute(
        text(
            "SELECT g.code, c.code AS community, s.code AS street FROM grids g "
            "LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN admin_areas s ON s.id = c.parent_id "
            "WHERE g.code = ANY(:codes)"
        ),
        {"codes": list(codes)},
    ).all()
    return {r.code: GridArea(r.community, r.street) for r in rows}


def new_grid_areas(conn: Connection, preview: dict) -> dict[str, GridArea]:
    """``{provisional code: (community, street)}`` for the grids a plan creates, by where each one lies."""
    new = {g["code"] for g in preview.get("grids", []) if g.get("status") == "new"}
    features = [
        f for f in preview.get("geometry", {}).get("after", {}).get("features", []) if f["properties"]["code"] in new
    ]
    out: dict[str, GridArea] = {}
    for f in features:
        row = conn.execute(
            text(
                "SELECT c.code AS community, s.code AS street FROM admin_areas c "
                "LEFT JOIN admin_areas s ON s.id = c.parent_id WHERE c.level = 'community' "
                "AND ST_Intersects(c.geom, ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))) LIMIT 1"
            ),
            {"g": json.dumps(f["geometry"])},
        ).first()
        out[f["properties"]["code"]] = GridArea(row.community, row.street) if row else NOWHERE
    return out


def check_plan(conn: Connection, who: Principal, preview: dict) -> str | None:
    """403 naming the first grid (existing, or new by where it lies) outside the account's areas."""
    return check_grids(conn, who, plan_grids(preview), new_grid_areas(conn, preview))


def check_grids(
    conn: Connection, who: Principal, codes: list[str], extra: dict[str, GridArea] | None = None
) -> str | None:
    """Raise 403 naming the first grid outside the account's areas; returns the community of the grids."""
    areas = {**grid_areas(conn, codes), **(extra or {})}
    codes = [*codes, *(extra or {})]
    for code in sorted(codes):
        community, street = areas.get(code, NOWHERE)
        if who.role != "admin" and not ({code, community, street} & set(who.areas)):
            raise Forbidden(
                t(
                    "grid {grid} (community {community}) is outside the areas granted to {name}",
                    grid=code,
                    community=community or "-",
                    name=who.name,
                )
            )
    found = sorted({a.community for a in areas.values() if a.community})
    return found[0] if len(found) == 1 else None


def plan_grids(preview: dict) -> list[str]:
    """Grid codes a plan changes: those it redraws, retires or restores, and those buildings move between."""
    grids = preview.get("grids", [])
    codes = {g["code"] for g in grids if g.get("status") != "new"}
    new = {g["code"] for g in grids if g.get("status") == "new"}  # provisional codes, inside a touched grid's area
    for kind in ("buildings", "facilities"):
        for item in preview.get("moved", {}).get(kind, []):
            codes.update(c for c in (item.get("from"), item.get("to")) if c and c not in new)
    return sorted(codes)


def check_community(conn: Connection, who: Principal, community: str) -> str | None:
    """Raise 403 unless the account may change this community (by code or name); returns its code."""
    row = conn.execute(
        text(
            "SELECT c.code, s.code AS street FROM admin_areas c LEFT JOIN admin_areas s ON s.id = c.parent_id "
            "WHERE c.level = 'community' AND (c.code = :c OR c.name = :c) ORDER BY c.id LIMIT 1"
        ),
        {"c": community},
    ).first()
    if row is None or who.role == "admin" or {row.code, row.street} & set(who.areas):
        return row.code if row else None
    raise Forbidden(
        t("community {community} is outside the areas granted to {name}", community=row.code, name=who.name)
    )


def check_area(conn: Connection, who: Principal, area: str) -> None:
    """Raise 403 unless the account may change this street or community (by code or name): its own code, or
    its street's, is granted. An unknown area is outside every grant (an admin then gets the 404 further on)."""
    if who.role == "admin":
        return
    codes = set(
        conn.scalars(
            text(
                "SELECT unnest(ARRAY[a.code, p.code]) FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id "
                "WHERE a.level IN ('street', 'community') AND (a.code = :c OR a.name = :c)"
            ),
            {"c": area},
        )
    )
    if not codes & set(who.areas):
        raise Forbidden(t("area {area} is outside the areas granted to {name}", area=area, name=who.name))
