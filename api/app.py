"""The FastAPI application: thin routers over :mod:`geogrid`, one module per topic in ``api/routers``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from api import guards
from api.hardening import SecurityHeaders
from api.routers import accounts, coverage, health, lookup, maps, ogc, partition, planning, read, rosters, tiles
from api.static import MapStatic
from geogrid.errors import GeogridError
from geogrid.i18n import Text, join, t
from geogrid.settings import get_settings

# Topic routers, included in this order (a renamed module is an import error, never a silent omission).
ROUTERS = (health, lookup, read, coverage, maps, planning, accounts, partition, tiles, ogc, rosters)


def _error(status: int, reason: str, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": reason, **extra})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GeogridError)
    async def geogrid_error(_: Request, exc: GeogridError) -> JSONResponse:
        answer = _error(exc.status_code, str(exc), **getattr(exc, "extra", {}))
        answer.headers.update(getattr(exc, "headers", {}))  # e.g. Retry-After of a 429
        return answer

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = [
            t(
                "{where}: {message}",
                where=".".join(str(p) for p in err.get("loc", ()) if p != "body") or t("request"),
                message=_validation_message(err),
            )
            for err in exc.errors()
        ]
        reason = join(reasons, en="; ", zh="；") if reasons else t("invalid request")
        return _error(422, reason, details=reasons)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """FastAPI's own answer (``{"detail": ...}``, headers kept), its stock 404/405 reason translated."""
        headers = guards.allow_header(request, exc.headers) if exc.status_code == 405 else exc.headers
        if exc.status_code in HTTP_REASONS and exc.detail == HTTPStatus(exc.status_code).phrase:
            exc = HTTPException(exc.status_code, HTTP_REASONS[exc.status_code](), headers)
        return await http_exception_handler(request, exc)


HTTP_REASONS: dict[int, Callable[[], Text]] = {
    404: lambda: t("Not Found"),
    405: lambda: t("Method Not Allowed"),
}

# pydantic's messages for the errors a request commonly has, by error type; ``ctx`` fills the placeholders.
VALIDATION_MESSAGES: dict[str, Callable[[dict], Text]] = {
    "missing": lambda c: t("Field required"),
    "extra_forbidden": lambda c: t("Extra inputs are not permitted"),
    "json_invalid": lambda c: t("JSON decode error"),
    "int_parsing": lambda c: t("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": lambda c: t("Input should be a valid integer"),
    "float_parsing": lambda c: t("Input should be a valid number, unable to parse string as a number"),
    "float_type": lambda c: t("Input should be a valid number"),
    "bool_parsing": lambda c: t("Input should be a valid boolean, unable to interpret input"),
    "string_type": lambda c: t("Input should be a valid string"),
    "list_type": lambda c: t("Input should be a valid list"),
    "dict_type": lambda c: t("Input should be a valid dictionary"),
    "model_attributes_type": lambda c: t("Input should be a valid dictionary or object to extract fields from"),
    "greater_than": lambda c: t("Input should be greater than {gt}", **c),
    "greater_than_equal": lambda c: t("Input should be greater than or equal to {ge}", **c),
    "less_than": lambda c: t("Input should be less than {lt}", **c),
    "less_than_equal": lambda c: t("Input should be less than or equal to {le}", **c),
    "string_too_long": lambda c: t("String should have at most {max_length} characters", **c),
    "too_short": lambda c: t("List should have at least {min_length} item after validation, not {actual_length}", **c),
    "too_long": lambda c: t("List should have at most {max_length} items after validation, not {actual_length}", **c),
}


def _validation_message(err: dict) -> str:
    """pydantic's message translated when catalogued; its own English wording is kept, whatever the language."""
    make = VALIDATION_MESSAGES.get(err.get("type", ""))
    message = make(err.get("ctx") or {}) if make else None
    return message if message is not None and message.en == err.get("msg") else str(err.get("msg"))


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
            reason = t("request body over the limit of {limit} bytes (GEOGRID_MAX_BODY_BYTES)", limit=limit)

            await _error(413, reason, limit=limit)(scope, receive, send)


class GeogridAPI(FastAPI):
    """FastAPI, with a warm public tile answered before anything else runs (:class:`api.routers.tiles.WarmTiles`:
    the same answer the ordinary stack gives, without its per-request cost), and the security headers put on
    every other answer from outside the whole stack, so Starlette's own 500 and the host check's 400 carry them."""

    async def __call__(self, scope, receive, send) -> None:
        if not await tiles.warm.answer(scope, send):
            await SecurityHeaders(super().__call__)(scope, receive, send)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Everything the app holds while it runs, in one place: the point-lookup pool and the map warmer."""
    async with lookup.lookup_pool(app):
        maps.warmer.start()
        try:
            yield
        finally:
            maps.warmer.stop()


def _install_hardening(app: FastAPI) -> None:
    """Host check (DNS rebinding), CORS only when origins are configured, audit fallback (the security headers:
    :class:`GeogridAPI`, outside all of these)."""
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from api.hardening import AuditFallback
    from api.security import MountedGuard

    settings = get_settings()
    app.add_middleware(MountedGuard)
    app.add_middleware(AuditFallback)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))


def create_app() -> FastAPI:
    """Build the application: every topic router, the static files, one lifespan."""
    from api import docs
    from api.security import authorize

    app = GeogridAPI(
        title="geogrid",
        description="Community grid management (网格化服务管理): grids, lookup, coverage and maps on PostGIS.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from local files by api.docs, not a CDN
        redoc_url=None,
        dependencies=[Depends(authorize)],  # one authorization table for every route (api/security.py)
    )
    _install_error_handlers(app)
    guards.install(app)
    _install_hardening(app)
    app.add_middleware(BodyLimit)
    app.include_router(docs.router)
    for module in ROUTERS:
        app.include_router(module.router)
    # Leaflet and the map scripts go out compressed to browsers that accept it (leaflet.js: 147 kB -> 42 kB).
    app.mount("/maps/static", GZipMiddleware(MapStatic(), minimum_size=1024), name="maps-static")
    app.mount("/planner/static", GZipMiddleware(MapStatic(), minimum_size=1024), name="planner-static")
    return app


app = create_app()
