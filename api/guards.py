"""No 500 for any input, and honest answers while the database is down.

Generic guards, so no router has to remember them:

* :class:`InputGuard` (ASGI middleware) refuses, before any route runs, a request whose path or query holds a
  NUL character (PostgreSQL text cannot hold one; a file name cannot either) or whose path is absurdly long.
* The same middleware refuses a JSON body that no endpoint can take: not strict JSON (``NaN``, ``Infinity``,
  numbers that overflow a double), integers beyond 64 bits, or a NUL character in a string. Python's ``json``
  accepts all of these and they surfaced as 500s deep in the planning and lookup code (3D positions are the
  plan edit models' to refuse, with the edit's field).
* Exception handlers turn what the database says about a value (out of range, wrong type) into 422, and
  "cannot reach the database" (refused, pool exhausted, connect timeout) into 503 with a reason and
  ``Retry-After``, never a bare 500 or a hang.
"""

from __future__ import annotations

import errno
import json
import math
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

import orjson
import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geogrid.i18n import t

MAX_PATH_CHARS = 2048  # longer request paths are refused (414) before routing
INT64 = 2**63
RETRY_AFTER_S = "5"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _error(status: int, reason: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": reason, **extra}, headers=headers)


class InputGuard:
    """Refuse NUL characters in the path or query (422, naming the parameter), over-long paths (414) and JSON
    bodies that no endpoint can take (422, naming where): see :func:`_json_problem`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        reason, status = _bad_target(scope), 422
        if len(scope.get("path", "")) > MAX_PATH_CHARS:
            reason, status = t("request path longer than {limit} characters", limit=MAX_PATH_CHARS), 414
        if reason is None and _is_json_body(scope):
            body, receive = await _buffer(receive)
            reason = _body_problem(body)
        if reason is not None:
            return await _error(status, reason)(scope, receive, send)
        await self.app(scope, receive, send)


def _bad_target(scope) -> str | None:
    """The reason to refuse a NUL character in the path or a query parameter, or None."""
    if "\x00" in scope.get("path", ""):
        return t("the request path holds a NUL character")
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if "\x00" in name or "\x00" in value:
            return t("query parameter '{name}' holds a NUL character", name=name.replace("\x00", "\\0")[:40])
    return None


def _is_json_body(scope) -> bool:
    if scope.get("method") not in BODY_METHODS:
        return False
    kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")


async def _buffer(receive):
    """The whole body, and a ``receive`` that replays it to the application."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonFinite(name)


def _body_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken (see :func:`_json_problem`), or None.

    Parsed as FastAPI parses it (the standard library, which reads ``NaN``, ``Infinity``, ``1e400`` and
    integers of any size) so what is checked is what the route would get; a body that is not JSON at all is
    left to the route's own validation (422 "JSON decode error")."""
    if not body.strip():
        return None
    if _plainly_fine(body):
        return None
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except _NonFinite as exc:
        return t("{where}: number is not finite", where=f"body ({exc})")
    except ValueError:
        return None
    return _json_problem(value, "body")


_LONG_DIGITS = re.compile(rb"\d{19}")


def _plainly_fine(body: bytes) -> bool:
    """A fast pass for the common body (a 3 MB batch of coordinates took seconds to walk value by value):
    orjson refuses ``NaN``, ``Infinity``, overflowing numbers and raw control characters, so a body it reads
    with no escaped NUL and no run of 19 digits (the only way to write an integer beyond 64 bits) has none
    of the problems :func:`_json_problem` looks for. Anything else takes the full check."""
    if b"\\u0000" in body or _LONG_DIGITS.search(body):
        return False
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def _json_problem(value, where: str) -> str | None:
    """The first thing in a parsed JSON value that no endpoint can take, with where it is; None when fine."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return t("{where}: a string holds a NUL character", where=at)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -INT64 <= item < INT64:
                return t("{where}: integer outside the 64-bit range", where=at)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return t("{where}: number is not finite", where=at)
        elif isinstance(item, dict):
            stack.extend((v, f"{at}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))
    return None


UNAVAILABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def install(app: FastAPI) -> None:
    """Add the input guard and the database-failure handlers to ``app`` (see the module docstring)."""
    app.add_middleware(InputGuard)
    document_errors(app)

    @app.exception_handler(sqlalchemy.exc.DataError)
    @app.exception_handler(psycopg.DataError)
    async def data_error(_: Request, exc: Exception) -> JSONResponse:
        return _error(422, t("a value cannot be used: {error}", error=_first_line(exc)))

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)

    try:
        from psycopg_pool import PoolTimeout

        app.add_exception_handler(PoolTimeout, _unavailable)
    except ImportError:  # pragma: no cover - psycopg[pool] is a dependency
        pass

    @app.exception_handler(OSError)
    async def os_error(_: Request, exc: OSError) -> JSONResponse:
        """A file name the system refuses (too long, invalid) names no file we serve."""
        if exc.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.ENOENT):
            return _error(404, t("no such file"))
        raise exc


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    return _error(
        503, t("database unavailable: {error}", error=exc.__class__.__name__), headers={"Retry-After": RETRY_AFTER_S}
    )


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else exc.__class__.__name__


# The body of every refusal: ``{"error": reason, ...}`` from our handlers, ``{"detail": reason}`` from
# FastAPI's own 404/405. Documented on every operation so clients (and schemathesis) can rely on it.
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "why the request was refused, in GEOGRID_LANG"},
        "details": {"type": "array", "items": {"type": "string"}},
        "detail": {"description": "FastAPI's own refusals (unknown path, method)"},
    },
    "anyOf": [{"required": ["error"]}, {"required": ["detail"]}],
}
ERROR_STATUSES = {
    "400": "bad request: a value the endpoint cannot use (unknown kind, community, mode …)",
    "401": "sign-in required",
    "403": "not allowed for this account",
    "404": "no such resource",
    "405": "method not allowed (Allow lists the methods)",
    "409": "conflict with the current state",
    "413": "over a size or time budget",
    "414": "request path too long",
    "415": "unsupported body type",
    "422": "invalid input: which field and why",
    "429": "too many requests",
    "503": "database unavailable now",
}
# What some operations answer instead of JSON (path → media types of the 200 answer).
MEDIA = {
    "/areas": ["application/geo+json"],
    "/grids": ["application/geo+json"],
    "/grids/{code}": ["application/geo+json"],
    "/grids/{code}/buildings": ["application/geo+json"],
    "/facilities": ["application/geo+json"],
    "/maps/layers/{layer}.geojson": ["application/geo+json"],
    "/lookup/batch": ["application/json", "text/csv"],
    "/maps/static/{path}": ["*/*"],
}
ERROR_MEDIA = {"/login": ["application/json", "text/html"]}  # the sign-in page answers a failed sign-in in HTML


def document_errors(app: FastAPI) -> None:
    """Document the error body and statuses on every operation, and the real media types of the 200 answers."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                kinds = ERROR_MEDIA.get(path, ["application/json"])
                for status, description in ERROR_STATUSES.items():
                    responses[status] = {
                        "description": description,
                        "content": {k: {"schema": ref} if k.endswith("json") else {} for k in kinds},
                    }
                ok = next((responses[s] for s in ("200", "201") if s in responses), None)
                if ok is not None and path in MEDIA:
                    ok["content"] = _media_content(ok.get("content", {}), MEDIA[path])
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend its schema


def _media_content(known: dict, kinds: list[str]) -> dict:
    """The 200 content under the real media types, keeping the schema a route documents (FastAPI files a
    ``responses=`` model under application/json; GeoJSON routes answer application/geo+json)."""
    schema = next((c["schema"] for c in known.values() if c.get("schema")), None)
    return {kind: known.get(kind) or ({"schema": schema} if schema and kind.endswith("json") else {}) for kind in kinds}


def allow_header(request: Request, headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``Allow`` naming every method of the path, not only those of the first route that matched it (GET and
    POST /login are two routes: Starlette's 405 listed one)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in _leaf_routes(request.app.routes):
        regex, allowed = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and allowed and regex.match(path):
            methods |= set(allowed)
    return {**(headers or {}), "Allow": ", ".join(sorted(methods))} if methods else headers


def _leaf_routes(routes):
    """Routes with a path and methods, inside included routers too (FastAPI keeps them nested)."""
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            yield from nested()
        else:
            yield route
