"""Who may call what: one authorization table, applied to every route by one app-wide dependency.

Each operation (method + route path as declared) maps to a permission (:mod:`geogrid.accounts.roles`). A route
missing from the table is refused to everyone but admins, and ``tests/api/test_authorization.py`` fails for it:
adding a route means adding its rule here. The caller is identified by, in order, ``Authorization: Bearer``
(an API key ``gg_...`` or an SSO token), ``X-API-Key``, or the ``geogrid_session`` cookie; a browser session's
writes must echo its CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from geogrid import db
from geogrid.accounts import audit, sso
from geogrid.accounts.roles import PUBLIC, allowed
from geogrid.accounts.store import KEY_PREFIX, Principal, check_key, check_session
from geogrid.errors import Forbidden, GeogridError, Unauthorized
from geogrid.i18n import t
from geogrid.settings import get_settings

SESSION_COOKIE = "geogrid_session"
CSRF_COOKIE = "geogrid_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS = "anonymous"

# (method, route path) → permission. HEAD is checked as GET.
RULES: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/docs/static/{path:path}"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/me"): PUBLIC,
    ("GET", "/lookup"): "lookup",
    ("POST", "/lookup/batch"): "batch",
    ("GET", "/areas"): "read",
    ("GET", "/grids"): "read",
    ("GET", "/grids/{code}"): "read",
    ("GET", "/grids/{code}/buildings"): "read",
    ("GET", "/facilities"): "read",
    ("GET", "/coverage"): "read",
    ("GET", "/coverage/gaps"): "read",
    ("GET", "/coverage/suggest"): "plan_read",
    ("GET", "/maps"): "maps",
    ("GET", "/maps/coverage"): "maps",
    ("GET", "/maps/grids/{code}"): "maps",
    ("GET", "/maps/layers/{layer}.geojson"): "maps",
    ("GET", "/maps/static/{path:path}"): PUBLIC,
    ("GET", "/planner"): "maps",
    ("GET", "/planner/grids.geojson"): "maps",
    ("GET", "/planner/buildings.geojson"): "maps",
    ("GET", "/planner/static/{path:path}"): PUBLIC,
    ("GET", "/validation"): "plan_read",
    ("POST", "/plans"): "plan",
    ("GET", "/plans/units"): "plan_read",
    ("POST", "/plans/units"): "plan",
    ("GET", "/plans/{plan_id}"): "plan_read",
    ("GET", "/plans/{plan_id}/map"): "plan_read",
    ("POST", "/plans/{plan_id}/apply"): "plan",
    ("POST", "/plans/{plan_id}/undo"): "plan",
    ("GET", "/grids/{code}/history"): "plan_read",
    ("POST", "/grids/{code}/revert"): "plan",
    ("GET", "/audit"): "admin",
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("POST", "/users/{name}/disable"): "admin",
    ("POST", "/users/{name}/keys"): "admin",
    ("DELETE", "/keys/{prefix}"): "admin",
    # Rosters (api/routers/rosters.py): names and roles are public, edits are the staff's.
    ("GET", "/staff"): "read",
    ("GET", "/staff/{staff_id}"): "read",
    ("POST", "/staff"): "personal",
    ("POST", "/staff/{staff_id}/assignments"): "personal",
    ("POST", "/assignments/{assignment_id}/end"): "personal",
    ("GET", "/grids/{code}/responsible"): "read",
    ("GET", "/party-orgs"): "read",
    ("GET", "/party-orgs/{org_id}"): "read",
    ("POST", "/party-orgs"): "personal",
    ("PATCH", "/party-orgs/{org_id}"): "personal",
    # The special-group ledger: personal data, staff of the place only (the handler checks the place).
    ("GET", "/ledger"): "personal",
    ("GET", "/ledger.xlsx"): "personal",
}
# Whole families of other topics' routes: (method, path prefix) → permission, for read-only feeds and the
# roster pages whose every operation needs the same permission.
PREFIX_RULES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/ogc", "read"),
    ("GET", "/tiles/", "maps"),
    ("GET", "/maps/", "maps"),
    ("GET", "/rosters", "personal"),
    ("POST", "/rosters", "personal"),
    ("PUT", "/rosters", "personal"),
    ("PATCH", "/rosters", "personal"),
    ("DELETE", "/rosters", "personal"),
    ("GET", "/ledgers", "personal"),
    ("POST", "/partitions", "plan"),
)
RATE_LIMITED = frozenset({"lookup", "batch"})


def rule(method: str, path: str) -> str | None:
    """The permission an operation needs, or None when the table has no rule for it."""
    method = "GET" if method == "HEAD" else method
    found = RULES.get((method, path))
    if found is None:
        found = next((perm for m, prefix, perm in PREFIX_RULES if m == method and path.startswith(prefix)), None)
    return found


def _credentials(request: Request) -> tuple[str, str] | None:
    """(kind, secret): key, bearer or session."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        return ("key" if token.startswith(KEY_PREFIX) else "sso", token)
    if request.headers.get("x-api-key"):
        return ("key", request.headers["x-api-key"].strip())
    if request.cookies.get(SESSION_COOKIE):
        return ("session", request.cookies[SESSION_COOKIE])
    return None


def identify(request: Request) -> Principal | None:
    """The caller, or None when no credentials came; 401 for credentials that are wrong, expired or revoked."""
    found = _credentials(request)
    if found is None:
        return None
    kind, secret = found
    with db.ready().connect() as conn:
        who = {"key": check_key, "sso": sso.verify, "session": check_session}[kind](conn, secret)
    if who is None:
        if kind == "session":  # an expired cookie: carry on as a visitor (the page offers sign-in)
            return None
        raise Unauthorized(t("the API key or token is not valid (revoked, expired or mistyped)"))
    return who


