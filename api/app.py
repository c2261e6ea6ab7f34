"""The FastAPI application: thin routers over :mod:`geogrid`, one module per topic in ``api/routers``."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geogrid.errors import GeogridError

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


def create_app() -> FastAPI:
    """Build the application with every available topic router."""
    app = FastAPI(
        title="geogrid",
        description="Community grid management (网格化服务管理): grids, lookup, coverage and maps on PostGIS.",
        version="0.1.0",
    )
    _install_error_handlers(app)
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
