"""Who may call what: every operation in /openapi.json × every role (and no sign-in) → 200-ish / 401 / 403;
planners confined to their granted communities or streets; CSRF, Origin, Host and key revocation."""

from __future__ import annotations

import re

import pytest
import shapely
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import text

from api.app import create_app
from api.security import LIMITER, rule
from geogrid.accounts.roles import allowed
from geogrid.model import ROLES
from geogrid.settings import get_settings
from tests.conftest import make_account
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, C2, A, B, M

ANONYMOUS = None


def _operations(spec: dict) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


def _url(path: str) -> str:
    """A concrete URL for a route path: every parameter gets a value that passes its type."""
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: "1" if m.group(1).endswith("id") else "x", path)


def _missing_rules(app) -> list[tuple[str, str]]:
    return [
        (m, r.path)
        for r in app.routes
        if isinstance(r, APIRoute)
        for m in r.methods
        if m != "HEAD" and rule(m, r.path) is None
    ]


def test_every_route_has_a_rule():
    """A route added without a rule in api/security.py fails here (at run time it is admin-only)."""
    assert _missing_rules(create_app()) == []


def test_a_new_route_without_a_rule_is_caught(empty_db):
    """The check above can fail: a route added beside ours is reported, is missing from the table the matrix
    reads, and answers 403 to everyone but admins until it has a rule."""
    app = create_app()

    @app.get("/grids/{code}/residents")
    def residents(code: str) -> dict:
        return {"code": code}

    @app.post("/grids/{code}/rename")
    def rename(code: str) -> dict:
        return {"code": code}

    assert _missing_rules(app) == [("GET", "/grids/{code}/residents"), ("POST", "/grids/{code}/rename")]
    spec = TestClient(app).get("/openapi.json").json()
    assert [op for op in _operations(spec) if rule(*op) is None] == _missing_rules(app)
    assert TestClient(app).get("/grids/A/residents").status_code == 401
    viewer = TestClient(app, headers={"Authorization": f"Bearer {make_account(empty_db, 'planner')[1]}"})
    assert viewer.get("/grids/A/residents").status_code == 403
    admin = TestClient(app, headers={"Authorization": f"Bearer {make_account(empty_db, 'admin')[1]}"})
    assert admin.get("/grids/A/residents").json() == {"code": "A"}


def test_matrix_from_openapi(empty_db):
    """Every documented operation × every role and no sign-in: allowed ones are never 401/403 (nor 500), others
    are; every answer carries the security headers."""
    spec = TestClient(create_app()).get("/openapi.json").json()
    operations = _operations(spec)
    clients = {ANONYMOUS: TestClient(create_app(), raise_server_exceptions=False)}
    for role in ROLES:
        clients[role] = TestClient(
            create_app(),
            raise_server_exceptions=False,
            headers={"Authorization": f"Bearer {make_account(empty_db, role)[1]}"},
        )
    public = get_settings().public
    checked = denied = 0
    wrong: list = []
    unguarded: set = set()
    for method, path in operations:
        permission = rule(method, path)
        assert permission is not None, (method, path)
        for role, client in clients.items():
            answer = client.request(method, _url(path))
            status = answer.status_code
            unguarded |= _missing_headers(method, path, answer)
            expected = allowed(role, permission, public)
            ok = status not in (401, 403, 500) if expected else status == (401 if role is None else 403)
            checked += 1
            denied += not expected
            if not ok:
                wrong.append((method, path, role, status))
    assert [w for w in wrong if w[:2] != ("POST", "/login")] == []  # sign-in answers 401 to a wrong password
    assert unguarded == set()  # every answer, allowed or refused, page or JSON, carries the security headers
    # Figures for the report: operations × (roles + no sign-in), of which denials.
    print(
        f"\nauthorization matrix: {len(operations)} operations × {len(clients)} callers = {checked} checks, "
        f"{denied} denials"
    )
    assert len(operations) >= 30 and denied >= 60


def _missing_headers(method: str, path: str, answer) -> set[tuple[str, str, str]]:
    """(method, path, header) for each security header an answer lacks; pages must allow no inline script."""
    csp = answer.headers.get("content-security-policy", "")
    script_src = csp.split("script-src")[1].split(";")[0] if "script-src" in csp else "missing"
    missing = {
        "nosniff": answer.headers.get("x-content-type-options") != "nosniff",
        "frame-ancestors": "frame-ancestors 'none'" not in csp,
        "script-src": "'unsafe-inline'" in script_src or script_src == "missing",
    }
    return {(method, path, name) for name, bad in missing.items() if bad}


def test_writes_need_sign_in_and_reads_stay_public(empty_db):
    anonymous = TestClient(create_app())
    assert anonymous.get("/grids").status_code == 200
    assert anonymous.get("/maps").status_code == 200
    assert anonymous.get("/lookup", params={"lon": 116.3, "lat": 39.9}).status_code in (200, 404)
    r = anonymous.post("/plans", json={"edits": [{"op": "redraw"}]})
    assert r.status_code == 401 and "sign in" in r.json()["error"]
    assert anonymous.post("/lookup/batch", json={"items": []}).status_code == 401


