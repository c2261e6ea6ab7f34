"""History of a grid (every version, its author and its lineage) and revert, which is itself a new version."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from geogrid.errors import NotFound
from geogrid.i18n import t
from geogrid.planning.apply import apply_plan
from geogrid.planning.preview import create_plan

VERSIONS_SQL = """
SELECT version, name, kind, valid_from, valid_to, author, change_id, note,
       round(ST_Area(geom::geography)::numeric, 1) AS area_m2, ST_AsGeoJSON(geom) AS geometry
FROM grid_versions WHERE grid_id = :g ORDER BY version
"""


def _lineage(conn: Connection, grid_id: int) -> dict[str, list[str]]:
    parents = conn.scalars(
        text(
            "SELECT g.code FROM grid_lineage l JOIN grids g ON g.id = l.parent_id WHERE l.child_id = :g ORDER BY g.code"
        ),
        {"g": grid_id},
    ).all()
    children = conn.scalars(
        text(
            "SELECT g.code FROM grid_lineage l JOIN grids g ON g.id = l.child_id WHERE l.parent_id = :g ORDER BY g.code"
        ),
        {"g": grid_id},
    ).all()
    return {"parents": list(parents), "children": list(children)}


def history(conn: Connection, code: str) -> dict:
    """Every version of a grid, oldest first; a grid never edited shows its one version from ``grids``."""
    grid = (
        conn.execute(
            text(
                "SELECT id, code, name, kind, version, valid_from, valid_to, author, "
                "round(ST_Area(geom::geography)::numeric, 1) AS area_m2, ST_AsGeoJSON(geom) AS geometry "
                "FROM grids WHERE code = :c"
            ),
            {"c": code},
        )
        .mappings()
        .first()
    )
    if grid is None:
        raise NotFound(t("no grid with code {code}", code=code))

    versions = [dict(r) for r in conn.execute(text(VERSIONS_SQL), {"g": grid["id"]}).mappings()]
    if not any(v["version"] == grid["version"] for v in versions):
        versions.append(
            {
                "version": grid["version"],
                "name": grid["name"],
                "kind": grid["kind"],
                "valid_from": grid["valid_from"],
                "valid_to": grid["valid_to"],
                "author": grid["author"],
                "change_id": None,
                "note": None,
                "area_m2": grid["area_m2"],
                "geometry": grid["geometry"],
            }
        )
    for v in versions:
        v["area_m2"] = float(v["area_m2"]) if v["area_m2"] is not None else None
        v["geometry"] = json.loads(v["geometry"]) if v["geometry"] else None
    return {
        "code": grid["code"],
        "current_version": grid["version"],
        "status": "retired" if grid["valid_to"] else "in force",
        **_lineage(conn, grid["id"]),
        "versions": versions,
    }


def revert(conn: Connection, code: str, to_version: int, author: str | None = None) -> dict:
    """Give a grid the boundary (and name, kind) of an earlier version, as a new version via a plan.

    Neighbours lose what the old boundary takes back, as in a redraw; the plan records the revert.
    """
    plan = create_plan(conn, [{"op": "revert", "grid": code, "to_version": int(to_version)}], author=author)
    return {**apply_plan(conn, plan["plan"], author), "reverted_to": int(to_version)}
