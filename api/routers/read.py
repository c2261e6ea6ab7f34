"""GeoJSON read endpoints: areas, grids (with household/resident/building counts), a grid's buildings, facilities.

PostGIS writes the GeoJSON itself (``ST_AsGeoJSON(record)`` → a Feature with the other columns as properties),
so no geometry passes through Python. Only aggregate and public columns are selected: no personal data.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import Connection, text

from api.deps import ReadConn
from api.responses import AreaCollection, BuildingCollection, FacilityCollection, GridCollection, GridFeature, geojson
from geogrid.errors import GeogridError, NotFound
from geogrid.figures import grid_figures_sql
from geogrid.i18n import t
from geogrid.model import AREA_LEVELS, FACILITY_KINDS
from geogrid.scope import resolve_scope

router = APIRouter(tags=["read"])
GEOJSON = "application/geo+json"
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")

_COLLECTION = """
SELECT json_build_object('type', 'FeatureCollection',
                         'features', COALESCE(json_agg(ST_AsGeoJSON(t.*, 'geom', 7)::json), '[]'::json))::text
  FROM ({inner}) t
"""
_BBOX = "ST_Intersects({col}, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"


def _grids_sql(where: str, extra: str = "") -> str:
    """Grids matching ``where`` (on ``grids g``) with their figures (:mod:`geogrid.figures`) and boundary."""
    return (
        "SELECT f.code, f.name, f.kind, f.community_code, f.households, f.households_estimated, "
        f"f.estimated_households, f.residents, f.buildings{extra}, g.geom "
        f"FROM ({grid_figures_sql(where)}) f JOIN grids g ON g.id = f.grid_id"
    )


def _code(code: str) -> str:
    """A grid or area code as stored (digits, letters, - and _); anything else can match nothing."""
    if not _CODE.match(code):
        raise NotFound(t("no grid with code '{code}'", code=code[:40]))
    return code


def _geojson(conn: Connection, inner: str, params: dict) -> Response:
    body = conn.scalar(text(_COLLECTION.format(inner=inner)), params)
    return Response(body, media_type=GEOJSON)


def _bbox(bbox: str | None) -> dict | None:
    """``minlon,minlat,maxlon,maxlat`` in WGS84, checked."""
    if bbox is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        raise GeogridError(t("bbox must be minlon,minlat,maxlon,maxlat")) from None
    if not all(map(math.isfinite, (x0, y0, x1, y1))) or not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise GeogridError(t("bbox must be finite, within ±180/±90, with min ≤ max"))
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


@router.get("/areas", responses=geojson(AreaCollection))
def areas(
    conn: ReadConn, level: Annotated[str | None, Query(description=f"one of {', '.join(AREA_LEVELS)}")] = None
) -> Response:
    """Districts, streets and communities with their codes and parent codes."""
    if level is not None and level not in AREA_LEVELS:
        raise GeogridError(t("level must be one of {levels}", levels=AREA_LEVELS))
    where = "WHERE a.level = :level" if level else ""
    return _geojson(
        conn,
        f"SELECT a.code, a.name, a.level, p.code AS parent_code, a.geom FROM admin_areas a "
        f"LEFT JOIN admin_areas p ON p.id = a.parent_id {where} ORDER BY a.code",
        {"level": level},
    )


@router.get("/grids", responses=geojson(GridCollection))
def grids(
    conn: ReadConn,
    community: Annotated[
        str | None, Query(max_length=200, description="district, street or community: code or name")
    ] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat")] = None,
) -> Response:
    """Current grids with households, residents and buildings (counts only)."""
    params = _bbox(bbox) or {}
    scope = resolve_scope(conn, community, levels=AREA_LEVELS)
    where = ["g.valid_to IS NULL", scope.where()]
    if bbox is not None:
        where.append(_BBOX.format(col="g.geom"))
    return _geojson(conn, f"{_grids_sql(' AND '.join(where))} ORDER BY f.code", {**params, **scope.params()})


@router.get("/grids/{code}", responses=geojson(GridFeature))
def grid(conn: ReadConn, code: str) -> Response:
    """One grid by code (retired grids too, with ``valid_to``)."""
    inner = _grids_sql("g.code = :code", extra=", f.valid_to")
    body = conn.scalar(text(f"SELECT ST_AsGeoJSON(t.*, 'geom', 7) FROM ({inner}) t"), {"code": _code(code)})
    if body is None:
        raise NotFound(t("no grid with code '{code}'", code=code))
    return Response(body, media_type=GEOJSON)


@router.get("/grids/{code}/buildings", responses=geojson(BuildingCollection))
def grid_buildings(conn: ReadConn, code: str) -> Response:
    """The buildings assigned to a grid: address, households, source id."""
    if conn.scalar(text("SELECT 1 FROM grids WHERE code = :code"), {"code": _code(code)}) is None:
        raise NotFound(t("no grid with code '{code}'", code=code))
    return _geojson(
        conn,
        "SELECT b.address, b.households, b.source_id, b.geom FROM buildings b "
        "JOIN building_assignments a ON a.building_id = b.id JOIN grids g ON g.id = a.grid_id "
        "WHERE g.code = :code ORDER BY b.id",
        {"code": code},
    )


@router.get("/facilities", responses=geojson(FacilityCollection))
def facilities(
    conn: ReadConn,
    kind: Annotated[str | None, Query(description=f"one of {', '.join(FACILITY_KINDS)}")] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat")] = None,
) -> Response:
    """Facilities in service (planned candidates left out), with the grid each lies in."""
    if kind is not None and kind not in FACILITY_KINDS:
        raise GeogridError(t("kind must be one of {kinds}", kinds=FACILITY_KINDS))

    params = _bbox(bbox) or {}
    where = ["NOT f.candidate"]
    if kind is not None:
        where.append("f.kind = :kind")
        params["kind"] = kind
    if bbox is not None:
        where.append(_BBOX.format(col="f.geom"))
    return _geojson(
        conn,
        "SELECT f.name, f.kind, f.circle_minutes, f.address, g.code AS grid_code, f.geom FROM facilities f "
        f"LEFT JOIN grids g ON g.id = f.grid_id WHERE {' AND '.join(where)} ORDER BY f.id",
        params,
    )
