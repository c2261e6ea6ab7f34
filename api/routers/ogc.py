"""OGC API Features (Part 1 core, GeoJSON, bbox, CQL2 filters) and OGC API Tiles under ``/ogc``, by tipg.

tipg sees one schema only, ``ogc`` (revision ``0012_maps``): views of areas, grids, buildings, facilities,
service areas and coverage per grid that select no personal data, so nothing a resident, staff or household
table holds can leave through this door, whatever a client asks. It is read-only by construction (tipg has
no write routes). QGIS reads it through GDAL's OAPIF driver (``ogrinfo OAPIF:http://host/ogc``).

tipg keeps its own asyncpg pool. A mounted application gets no lifespan events, so the pool and the
collection catalogue are made on the first request, and made again when the event loop changes (a test
client runs each request in a loop of its own); the catalogue is refreshed every ``CATALOG_TTL_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp
from tipg.collections import register_collection_catalog
from tipg.database import connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from tipg.factory import Endpoints
from tipg.middleware import CatalogUpdateMiddleware
from tipg.settings import DatabaseSettings, PostgresSettings

from api.security import authorize
from geogrid import db
from geogrid.errors import GeogridError
from geogrid.settings import get_settings

SCHEMA = "ogc"
PREFIX = "/ogc"
CATALOG_TTL_S = 60
TITLE = "geogrid OGC API: grids, buildings, facilities, service areas, coverage (no personal data)"


def _db_settings() -> DatabaseSettings:
    return DatabaseSettings(schemas=[SCHEMA], exclude_function_schemas=[SCHEMA], functions=[], datetime_extent=False)


async def _update_catalog(app: ASGIApp, **kwargs: Any) -> None:
    """tipg's catalog update under the signature its middleware declares (it hands over ``request.app``: ours)."""
    if not isinstance(app, FastAPI):
        raise TypeError(f"tipg's catalog belongs to a FastAPI app, not {type(app).__name__}")
    await register_collection_catalog(app, **kwargs)


def _tipg_app() -> FastAPI:
    app = FastAPI(title=TITLE, openapi_url="/api", docs_url=None)

    @app.get("/api.html", name="swagger_ui_html", include_in_schema=False)
    def docs(request: Request) -> RedirectResponse:
        """The API's own (locally served) documentation page: FastAPI's default would load from a CDN."""
        return RedirectResponse(request.scope.get("root_path", "").removesuffix(PREFIX) + "/docs")

    app.include_router(Endpoints(title=TITLE, with_tiles_viewer=False).router)
    app.add_middleware(
        CatalogUpdateMiddleware,  # type: ignore[arg-type]  # tipg's __init__ takes `app` by name; Starlette's protocol wants it positional-only
        func=_update_catalog,
        ttl=CATALOG_TTL_S,
        db_settings=_db_settings(),
    )
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    return app


def _read_only_url() -> str:
    """The embedded cluster's read-only role (no personal tables, no writes); an external database's own URL."""
    settings = get_settings()
    if not settings.embedded:
        return settings.url
    from geogrid.db import roles

    return roles.url(settings.home, settings.db_port, settings.db_name, roles.READER)


class LazyTipg:
    """tipg's application, connected to our database on first use in each event loop."""

    def __init__(self) -> None:
        self.app = _tipg_app()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        db.ready()  # the embedded cluster started and migrated, as for every other route
        url = _read_only_url().replace("postgresql+psycopg://", "postgresql://", 1)
        old = getattr(self.app.state, "pool", None)
        await connect_to_db(self.app, schemas=[SCHEMA], settings=PostgresSettings(database_url=url, db_max_conn_size=4))
        await register_collection_catalog(self.app, db_settings=_db_settings())
        self._loop = loop
        if old is not None:
            with contextlib.suppress(RuntimeError):  # bound to a finished loop: close what can be closed
                old.terminate()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            try:  # a mounted application is outside the app-wide dependency: the same table decides here
                await authorize(Request(scope))
            except GeogridError as exc:
                await JSONResponse({"error": str(exc)}, status_code=exc.status_code)(scope, receive, send)
                return
            await self._connect()
        # tipg names its links with ``request.url_for``: resolve them in its own routes, below ``/ogc``
        scope = dict(scope, router=self.app.router, app_root_path=scope.get("root_path", ""))
        await self.app(scope, receive, send)


router = APIRouter()
router.mount(PREFIX, LazyTipg(), name="ogc")
