"""The FastAPI application: thin routers over :mod:`geogrid`, one module per topic in ``api/routers``."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geogrid.errors import GeogridError
from geogrid.settings import get_settings

# Topic routers, included when their module exists (each defines ``router``).
ROUTERS = ("health", "lookup", "read", "coverage", "maps", "planning")


def _error(status: int, reason: str, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": reason, **extra})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GeogridError)
    async def geogrid_error(_: Request, exc: GeogridError) -> JSONResponse:
        return _error(exc.status_code, str(exc), **getattr(exc, "extra", {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = [
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body') or 'request'}: {err.get('msg')}"
            for err in exc.errors()
        ]
        return _error(422, "; ".join(reasons) or "invalid request", details=reasons)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 (naming the limit) to a body over ``GEOGRID_MAX_BODY_BYTES``, declared or streamed."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = get_settings().max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        try:
            if declared.isdigit() and int(declared) > limit:
                raise _TooLarge
            await self.app(scope, counted, send)
        except _TooLarge:
            reason = f"request body over the limit of {limit} bytes (GEOGRID_MAX_BODY_BYTES)"
            await _error(413, reason, limit=limit)(scope, receive, send)


def create_app() -> FastAPI:
    """Build the application with every available topic router."""
    app = FastAPI(
        title="geogrid",
        description="Community grid management (网格化服务管理): grids, lookup, coverage and maps on PostGIS.",
        version="0.1.0",
    )
    _install_error_handlers(app)
    app.add_middleware(BodyLimit)
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"api.routers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"api.routers.{name}":
                raise
            continue
        app.include_router(module.router)
    return app


app = create_app()
