"""Boundary planning over HTTP: validation, plans (preview, apply), grid history and revert, the planner page."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api import security
from api.deps import Place, ReadConn, WriteConn
from api.responses import (
    Applied,
    FeatureCollection,
    History,
    PaintUnits,
    Plan,
    Reverted,
    Undone,
    UnitsBuilt,
    Validation,
)
from api.security import CurrentUser
from geogrid.accounts.scope import check_community, check_grids, check_plan, plan_grids
from geogrid.planning.apply import apply_plan
from geogrid.planning.edit_models import Edit
from geogrid.planning.history import history, revert
from geogrid.planning.preview import create_plan, get_plan
from geogrid.planning.undo import undo_plan
from geogrid.planning.validate import validate
from maps.roster_page import roster_links

router = APIRouter(tags=["planning"])


class PlanIn(BaseModel):
    edits: list[Edit] = Field(
        ...,
        min_length=1,
        max_length=1000,
        description=(
            "Edits in order, each chosen by its op: redraw {grid, geometry, repair}, split {grid, line}, "
            "merge {grids, name}, move_buildings {buildings, to, locked, confirm_split}, move_units {grid, units, "
            "locked, confirm_split} (paint units into a grid), revert {grid, to_version}; GeoJSON may carry "
            "crs: wgs84/cgcs2000/gcj02/bd09/EPSG:xxxx. Coordinates are checked: finite, 2D, on the Earth."
        ),
    )
    base_versions: dict[str, int] | None = Field(None, description="Grid versions the planner saw: {code: version}.")
    locked: list[str] = Field(
        default_factory=list, max_length=1000, description="Grids that must not change: 422 naming them if they would."
    )
    author: str | None = Field(None, max_length=100)


@router.get("/validation", response_model=Validation)
def get_validation(
    conn: ReadConn,
    community: Place = None,
) -> dict:
    """Every problem of the grids in force: rule, severity, grids, community, message, GeoJSON location."""
    problems = roster_links(validate(conn, community))
    return {
        "community": community,
        "count": len(problems),
        "errors": sum(p["severity"] == "error" for p in problems),
        "problems": problems,
    }


@router.post("/plans", status_code=201, response_model=Plan)
def post_plan(
    conn: WriteConn,
    body: PlanIn,
    request: Request,
    who: CurrentUser,
    compare: bool = Query(False, description="Also count problems before the change."),
) -> dict:
    """Store a draft plan and answer its preview: who changes grid, before/after figures, validation, map link.

    403 naming the grid when the plan touches a grid outside the caller's granted streets or communities."""
    plan = create_plan(conn, body.edits, body.base_versions, body.author or who.name, compare, body.locked)
    codes = plan_grids(plan["preview"])
    area = check_plan(conn, who, plan["preview"])  # raises before commit: an out-of-scope draft is never stored
    security.record(
        conn,
        request,
        "plan_create",
        area=area,
        target=f"plan {plan['plan']}",
        details={"plan": plan["plan"], "grids": codes},
    )
    return linked(plan)


@router.get("/plans/units", response_model=PaintUnits)
def plan_units(conn: ReadConn, community: str = Query(..., min_length=1, max_length=100)) -> dict:
    """The units (blocks, compounds, buildings) of a community with their grid now, households, households within
    a 5-minute service area and neighbours, and the figures of its grids: what the planner paints with. Empty
    until the community's units are computed (``POST /plans/units`` or ``geogrid partition``)."""
    from maps.planner import units_for_display

    return units_for_display(conn, community)


@router.post("/plans/units", response_model=UnitsBuilt)
def build_plan_units(
    conn: WriteConn, request: Request, who: CurrentUser, community: str = Query(..., min_length=1, max_length=100)
) -> dict:
    """Compute and store the units of a community that has none yet (a community never partitioned)."""
    from geogrid.planning.painting import ensure_units

    check_community(conn, who, community)
    n = ensure_units(conn, community)
    security.record(conn, request, "units_build", area=community, target=community, details={"units": n})
    return {"community": community, "units": n}


@router.get("/plans/{plan_id}", response_model=Plan)
def read_plan(conn: ReadConn, plan_id: int) -> dict:
    return linked(get_plan(conn, plan_id))


