"""Boundary planning over HTTP: validation, plans (preview, apply), grid history and revert, the planner page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.deps import Place, ReadConn, WriteConn
from api.responses import Applied, History, Plan, Reverted, Validation
from geogrid.planning.apply import apply_plan
from geogrid.planning.history import history, revert
from geogrid.planning.preview import create_plan, get_plan
from geogrid.planning.validate import validate

router = APIRouter(tags=["planning"])


class PlanIn(BaseModel):
    edits: list[dict[str, Any]] = Field(..., min_length=1, description=(
        "Edits in order: redraw {grid, geometry}, split {grid, line}, merge {grids, name}, "
        "move_buildings {buildings, to}, revert {grid, to_version}; GeoJSON may carry crs: gcj02/bd09/wgs84."))
    base_versions: dict[str, int] | None = Field(None, description="Grid versions the planner saw: {code: version}.")
    author: str | None = Field(None, max_length=100)


@router.get("/validation", response_model=Validation)
def get_validation(conn: ReadConn, community: Place = None,
                   ) -> dict:
    """Every problem of the grids in force: rule, severity, grids, community, message, GeoJSON location."""
    problems = validate(conn, community)
    return {"community": community, "count": len(problems),
            "errors": sum(p["severity"] == "error" for p in problems), "problems": problems}


@router.post("/plans", status_code=201, response_model=Plan)
def post_plan(conn: WriteConn, body: PlanIn,
              compare: bool = Query(False, description="Also count problems before the change.")
              ) -> dict:
    """Store a draft plan and answer its preview: who changes grid, before/after figures, validation, map link."""
    return _linked(create_plan(conn, body.edits, body.base_versions, body.author, compare))


@router.get("/plans/{plan_id}", response_model=Plan)
def read_plan(conn: ReadConn, plan_id: int) -> dict:
    return _linked(get_plan(conn, plan_id))


def _linked(plan: dict) -> dict:
    """The plan with its preview's map link: URLs are the API's to make (the core knows no routes)."""
    if plan.get("preview") is not None:
        plan["preview"] = {**plan["preview"], "map_url": router.url_path_for("plan_map", plan_id=plan["plan"])}
    return plan


@router.post("/plans/{plan_id}/apply", response_model=Applied)
def post_apply(conn: WriteConn, plan_id: int, author: str | None = Query(None, max_length=100)) -> dict:
    """Apply a draft plan in one transaction; 409 naming what changed when its grids moved on since."""
    return apply_plan(conn, plan_id, author)


@router.get("/grids/{code}/history", response_model=History)
def grid_history(conn: ReadConn, code: str) -> dict:
    return history(conn, code)


@router.post("/grids/{code}/revert", response_model=Reverted)
def grid_revert(conn: WriteConn, code: str, to_version: int = Query(..., ge=1),
                author: str | None = Query(None, max_length=100),
                ) -> dict:
    """Give a grid the boundary of an earlier version; the revert is itself a new version."""
    return revert(conn, code, to_version, author)


@router.get("/planner", response_class=HTMLResponse)
def planner_page(conn: ReadConn, community: Place = None) -> HTMLResponse:
    """The planner: pick a grid, redraw it on the map, preview who moves, apply."""
    from maps.planner import planner_html

    return HTMLResponse(planner_html(conn, community, static_url="/planner/static"))


@router.get("/planner/grids.geojson")
def planner_grids(conn: ReadConn, community: Place = None) -> dict:
    """Grids in force with code, name, kind and version, in the base map's datum (the planner reloads them)."""
    from maps.planner import grids_for_display

    return grids_for_display(conn, community)[0]


@router.get("/planner/buildings.geojson")
def planner_buildings(conn: ReadConn, community: Place = None) -> dict:
    """Buildings of those grids with their grid, in the base map's datum (the planner moves them between grids)."""
    from maps.planner import buildings_for_display

    return buildings_for_display(conn, community)


@router.get("/plans/{plan_id}/map", response_class=HTMLResponse)
def plan_map(conn: ReadConn, plan_id: int) -> HTMLResponse:
    """Before/after map of a plan: old boundaries dashed, new ones filled."""
    from maps.planner import plan_map_html

    return HTMLResponse(plan_map_html(get_plan(conn, plan_id), static_url="/planner/static"))
