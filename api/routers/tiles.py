"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.pbf`` (Mapbox Vector Tile from PostGIS) and ``/tiles/{layer}.json``.

A warm tile is answered on the event loop from memory (:class:`maps.tiles.TileCache`); only a cold tile or a
stale data fingerprint (re-read at most once a second) goes to a worker thread and PostGIS.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from geogrid import db
from maps import tiles

router = APIRouter(tags=["tiles"])
cache = tiles.TileCache()
MVT = "application/vnd.mapbox-vector-tile"


def _answer(request: Request, tile: bytes) -> Response:
    etag = '"' + hashlib.blake2b(tile, digest_size=8).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate: the data may have changed
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(tile, media_type=MVT, headers=headers)


def _build(layer: str, z: int, x: int, y: int) -> bytes:
    with db.ready().connect() as conn:
        return cache.tile(conn, layer, z, x, y)


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={200: {"content": {MVT: {}}, "description": "a Mapbox Vector Tile (may be empty)"}},
)
async def tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile: grids, buildings, facilities, service-areas or base (roads, water, railways, footprints)."""
    fp = cache.fingerprint_fresh()
    if fp is not None:
        tiles.check_tile(z, x, y)
        found = cache.get(fp, layer, z, x, y)
        if found is not None:
            return _answer(request, found)
    return _answer(request, await run_in_threadpool(_build, layer, z, x, y))


@router.get("/tiles/{layer}.json")
def tilejson(request: Request, layer: str) -> JSONResponse:
    """TileJSON 3.0.0 of a tile layer (its URL template, bounds and the fields of each layer)."""
    root = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
    with db.ready().connect() as conn:
        return JSONResponse(tiles.tilejson(conn, layer, f"{root}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"))