def linked(plan: dict) -> dict:
    """The plan with its preview's map link: URLs are the API's to make (the core knows no routes)."""
    if plan.get("preview") is not None:
        plan["preview"] = {**plan["preview"], "map_url": router.url_path_for("plan_map", plan_id=plan["plan"])}
        roster_links(plan["preview"].get("validation", {}).get("problems", []))
    return plan


@router.post("/plans/{plan_id}/apply", response_model=Applied)
def post_apply(
    conn: WriteConn,
    plan_id: int,
    request: Request,
    who: CurrentUser,
    author: str | None = Query(None, max_length=100),
    force: bool = Query(False, description="Apply although the change adds validation errors."),
    reason: str | None = Query(None, max_length=500, description="Why (required with force; recorded)."),
) -> dict:
    """Apply a draft plan in one transaction; 409 naming what changed when its grids moved on since, or naming the
    validation errors it would add (``added_errors``) unless ``force`` with a ``reason``."""
    area = check_plan(conn, who, get_plan(conn, plan_id)["preview"] or {})
    result = apply_plan(conn, plan_id, author or who.name, force, reason)
    check_grids(conn, who, result["changed"] + result["retired"])
    security.record(
        conn,
        request,
        "plan_apply",
        area=area,
        target=f"plan {plan_id}",
        details={**result, "force_reason": reason} if force else result,
    )
    return result


@router.post("/plans/{plan_id}/undo", response_model=Undone)
def post_undo(
    conn: WriteConn, plan_id: int, request: Request, who: CurrentUser, author: str | None = Query(None, max_length=100)
) -> dict:
    """Undo an applied plan: every grid it touched returns to its version before it, in one transaction (itself
    a new plan); 409 when a later plan changed those grids."""
    area = check_plan(conn, who, get_plan(conn, plan_id)["preview"] or {})
    result = undo_plan(conn, plan_id, author or who.name)
    check_grids(conn, who, result["changed"] + result["retired"])
    security.record(conn, request, "plan_undo", area=area, target=f"plan {plan_id}", details=result)
    return result


@router.get("/grids/{code}/history", response_model=History)
def grid_history(conn: ReadConn, code: str) -> dict:
    return history(conn, code)


@router.post("/grids/{code}/revert", response_model=Reverted)
def grid_revert(
    conn: WriteConn,
    code: str,
    request: Request,
    who: CurrentUser,
    to_version: int = Query(..., ge=1),
    author: str | None = Query(None, max_length=100),
) -> dict:
    """Give a grid the boundary of an earlier version; the revert is itself a new version."""
    area = check_grids(conn, who, [code])
    result = revert(conn, code, to_version, author or who.name)
    security.record(conn, request, "grid_revert", area=area, target=code, details={**result, "to_version": to_version})
    return result


@router.get("/planner", response_class=HTMLResponse)
def planner_page(conn: ReadConn, community: Place = None) -> HTMLResponse:
    """The planner: pick a grid, redraw it on the map, preview who moves, apply."""
    from maps.planner import planner_html

    return HTMLResponse(planner_html(conn, community, static_url="/planner/static"))


# The planner's layers are documented, not validated on the way out (a city's buildings are many features).
@router.get("/planner/grids.geojson", response_model=None, responses={200: {"model": FeatureCollection}})
def planner_grids(conn: ReadConn, community: Place = None) -> dict:
    """Grids in force with code, name, kind and version, in the base map's datum (the planner reloads them)."""
    from maps.planner import grids_for_display

    return grids_for_display(conn, community)[0]


@router.get("/planner/buildings.geojson", response_model=None, responses={200: {"model": FeatureCollection}})
def planner_buildings(conn: ReadConn, community: Place = None) -> dict:
    """Buildings of those grids with their grid, in the base map's datum (the planner moves them between grids)."""
    from maps.planner import buildings_for_display

    return buildings_for_display(conn, community)


@router.get("/plans/{plan_id}/map", response_class=HTMLResponse)
def plan_map(conn: ReadConn, plan_id: int) -> HTMLResponse:
    """Before/after map of a plan: old boundaries dashed, new ones filled."""
    from maps.planner import plan_map_html

    return HTMLResponse(plan_map_html(get_plan(conn, plan_id), static_url="/planner/static"))