def test_public_operations_are_a_setting(empty_db, settings_env):
    settings_env("GEOGRID_PUBLIC", "")
    client = TestClient(create_app())
    assert client.get("/grids").status_code == 401
    assert client.get("/health").status_code == 200  # always public


def _redraw(code, geom):
    return {"op": "redraw", "grid": code, "geometry": mapping(geom)}


A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)


def test_planner_confined_to_granted_community(planning_city, client_as):
    """A planner of C2 gets 403 naming grid A for a plan touching C1; a planner of C1 may; nothing is stored."""
    outsider, insider = client_as("planner", C2), client_as("planner", C1)
    with planning_city.connect() as conn:
        plans_before = conn.scalar(text("SELECT count(*) FROM plans"))
    refused = outsider.post("/plans", json={"edits": [_redraw(A, A_GROWN)]})
    assert refused.status_code == 403 and A in refused.json()["error"] and C1 in refused.json()["error"]
    with planning_city.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plans")) == plans_before  # the draft was rolled back
    plan = insider.post("/plans", json={"edits": [_redraw(A, A_GROWN)]})
    assert plan.status_code == 201
    plan_id = plan.json()["plan"]
    applied_by_outsider = outsider.post(f"/plans/{plan_id}/apply")
    assert applied_by_outsider.status_code == 403 and A in applied_by_outsider.json()["error"]
    assert insider.post(f"/plans/{plan_id}/apply").status_code == 200
    assert outsider.post(f"/grids/{A}/revert", params={"to_version": 1}).status_code == 403
    assert insider.post(f"/grids/{A}/revert", params={"to_version": 1}).status_code == 200
    # A merge across the community line touches M (C2) too: refused even for C1's planner, naming M.
    cross = insider.post("/plans", json={"edits": [{"op": "move_buildings", "buildings": ["b10"], "to": A}]})
    assert cross.status_code in (403, 422, 400)
    if cross.status_code == 403:
        assert M in cross.json()["error"]


def test_planner_granted_a_street_may_plan_its_communities(planning_city, client_as):
    with planning_city.begin() as conn:
        street = conn.scalar(
            text(
                "INSERT INTO admin_areas (code, name, level, geom) SELECT '110108001000', '街道', "
                "'street', ST_Multi(ST_Union(geom)) FROM admin_areas RETURNING id"
            )
        )
        conn.execute(text("UPDATE admin_areas SET parent_id = :s WHERE level = 'community'"), {"s": street})
    planner = client_as("planner", "110108001000")
    assert planner.post("/plans", json={"edits": [_redraw(A, A_GROWN)]}).status_code == 201


def test_staff_and_viewers_cannot_plan(planning_city, client_as):
    for role in ("viewer", "api_client", "grid_staff", "community_staff"):
        r = client_as(role, C1).post("/plans", json={"edits": [_redraw(A, A_GROWN)]})
        assert r.status_code == 403, role


