"""Sign-in (a form and JSON), sign-out, who am I; accounts, keys and the audit log for admins."""

from __future__ import annotations

import math
from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api import security
from api.deps import ReadConn, WriteConn, WrittenDate
from api.responses import Account, AccountListed, Disabled, Me, NewKey, RevokedKey, SignedOut
from api.security import CSRF_COOKIE, LIMITER, SESSION_COOKIE, CurrentUser, MaybeUser
from geogrid import db
from geogrid.accounts import audit, store
from geogrid.errors import GeogridError, Unauthorized
from geogrid.i18n import t
from geogrid.model import ROLES
from geogrid.settings import get_settings

router = APIRouter(tags=["accounts"])
LOGIN_ATTEMPTS_PER_MINUTE = 10

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font-family: sans-serif; max-width: 24em; margin: 4em auto; }}
label {{ display: block; margin: .6em 0; }}
input {{ width: 100%; padding: .3em; }} .error {{ color: #b30000; }}</style></head>
<body><h1>{title}</h1>{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>{name_label}<input id="login-name" name="name" autocomplete="username" required></label>
<label>{password_label}<input id="login-password" name="password" type="password" autocomplete="current-password"
 required></label>
<button id="login-submit" type="submit">{submit}</button></form></body></html>"""


class LoginIn(BaseModel):
    name: str = Field(..., max_length=100)
    password: str = Field(..., max_length=200)


class UserIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=100)
    role: str = Field(..., description=", ".join(ROLES))
    password: str | None = Field(None, min_length=8, max_length=200)
    areas: list[str] = Field([], description="Street or community codes the account may act in.")


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no ``//host`` or scheme): sign-in never redirects elsewhere."""
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _login_page(next_: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        LOGIN_PAGE.format(
            title=escape(t("Sign in to geogrid")),
            next=escape(_safe_next(next_)),
            error=f'<p class="error" id="login-error">{escape(error)}</p>' if error else "",
            name_label=escape(t("Account")),
            password_label=escape(t("Password")),
            submit=escape(t("Sign in")),
        ),
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(next: str = Query("/", max_length=500)) -> HTMLResponse:
    return _login_page(next)


def _secure(request: Request) -> bool:
    mode = get_settings().cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


async def _login_input(request: Request) -> tuple[LoginIn, str | None]:
    """The name and password from a form (with where to go next) or from JSON (next None)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            return LoginIn.model_validate_json(await request.body()), None
        except ValueError:
            raise GeogridError(t('expected JSON {{"name": ..., "password": ...}}')) from None
    form = await request.form()
    try:
        return LoginIn(name=str(form.get("name", "")), password=str(form.get("password", ""))), _safe_next(
            str(form.get("next") or "/")
        )
    except ValueError:
        raise GeogridError(t("expected a name and a password")) from None


@router.post(
    "/login",
    response_model=None,
    responses={200: {"model": Me, "description": "signed in (JSON body)"}, 303: {"description": "signed in (form)"}},
)
async def login(request: Request) -> Response:
    """Check the password, open a session: cookies ``geogrid_session`` (HttpOnly) and ``geogrid_csrf``."""
    body, next_ = await _login_input(request)
    limited = get_settings().rate_limit > 0  # GEOGRID_RATE_LIMIT=0 turns every rate limit off
    wait = LIMITER.hit(f"login:{security.client_address(request)}", LOGIN_ATTEMPTS_PER_MINUTE) if limited else None
    if wait is not None:
        return JSONResponse(
            {"error": t("too many sign-in attempts; retry in {seconds} s", seconds=math.ceil(wait))},
            status_code=429,
            headers={"Retry-After": str(math.ceil(wait))},
        )
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_login, request, body, next_)


def _login(request: Request, body: LoginIn, next_: str | None) -> Response:
    # Its own transaction, not WriteConn: a failed sign-in is recorded (committed) and then answered 401, and
    # the rate limit is checked before any connection is taken.
    hours = get_settings().session_hours
    with db.ready().begin() as conn:
        who = store.check_password(conn, body.name, body.password)
        if who is None:
            request.state.principal = store.Principal(name=body.name[:100], role="viewer", via="password")
            security.record(conn, request, "login_failed")
        else:
            token, csrf = store.open_session(conn, who.name, hours)
            request.state.principal = who
            security.record(conn, request, "login")
    if who is None:
        if next_ is not None:
            return _login_page(next_, t("wrong account name or password"), status=401)
        raise Unauthorized(t("wrong account name or password"))
    response = (
        RedirectResponse(next_, status_code=303)
        if next_ is not None
        else JSONResponse(
            Me(name=who.name, role=who.role, via="session", areas=list(who.areas), csrf=csrf).model_dump()
        )
    )
    age, secure = int(hours * 3600), _secure(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, secure=secure, samesite="strict")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, secure=secure, samesite="strict")
    return response


@router.post("/logout", response_model=None, responses={200: {"model": SignedOut}})
def logout(request: Request, conn: WriteConn) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        store.close_session(conn, token)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me")
def me(who: MaybeUser) -> Me:
    """The signed-in account (all None when not signed in) and, for a browser session, its CSRF token."""
    if who is None:
        return Me(name=None, role=None)
    return Me(name=who.name, role=who.role, via=who.via, areas=list(who.areas), csrf=who.csrf)


AuditDate = Annotated[WrittenDate, Query(description="YYYY-MM-DD")]


@router.get("/audit")
def get_audit(
    conn: ReadConn,
    area: Annotated[str | None, Query(max_length=32, description="Street or community code (prefix).")] = None,
    user: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: AuditDate = None,
    until: AuditDate = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[audit.AuditEntry]:
    """Who wrote what, when and from where, newest first."""
    return audit.entries(conn, area=area, actor=user, action=action, since=since, until=until, limit=limit)


@router.get("/users", response_model=list[AccountListed])
def users(conn: ReadConn) -> list[dict]:
    return store.list_users(conn)


@router.post("/users", status_code=201, response_model=Account)
def add_user(body: UserIn, request: Request, who: CurrentUser, conn: WriteConn) -> dict:
    store.add_user(conn, body.name, body.role, body.password, body.areas)
    security.record(conn, request, "user_add", target=body.name, details={"role": body.role, "areas": body.areas})
    return {"name": body.name, "role": body.role, "areas": body.areas}


@router.post("/users/{name}/disable", response_model=Disabled)
def disable_user(name: str, request: Request, who: CurrentUser, conn: WriteConn) -> dict:
    store.set_disabled(conn, name, True)
    security.record(conn, request, "user_disable", target=name)
    return {"name": name, "disabled": True}


@router.post("/users/{name}/keys", status_code=201, response_model=NewKey)
def add_key(
    name: str,
    request: Request,
    who: CurrentUser,
    conn: WriteConn,
    rate_per_minute: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> dict:
    """A new API key, shown this once."""
    key = store.add_key(conn, name, rate_per_minute)
    security.record(conn, request, "key_add", target=name, details={"prefix": store.key_prefix(key)})
    return {"name": name, "key": key}


@router.delete("/keys/{prefix}", response_model=RevokedKey)
def revoke_key(prefix: str, request: Request, who: CurrentUser, conn: WriteConn) -> dict:
    owner = store.revoke_key(conn, prefix)
    security.record(conn, request, "key_revoke", target=owner, details={"prefix": prefix})
    return {"revoked": prefix, "name": owner}
