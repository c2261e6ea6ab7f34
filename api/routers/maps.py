"""Maps served by the API: ``/maps`` (index), ``/maps/coverage``, ``/maps/grids/{code}``, the GeoJSON layers
the city-scale pages fetch, and the locally vendored Leaflet files (no CDN).

At start-up a background thread prepares the city layers and keeps them prepared as the data changes
(:class:`maps.prepared.Warmer`), so no viewer waits for them to be built."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ReadConn
from api.responses import FeatureCollection, geojson
from geogrid.errors import NotFound
from geogrid.i18n import t
from maps import data, pages, prepared
from maps.index import index_page

warmer = prepared.Warmer()
router = APIRouter(tags=["maps"])  # the warmer is started and stopped by the app's lifespan (api.app)
LAYERS = ("grids", "facilities", "service-areas", "uncovered", "buildings", "problems")

Community = Annotated[str | None, Query(max_length=200, description="district, street or community: code or name")]
Mode = Annotated[str, Query(description="circle, network or auto (network when computed)")]
Minutes = Annotated[int, Query(description="service circle: 5, 10 or 15 minutes")]
Measure = Annotated[str, Query(description="grid colour: households, coverage or party_members")]
Kind = Annotated[str | None, Query(max_length=32, description="only facilities of this kind")]
Print = Annotated[bool, Query(alias="print", description="laid out for printing: title, legend, summary, no controls")]


def _compressed(request: Request, body: str | tuple[bytes, bytes | None], media_type: str) -> Response:
    raw, packed = prepared.encode(body) if isinstance(body, str) else body
    if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=media_type, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(raw, media_type=media_type)


def _options(request: Request, measure: str, print_view: bool = False) -> pages.PageOptions:
    root = request.scope.get("root_path", "")
    return pages.PageOptions(
        static_url=f"{root}/maps/static",
        layer_url=f"{root}/maps/layers",
        lookup_url=f"{root}/lookup",
        measure=measure,
        tiles_url=f"{root}/tiles",
        print_view=print_view,
    )


@router.get("/maps", response_class=HTMLResponse)
def maps_index(request: Request, conn: ReadConn) -> Response:
    """Links to the city map and every street, community and grid map."""
    return _compressed(request, index_page(conn, f"{request.scope.get('root_path', '')}/maps"), "text/html")


@router.get("/maps/coverage", response_class=HTMLResponse)
def coverage_map(
    request: Request,
    conn: ReadConn,
    community: Community = None,
    mode: Mode = "auto",
    minutes: Minutes = 5,
    measure: Measure = "coverage",
    kind: Kind = None,
    print_view: Print = False,
) -> Response:
    """The coverage map of a community, street or district (or the whole city without ``community``);
    ``print=true`` lays it out for a printed sheet or a PDF (the browser's print dialog)."""
    html = pages.coverage_page(conn, data.Scope(community, mode, minutes, kind), _options(request, measure, print_view))
    return _compressed(request, html, "text/html")


@router.get("/maps/grids/{code}", response_class=HTMLResponse)
def grid_map(
    request: Request,
    conn: ReadConn,
    code: str,
    mode: Mode = "auto",
    minutes: Minutes = 5,
    measure: Measure = "households",
) -> Response:
    """One grid with all its buildings, in its community."""
    html = pages.grid_page(conn, code, _options(request, measure), mode=mode, minutes=minutes)
    return _compressed(request, html, "text/html")


@router.get("/maps/layers/{layer}.geojson", response_class=Response, responses=geojson(FeatureCollection))
def layer(
    request: Request,
    conn: ReadConn,
    layer: str,
    community: Community = None,
    mode: Mode = "auto",
    minutes: Minutes = 5,
    kind: Kind = None,
    grid: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """One map layer as GeoJSON (WGS84, or GCJ-02 when the tile setting names a GCJ-02 source)."""
    if layer not in LAYERS:
        raise NotFound(t("unknown layer '{layer}': use one of {layers}", layer=layer, layers=list(LAYERS)))
    scope = data.check_scope(conn, data.Scope(community, mode, minutes, kind))
    if grid is not None:
        data.grid_info(conn, grid)
    body = prepared.layer_bytes(conn, layer, scope, grid)
    return _compressed(request, body, "application/geo+json")