def test_session_login_csrf_and_logout(planning_city, database):
    name, _ = make_account(database, "planner", (C1,), password="correct horse")
    browser = TestClient(create_app())
    assert browser.post("/login", json={"name": name, "password": "wrong password"}).status_code == 401
    signed = browser.post("/login", json={"name": name, "password": "correct horse"})
    assert signed.status_code == 200 and signed.json()["role"] == "planner"
    csrf = signed.json()["csrf"]
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    body = {"edits": [_redraw(A, A_GROWN)]}
    no_token = browser.post("/plans", json=body)
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["error"]
    assert browser.post("/plans", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert browser.post("/plans", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert browser.get("/me").json()["name"] == name
    browser.post("/logout", headers={"X-CSRF-Token": csrf})
    assert browser.post("/plans", json=body, headers={"X-CSRF-Token": csrf}).status_code == 401


def test_login_form_redirects_only_to_this_server(planning_city, database):
    name, _ = make_account(database, "viewer", password="correct horse")
    browser = TestClient(create_app(), follow_redirects=False)
    page = browser.get("/login", params={"next": "/planner"})
    assert page.status_code == 200 and 'name="password"' in page.text
    r = browser.post("/login", data={"name": name, "password": "correct horse", "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    wrong = browser.post("/login", data={"name": name, "password": "nope", "next": "/planner"})
    assert wrong.status_code == 401 and "login-error" in wrong.text


def test_hostile_origin_cannot_write(planning_city, client_as):
    admin = client_as("admin")
    r = admin.post("/plans", json={"edits": [_redraw(A, A_GROWN)]}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "evil.example" in r.json()["error"]


def test_dns_rebinding_host_is_refused(empty_db):
    r = TestClient(create_app(), base_url="http://attacker.example").get("/grids")
    assert r.status_code == 400


def test_revoked_key_and_disabled_account_stop_working(planning_city, client_as):
    from geogrid.accounts import store

    client = client_as("planner", C1)
    key = client.headers["authorization"].split()[1]
    assert client.get("/validation").status_code == 200
    with planning_city.begin() as conn:
        store.revoke_key(conn, store.key_prefix(key))
    assert client.get("/validation").status_code == 401
    other = client_as("planner", C1)
    with planning_city.begin() as conn:
        store.set_disabled(conn, other.account)
    assert other.get("/validation").status_code == 401


def test_keys_are_hashed_at_rest(planning_city, client_as):
    client = client_as("api_client")
    key = client.headers["authorization"].split()[1]
    with planning_city.connect() as conn:
        stored = conn.execute(text("SELECT prefix, key_hash FROM api_keys")).all()
    secret = key.split("_", 2)[2]  # the secret itself may contain "_"
    assert all(key not in (p, h) and secret not in h for p, h in stored)


@pytest.mark.parametrize("limit", [3])
def test_rate_limit_answers_429_with_retry_after(planning_city, client_as, settings_env, limit):
    settings_env("GEOGRID_RATE_LIMIT", str(limit))
    LIMITER.reset()
    client = client_as("api_client")
    codes = [client.get("/lookup", params={"lon": 116.305, "lat": 39.905}).status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[-1] == 429
    r = client.get("/lookup", params={"lon": 116.305, "lat": 39.905})
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    # Another key has its own budget (a key's own rate: tests/core/test_cli_accounts.py).
    assert client_as("api_client").get("/lookup", params={"lon": 116.305, "lat": 39.905}).status_code == 200


def test_mounted_ogc_follows_the_public_setting(empty_db, settings_env, client_as):
    """tipg under /ogc is a mounted app, not a route: the same rules reach it."""
    settings_env("GEOGRID_PUBLIC", "maps,lookup")
    assert TestClient(create_app()).get("/ogc/collections").status_code == 401
    assert client_as("viewer").get("/ogc/collections").status_code == 200
    assert client_as("viewer").post("/ogc/collections").status_code == 403


def test_scope_matrix(planning_city, client_as):
    """Every write or personal read that depends on where: an account granted the place (in) and one granted
    another place (out), per role that holds the permission. Out of scope is 403 naming the grid or community;
    in scope is never 401/403. (Roles without the permission are the role matrix's denials.)"""
    admin = client_as("admin")
    planners = {"in": client_as("planner", C1), "out": client_as("planner", C2)}
    staff = {
        "community_staff": {"in": client_as("community_staff", C1), "out": client_as("community_staff", C2)},
        "grid_staff": {"in": client_as("grid_staff", A), "out": client_as("grid_staff", B)},
    }
    redraw = {"edits": [_redraw(A, A_GROWN)]}

    def plan_id() -> int:
        return admin.post("/plans", json=redraw).json()["plan"]

    checks: list[tuple[str, str, str, int, str]] = []

    def both(role: str, label: str, clients: dict, call, named: str) -> None:
        for side in ("out", "in"):  # out first: a refused write must leave the place as the in-scope call finds it
            r = call(clients[side])
            checks.append((role, label, side, r.status_code, r.text))
            ok = r.status_code == 403 and named in r.json()["error"] if side == "out" else r.status_code < 400
            assert ok, (role, label, side, r.status_code, r.text)

    both("planner", "POST /plans", planners, lambda c: c.post("/plans", json=redraw), A)
    applied = plan_id()
    both("planner", "POST /plans/{id}/apply", planners, lambda c: c.post(f"/plans/{applied}/apply"), A)
    both("planner", "POST /plans/{id}/undo", planners, lambda c: c.post(f"/plans/{applied}/undo"), A)
    both("planner", "POST /grids/{code}/revert", planners, lambda c: c.post(f"/grids/{A}/revert?to_version=1"), A)
    both("planner", "POST /plans/units", planners, lambda c: c.post("/plans/units", params={"community": C1}), C1)
    for role, clients in staff.items():
        named = A if role == "grid_staff" else C1

        def assign(c):
            sid = c.post("/staff", json={"name": "张网格"}).json()["id"]
            return c.post(f"/staff/{sid}/assignments", json={"grid_code": A, "role": "full_time_worker"})

        both(role, "GET /ledger?grid", clients, lambda c: c.get("/ledger", params={"grid": A}), A)
        both(role, "GET /ledger.xlsx?grid", clients, lambda c: c.get("/ledger.xlsx", params={"grid": A}), A)
        both(role, "POST /staff/{id}/assignments", clients, assign, A)
        if role == "community_staff":
            both(role, "GET /ledger?community", clients, lambda c: c.get("/ledger", params={"community": C1}), named)
    denials = sum(side == "out" for _, _, side, _, _ in checks)
    print(f"\nscope matrix: {len({c[1] for c in checks})} operations, {len(checks)} checks, {denials} denials")
