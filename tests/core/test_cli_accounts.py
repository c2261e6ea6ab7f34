"""Identities from the command line as an administrator uses them: `geogrid users add|disable|enable|reset` and
`geogrid keys add|revoke`, checked by signing in through the API afterwards (argon2 at rest, a key shown once,
hashed, revocable, with its own rate)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from api.security import LIMITER
from geogrid.cli import application
from tests.fixtures.planning_city import C1

runner = CliRunner()
POINT = {"lon": 116.305, "lat": 39.905}


def _cli(*args: str) -> str:
    result = runner.invoke(application(), list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _login(name: str, password: str) -> int:
    return TestClient(create_app()).post("/login", json={"name": name, "password": password}).status_code


def test_users_add_disable_enable_reset(planning_city):
    _cli("users", "add", "周规划", "--role", "planner", "--area", C1, "--password", "first password")
    with planning_city.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM accounts WHERE name = '周规划'"))
    assert stored.startswith("$argon2id$") and "first password" not in stored
    assert _login("周规划", "first password") == 200

    browser = TestClient(create_app())
    csrf = browser.post("/login", json={"name": "周规划", "password": "first password"}).json()["csrf"]
    assert browser.get("/me").json()["areas"] == [C1]
    _cli("users", "reset", "周规划", "--password", "second password")
    assert browser.get("/me").json()["name"] is None  # the reset ended the open session
    assert browser.post("/plans", json={"edits": []}, headers={"X-CSRF-Token": csrf}).status_code == 401
    assert _login("周规划", "first password") == 401 and _login("周规划", "second password") == 200

    _cli("users", "disable", "周规划")
    assert _login("周规划", "second password") == 401
    _cli("users", "enable", "周规划")
    assert _login("周规划", "second password") == 200
    short = runner.invoke(application(), ["users", "reset", "周规划", "--password", "short"])
    assert short.exit_code == 1 and "8 characters" in str(short.exception)  # main() prints it as one line
    unknown = runner.invoke(application(), ["users", "disable", "nobody-here"])
    assert unknown.exit_code == 1 and "nobody-here" in str(unknown.exception)


def test_keys_shown_once_hashed_rate_limited_and_revocable(planning_city, settings_env):
    settings_env("GEOGRID_RATE_LIMIT", "100")
    LIMITER.reset()
    _cli("users", "add", "接口系统", "--role", "api_client", "--no-password")
    key = _cli("keys", "add", "接口系统", "--rate", "2").strip().splitlines()[-1]
    assert key.startswith("gg_")
    with planning_city.connect() as conn:
        rows = conn.execute(text("SELECT prefix, key_hash, rate_per_minute FROM api_keys")).mappings().all()
        listed = conn.execute(text("SELECT * FROM accounts WHERE name = '接口系统'")).mappings().one()
    mine = [r for r in rows if key.startswith(f"gg_{r['prefix']}_")]
    assert len(mine) == 1 and mine[0]["rate_per_minute"] == 2
    assert all(key not in str(v) and key[12:] not in str(v) for r in rows for v in r.values())  # only a digest
    assert key not in str(dict(listed)) and key not in _cli("users", "list")  # never shown again

    client = TestClient(create_app(), headers={"X-API-Key": key})
    codes = [client.get("/lookup", params=POINT).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the key's own rate (2), not the setting (100)
    _cli("keys", "revoke", key[3:11])
    assert client.get("/grids").status_code == 401


def test_clients_without_a_key_are_limited_per_address(planning_city, settings_env):
    settings_env("GEOGRID_RATE_LIMIT", "2")
    LIMITER.reset()
    here = TestClient(create_app(), client=("10.0.0.7", 5000))
    there = TestClient(create_app(), client=("10.0.0.8", 5000))
    assert [here.get("/lookup", params=POINT).status_code for _ in range(3)] == [200, 200, 429]
    assert here.post("/lookup/batch", json={"items": []}).status_code == 401  # batch needs a key; no count spent
    refused = here.get("/lookup", params=POINT)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert "2" in refused.json()["error"]
    assert there.get("/lookup", params=POINT).status_code == 200  # another address has its own budget
