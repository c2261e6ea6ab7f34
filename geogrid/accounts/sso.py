"""Single sign-on: a JWT from the organisation's identity provider, verified offline against a keys file.

Settings: ``GEOGRID_SSO_ISSUER``, ``GEOGRID_SSO_AUDIENCE`` and ``GEOGRID_SSO_KEYS_FILE`` (a JWKS document
as the provider publishes it, or one PEM public key). The token's ``geogrid_role`` claim gives the role
(default viewer) and ``geogrid_areas`` the granted area codes; a local account of the same name that is
disabled blocks the token.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geogrid.accounts.store import Principal
from geogrid.model import ROLES
from geogrid.settings import get_settings

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


@lru_cache(maxsize=4)
def _keys(path: str, mtime: float) -> dict[str | None, Any]:
    """Public keys by ``kid`` (None for a single PEM key): key objects of a JWK set, or the PEM text."""
    raw = Path(path).read_text()
    if raw.lstrip().startswith("{"):
        return {k.get("kid"): jwt.PyJWK(k).key for k in json.loads(raw).get("keys", [])}
    return {None: raw}


def enabled() -> bool:
    s = get_settings()
    return bool(s.sso_issuer and s.sso_audience and s.sso_keys_file)


def verify(conn: Connection, token: str) -> Principal | None:
    """The principal a valid token names; None for any invalid, expired or foreign token."""
    s = get_settings()
    keys_file = s.sso_keys_file
    if not enabled() or not keys_file:
        return None
    try:
        keys = _keys(keys_file, Path(keys_file).stat().st_mtime)
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) or (next(iter(keys.values())) if len(keys) == 1 else None)
        if key is None:
            return None
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=s.sso_audience,
            issuer=s.sso_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, OSError, ValueError):
        return None
    name = str(claims.get("preferred_username") or claims["sub"])[:100]
    if conn.scalar(text("SELECT disabled FROM accounts WHERE name = :n"), {"n": name}):
        return None
    role = claims.get("geogrid_role", "viewer")
    areas = claims.get("geogrid_areas") or []
    if role not in ROLES or not isinstance(areas, list):
        return None
    return Principal(name=name, role=role, via="sso", areas=tuple(str(a) for a in areas))
