"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.pbf`` (Mapbox Vector Tile from PostGIS) and ``/tiles/{layer}.json``.

A warm tile is answered on the event loop from memory (:class:`maps.tiles.TileCache`); only a cold tile or a
stale data fingerprint (re-read at most once a second) goes to a worker thread and PostGIS.
"""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from geogrid import db
from geogrid.settings import get_settings
from maps import tiles

router = APIRouter(tags=["tiles"])
cache = tiles.TileCache()
MVT = "application/vnd.mapbox-vector-tile"


def _answer(request: Request, tile: bytes) -> Response:
    return _tile_response(request.headers.get("if-none-match"), tile)


def _tile_response(if_none_match: str | None, tile: bytes) -> Response:
    etag = '"' + hashlib.blake2b(tile, digest_size=8).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate: the data may have changed
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    return Response(tile, media_type=MVT, headers=headers)


TILE_PATH = re.compile(r"^/tiles/([a-z-]{1,20})/(\d{1,2})/(\d{1,8})/(\d{1,8})\.pbf$")
CREDENTIALS = (b"authorization", b"x-api-key", b"cookie")


class WarmTiles:
    """Answers a warm tile before routing, when anyone may read tiles and the caller sent no credentials.

    Routing, the authorization dependency and two thread hops cost more than the look-up itself; the
    decision is the one :func:`api.security.authorize` takes for an anonymous caller (same table, same
    ``GEOGRID_PUBLIC``). Installed innermost: host checks, security headers and limits still apply.
    Anything else (a cold tile, credentials, a bad address) goes the ordinary way.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        found = self._warm(scope) if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") else None
        if found is None:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        inm = headers.get(b"if-none-match")
        await _tile_response(inm.decode("latin-1") if inm else None, found)(scope, receive, send)

    @staticmethod
    def _warm(scope) -> bytes | None:
        match = TILE_PATH.match(scope["path"])
        fp = cache.fingerprint_fresh() if match else None
        if fp is None or any(name in CREDENTIALS for name, _ in scope["headers"]):
            return None
        from api.security import rule
        from geogrid.accounts.roles import allowed

        if not allowed(None, rule("GET", scope["path"]) or "admin", get_settings().public):
            return None
        return cache.get(fp, match[1], int(match[2]), int(match[3]), int(match[4]))


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
