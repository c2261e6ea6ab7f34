"""Single sign-on: a JWT from the organisation's identity provider, verified offline against a keys file."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.app import create_app
from tests.fixtures.planning_city import C1, C2

ISSUER, AUDIENCE = "https://idp.example.gov.cn/realms/haidian", "geogrid"


@pytest.fixture
def idp(tmp_path, settings_env, planning_city):
    """A signing key; its public half as a JWKS file the settings point to. Returns ``sign(**claims)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    settings_env("GEOGRID_SSO_ISSUER", ISSUER)
    settings_env("GEOGRID_SSO_AUDIENCE", AUDIENCE)
    settings_env("GEOGRID_SSO_KEYS_FILE", str(keys))

    def sign(signer=key, kid="k1", **claims) -> str:
        base = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "u-1",
            "preferred_username": "赵规划",
            "exp": int(time.time()) + 300,
            "geogrid_role": "planner",
            "geogrid_areas": [C1],
        }
        return jwt.encode({**base, **claims}, signer, algorithm="RS256", headers={"kid": kid})

    return sign


def _as(token: str) -> TestClient:
    return TestClient(create_app(), headers={"Authorization": f"Bearer {token}"})


def test_valid_token_signs_in_with_its_role_and_areas(idp):
    me = _as(idp()).get("/me").json()
    assert (me["name"], me["role"], me["via"], me["areas"]) == ("赵规划", "planner", "sso", [C1])
    assert _as(idp()).get("/validation").status_code == 200
    assert _as(idp(geogrid_role="viewer")).get("/validation").status_code == 403


@pytest.mark.parametrize("bad", ["expired", "audience", "issuer", "foreign key", "role", "unsigned"])
def test_invalid_tokens_are_refused(idp, bad):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "expired": lambda: idp(exp=int(time.time()) - 10),
        "audience": lambda: idp(aud="another-app"),
        "issuer": lambda: idp(iss="https://evil.example"),
        "foreign key": lambda: idp(signer=other),
        "role": lambda: idp(geogrid_role="superuser"),
        "unsigned": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60}, "secret", algorithm="HS256"
        ),
    }[bad]()
    r = _as(token).get("/validation")
    assert r.status_code == 401 and "token" in r.json()["error"]


def test_sso_planner_is_scoped_and_a_disabled_local_account_blocks_it(idp, planning_city):
    import shapely
    from shapely.geometry import box, mapping

    from geogrid.accounts import store
    from tests.fixtures.planning_city import HOLE, A

    grown = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), HOLE)
    edits = {"edits": [{"op": "redraw", "grid": A, "geometry": mapping(grown)}]}
    r = _as(idp(geogrid_areas=[C2])).post("/plans", json=edits)
    assert r.status_code == 403 and A in r.json()["error"]
    assert _as(idp()).post("/plans", json=edits).status_code == 201
    with planning_city.begin() as conn:
        store.add_user(conn, "赵规划", "planner", None)
        store.set_disabled(conn, "赵规划")
    assert _as(idp()).get("/me").status_code == 401


def test_pem_key_file_works_too(idp, tmp_path, settings_env):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings_env("GEOGRID_SSO_KEYS_FILE", str(pem))
    assert _as(idp(signer=key, kid="any")).get("/me").json()["via"] == "sso"
