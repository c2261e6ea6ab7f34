"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.pbf`` (Mapbox Vector Tile from PostGIS) and ``/tiles/{layer}.json``.

A warm tile is answered on the event loop from memory (:class:`maps.tiles.TileCache`) once the data version is
read (:class:`VersionReads`: one cheap statement on the event loop, shared by the requests that arrived while
it waited), so a write committed before a request is seen by it; only a cold tile is built in a worker thread.
"""

from __future__ import annotations

import asyncio
import re

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import ReadConn
from geogrid import db
from geogrid.db.versions import QUERY, DataVersion, from_row
from geogrid.settings import Settings, get_settings
from maps import tiles

router = APIRouter(tags=["tiles"])
cache = tiles.TileCache()
MVT = "application/vnd.mapbox-vector-tile"


def _gzip_ok(accept_encoding: str | None) -> bool:
    return accept_encoding is not None and "gzip" in accept_encoding


def _answer(request: Request, tile: tiles.Tile) -> Response:
    headers = {"ETag": tile.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}  # revalidate: data changes
    if request.headers.get("if-none-match") == tile.etag:
        return Response(status_code=304, headers=headers)
    if tile.gzip is not None and _gzip_ok(request.headers.get("accept-encoding")):
        return Response(tile.gzip, media_type=MVT, headers={**headers, "Content-Encoding": "gzip"})
    return Response(tile.body, media_type=MVT, headers=headers)


TILE_PATH = re.compile(r"^/tiles/([a-z0-9-]{1,32})/(\d{1,2})/(\d{1,8})/(\d{1,8})\.pbf$")
# Anything here sends the request the ordinary way: credentials (a role to identify), a body, a CORS origin.
ORDINARY = frozenset((b"authorization", b"x-api-key", b"cookie", b"origin", b"content-length", b"transfer-encoding"))


class WarmTiles:
    """Answers a warm public tile before FastAPI sees the request (``api.app.GeogridAPI``), from bytes, gzip and
    ETag prepared when the tile was built.

    Only a request whose ordinary answer is known is taken: GET of a cached tile, no query string, no
    credentials, body or Origin, a Host the host check accepts, and tiles readable anonymously under
    ``GEOGRID_PUBLIC`` (the table :func:`api.security.authorize` applies, same decision). The security headers
    are the ones :class:`api.hardening.SecurityHeaders` adds. Anything else, including a refused caller, goes
    the ordinary way and gets the ordinary answer. Every request waits for a data version read that began after
    it arrived (:class:`VersionReads`), so a tile is never older than the writes committed before it was asked.
    """

    def __init__(self) -> None:
        self._for: Settings | None = None
        self._public = False
        self._hosts: tuple[str, ...] = ()
        self._any_host = False
        self._headers: list[tuple[bytes, bytes]] = []
        self.served = 0  # answers given here (tests tell the two ways apart by it)

    def _configure(self, settings: Settings) -> None:
        """What depends on the settings only, worked out once per settings object."""
        from api.hardening import STATIC_HEADERS, csp
        from api.security import rule
        from geogrid.accounts.roles import allowed

        self._public = allowed(None, rule("GET", "/tiles/grids/0/0/0.pbf") or "admin", settings.public)
        self._hosts = tuple(h.lower() for h in settings.allowed_hosts)
        self._any_host = "*" in self._hosts
        self._headers = [
            (b"content-type", MVT.encode()),
            (b"cache-control", b"no-cache"),
            (b"vary", b"Accept-Encoding"),
            *STATIC_HEADERS,
            (b"content-security-policy", csp([]).encode()),
        ]
        self._for = settings

    def _host_ok(self, host: bytes | None) -> bool:
        if self._any_host:
            return True
        if not host or b"[" in host:
            return False  # no Host, or an IPv6 literal: the ordinary host check decides
        name = host.split(b":", 1)[0].decode("latin-1").lower()
        return any(name == p or (p.startswith("*") and name.endswith(p[1:])) for p in self._hosts)

    async def answer(self, scope, send) -> bool:
        """Send the warm tile and return True, or return False for the ordinary way."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            return False
        match = TILE_PATH.match(scope["path"])
        if match is None:
            return False
        settings = get_settings()
        if settings is not self._for:
            self._configure(settings)
        if not self._public:
            return False
        host = inm = accept = None
        for name, value in scope["headers"]:
            if name in ORDINARY:
                return False
            if name == b"host":
                host = value
            elif name == b"if-none-match":
                inm = value
            elif name == b"accept-encoding":
                accept = value
        if not self._host_ok(host):
            return False
        try:
            version = await versions.current()
        except Exception:  # the ordinary path meets the same failure and answers it (503)  # noqa: BLE001
            return False
        cache.observe(version)
        if version is None:
            return False
        found = cache.get(version, match[1], int(match[2]), int(match[3]), int(match[4]))
        if found is None:
            return False
        self.served += 1
        await self._send(send, found, inm, accept)
        return True

    async def _send(self, send, tile: tiles.Tile, inm: bytes | None, accept: bytes | None) -> None:
        etag = tile.etag.encode()
        if inm == etag:
            status, body, headers = 304, b"", [(b"etag", etag), *self._headers[1:]]
        else:
            packed = tile.gzip if accept is not None and b"gzip" in accept else None
            body = packed if packed is not None else tile.body
            extra = [(b"content-encoding", b"gzip")] if packed is not None else []
            status = 200
            headers = [(b"content-length", str(len(body)).encode()), (b"etag", etag), *extra, *self._headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class VersionReads:
    """The data version for requests on the event loop, read on the loop over one connection of its own
    (autocommit, no pool, no thread). A request joins the next read that has not yet begun, or begins one: the
    read's snapshot is taken after the request arrived, so it sees every write committed before; one read is
    in flight at a time, and every request that arrived meanwhile shares the next."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._next: asyncio.Future[DataVersion | None] | None = None  # not begun yet: new requests join it
        self._running = False
        self.reads = 0  # reads begun (tests and the benchmark compare it with requests)

    async def current(self) -> DataVersion | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a restarted server, a test client): start afresh
            self._drop()
            self._loop, self._next, self._running = loop, None, False
        waiting = self._next
        if waiting is None:
            waiting = self._next = loop.create_future()
            waiting.add_done_callback(_retrieved)
            if not self._running:
                self._running = True
                loop.create_task(self._run(loop))
        return await asyncio.shield(waiting)

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._next is not None and loop is self._loop:
                waiting, self._next = self._next, None
                self.reads += 1
                try:
                    found = await self._read()
                except Exception as exc:  # the caller falls back to the ordinary path (503)  # noqa: BLE001
                    self._drop()
                    if not waiting.done():
                        waiting.set_exception(exc)
                else:
                    if not waiting.done():
                        waiting.set_result(found)
        finally:
            if loop is self._loop:
                self._running = False

    async def _read(self) -> DataVersion | None:
        if self._conn is None or self._conn.closed:
            settings = get_settings()
            self._conn = await psycopg.AsyncConnection.connect(
                db.ready().url.render_as_string(hide_password=False).replace("+psycopg", "", 1),
                autocommit=True,
                connect_timeout=max(2, settings.db_connect_timeout_s),
            )
        cursor = await self._conn.execute(QUERY)
        row = await cursor.fetchone()
        names = [column.name for column in cursor.description or ()]
        return None if row is None else from_row(dict(zip(names, row, strict=True)))

    def _drop(self) -> None:
        """Close the connection without the loop (it may belong to a loop that is gone)."""
        if self._conn is not None:
            self._conn.pgconn.finish()
            self._conn = None


def _retrieved(future: asyncio.Future) -> None:
    """Mark a failed read's error as seen when nobody waits for it any more (no 'never retrieved' warning)."""
    if not future.cancelled():
        future.exception()


warm = WarmTiles()
versions = VersionReads()


def _build(layer: str, z: int, x: int, y: int, version: DataVersion | None) -> tiles.Tile:
    with db.ready().connect() as conn:
        return cache.tile(conn, layer, z, x, y, version)


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={200: {"content": {MVT: {}}, "description": "a Mapbox Vector Tile (may be empty)"}},
)
async def tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile: grids, buildings, facilities, service-areas (all circles, or one: service-areas-network-5)
    or base (roads, water, railways, footprints)."""
    tiles.check_tile(z, x, y)
    version = await versions.current()
    cache.observe(version)
    if version is not None:
        found = cache.get(version, layer, z, x, y)
        if found is not None:
            return _answer(request, found)
    return _answer(request, await run_in_threadpool(_build, layer, z, x, y, version))


@router.get("/tiles/{layer}.json", response_model=tiles.TileJSON)
def tilejson(conn: ReadConn, request: Request, layer: str) -> tiles.TileJSON:
    """TileJSON 3.0.0 of a tile layer (its URL template, bounds and the fields of each layer)."""
    root = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
    return tiles.tilejson(conn, layer, f"{root}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf")