def _check_origin(request: Request) -> None:
    """A write from a browser page must come from one of our own origins (a hostile page cannot POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    settings = get_settings()
    host = urlsplit(origin).hostname or ""
    if origin not in settings.cors_origins and host not in settings.allowed_hosts and host != request.url.hostname:
        raise Forbidden(t("requests from {origin} are not allowed", origin=origin[:100]))


def _check_csrf(request: Request, who: Principal) -> None:
    if who.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not who.csrf or not sent or sent != who.csrf:
            raise Forbidden(t("the CSRF token is missing or wrong: reload the page"))


class TooManyRequests(GeogridError):
    """429 with ``Retry-After``, answered like every other error (``{"error": ...}``)."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class RateLimiter:
    """Requests per minute per client (an API key, else the client's address), in fixed one-minute windows."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every window (tests: key ids start again from 1 in a database emptied between tests)."""
        with self._lock:
            self._windows = {}

    def hit(self, client: str, limit: int) -> float | None:
        """Count one request; seconds to wait when over ``limit``, else None."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(client, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            if count >= limit:
                return start + 60 - now
            self._windows[client] = (start, count + 1)
            if len(self._windows) > 100_000:  # forget stale windows rather than grow without bound
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < 60}
        return None


LIMITER = RateLimiter()


def _rate_limit(request: Request, who: Principal | None) -> None:
    settings = get_settings()
    if who is not None and who.key_id is not None:
        client, limit = f"key:{who.key_id}", who.rate_per_minute or settings.rate_limit
    else:
        client, limit = f"ip:{request.client.host if request.client else '-'}", settings.rate_limit
    if limit <= 0:
        return
    wait = LIMITER.hit(client, limit)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            t("too many requests: at most {limit} a minute; retry in {seconds} s", limit=limit, seconds=seconds),
            retry_after=seconds,
        )


async def authorize(request: Request) -> None:
    """The app-wide dependency: the route's rule, the caller's role, CSRF, Origin and rate limits.

    A request without credentials needs no database, so it is checked on the event loop: a sync dependency
    costs a worker-thread round trip on every request (about a fifth of ``/health``'s CPU).
    """
    if _credentials(request) is None:
        _authorize(request, None)
    else:
        await run_in_threadpool(lambda: _authorize(request, identify(request)))


def _authorize(request: Request, who: Principal | None) -> None:
    route = request.scope.get("route")
    permission = rule(request.method, getattr(route, "path", request.url.path)) or "admin"
    request.state.principal = who
    if request.method not in SAFE_METHODS:
        _check_origin(request)
    if not allowed(who.role if who else None, permission, get_settings().public):
        if who is None:
            raise Unauthorized(t("sign in first: this needs the '{permission}' permission", permission=permission))
        raise Forbidden(t("role {role} may not do this (needs '{permission}')", role=who.role, permission=permission))
    if who is not None and permission != PUBLIC:  # sign-in and sign-out act on no one's data
        _check_csrf(request, who)
    if permission in RATE_LIMITED:
        _rate_limit(request, who)
    if permission == "personal":  # reading or exporting personal data is audited like a write
        request.state.audit_read = True


class MountedGuard:
    """Mounted applications (tipg under ``/ogc``) are not routes, so the app-wide dependency never sees them:
    the same table and roles apply to them here, before they run."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not any(path.startswith(prefix) for _, prefix, _ in MOUNTED):
            return await self.app(scope, receive, send)
        from fastapi.responses import JSONResponse
        from starlette.concurrency import run_in_threadpool

        request = Request(scope)
        try:
            permission = next(
                (p for m, prefix, p in MOUNTED if path.startswith(prefix) and m == request.method), "admin"
            )
            who = await run_in_threadpool(identify, request)
            if not allowed(who.role if who else None, permission, get_settings().public):
                if who is None:
                    raise Unauthorized(
                        t("sign in first: this needs the '{permission}' permission", permission=permission)
                    )
                raise Forbidden(
                    t("role {role} may not do this (needs '{permission}')", role=who.role, permission=permission)
                )
        except (Unauthorized, Forbidden) as exc:
            return await JSONResponse({"error": str(exc)}, status_code=exc.status_code)(scope, receive, send)
        await self.app(scope, receive, send)


# Applications mounted under a prefix (not APIRoutes): (method, prefix, permission); other methods need admin.
MOUNTED: tuple[tuple[str, str, str], ...] = (("GET", "/ogc", "read"), ("HEAD", "/ogc", "read"))


def _current(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


def _signed_in(request: Request) -> Principal:
    who = _current(request)
    if who is None:
        raise Unauthorized(t("sign in first"))
    return who


MaybeUser = Annotated[Principal | None, Depends(_current)]
CurrentUser = Annotated[Principal, Depends(_signed_in)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def record(conn, request: Request, action: str, **fields) -> None:
    """Audit a write made through the API (in the write's own transaction)."""
    who = _current(request) or Principal(name=ANONYMOUS, role="viewer", via="none")
    audit.record(conn, who, action, address=client_address(request), **fields)
    request.state.audited = True


def is_staff(who: Principal | None) -> bool:
    from geogrid.accounts.roles import STAFF

    return who is not None and who.role in STAFF


__all__ = ["RULES", "PREFIX_RULES", "authorize", "rule", "CurrentUser", "MaybeUser", "record", "audit"]
