"""Accounts, API keys and browser sessions in the database.

Passwords are argon2 hashes (argon2-cffi's defaults); API keys and session tokens are random (190 and 256 bits)
so a SHA-256 at rest is enough and keeps a key check to one indexed lookup per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geogrid.errors import Conflict, InputError, NotFound
from geogrid.i18n import t
from geogrid.model import ROLES

_HASHER = PasswordHasher()
KEY_PREFIX = "gg_"


class Principal(BaseModel):
    """Who is asking: an account (by name), its role and the areas granted; ``via`` says how it signed in."""

    name: str
    role: str
    via: str  # password, session, key, sso, cli
    areas: tuple[str, ...] = ()
    key_id: int | None = None
    rate_per_minute: int | None = None
    csrf: str | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(t("role must be one of {roles}", roles=", ".join(ROLES)), field="role")
    return role


def add_user(conn: Connection, name: str, role: str, password: str | None, areas: Sequence[str] = ()) -> int:
    """Create an account (password optional: systems sign in with keys, SSO users with tokens)."""
    _check_role(role)
    if not name.strip() or len(name) > 100:
        raise InputError(t("an account name is 1 to 100 characters"), field="name")
    if conn.scalar(text("SELECT 1 FROM accounts WHERE name = :n"), {"n": name}):
        raise Conflict(t("account '{name}' exists already", name=name))
    pw = _HASHER.hash(password) if password else None
    account_id = conn.scalar(
        text("INSERT INTO accounts (name, role, password_hash) VALUES (:n, :r, :p) RETURNING id"),
        {"n": name, "r": role, "p": pw},
    )
    grant(conn, name, areas)
    return account_id


def _account_id(conn: Connection, name: str) -> int:
    found = conn.scalar(text("SELECT id FROM accounts WHERE name = :n"), {"n": name})
    if found is None:
        raise NotFound(t("no account '{name}'", name=name))
    return found


def grant(conn: Connection, name: str, areas: Sequence[str]) -> None:
    """Let an account act in these streets or communities (by area code)."""
    account_id = _account_id(conn, name)
    for code in areas:
        conn.execute(
            text("INSERT INTO account_scopes VALUES (:a, :c) ON CONFLICT DO NOTHING"), {"a": account_id, "c": code}
        )


def set_disabled(conn: Connection, name: str, disabled: bool = True) -> None:
    """Disable (or enable) an account: its sessions end and its keys stop working at once."""
    account_id = _account_id(conn, name)
    conn.execute(text("UPDATE accounts SET disabled = :d WHERE id = :a"), {"d": disabled, "a": account_id})
    conn.execute(text("DELETE FROM sessions WHERE account_id = :a"), {"a": account_id})


def reset_password(conn: Connection, name: str, password: str) -> None:
    account_id = _account_id(conn, name)
    conn.execute(
        text("UPDATE accounts SET password_hash = :p WHERE id = :a"), {"p": _HASHER.hash(password), "a": account_id}
    )
    conn.execute(text("DELETE FROM sessions WHERE account_id = :a"), {"a": account_id})


def list_users(conn: Connection) -> list[dict]:
    return [
        dict(r)
        for r in conn.execute(
            text(
                "SELECT a.name, a.role, a.disabled, a.created_at, "
                "coalesce(array_agg(s.area_code ORDER BY s.area_code) FILTER (WHERE s.area_code IS NOT NULL), '{}') "
                "AS areas "
                "FROM accounts a LEFT JOIN account_scopes s ON s.account_id = a.id GROUP BY a.id ORDER BY a.name"
            )
        ).mappings()
    ]


def _principal(conn: Connection, account_id: int, via: str, **extra) -> Principal | None:
    row = conn.execute(text("SELECT name, role, disabled FROM accounts WHERE id = :a"), {"a": account_id}).first()
    if row is None or row.disabled:
        return None
    areas = tuple(
        conn.scalars(text("SELECT area_code FROM account_scopes WHERE account_id = :a ORDER BY 1"), {"a": account_id})
    )
    return Principal(name=row.name, role=row.role, via=via, areas=areas, **extra)


def check_password(conn: Connection, name: str, password: str) -> Principal | None:
    """The account when the password is right and the account enabled; else None (same answer either way)."""
    row = conn.execute(text("SELECT id, password_hash FROM accounts WHERE name = :n"), {"n": name}).first()
    try:
        ok = row is not None and row.password_hash is not None and _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    return _principal(conn, row.id, "password") if ok and row is not None else None


def key_prefix(key: str) -> str:
    """The public part of a key (``gg_<prefix>_<secret>``): the 8 hex characters that name it in lists and audits."""
    return key.removeprefix(KEY_PREFIX).split("_")[0]


def add_key(conn: Connection, name: str, rate_per_minute: int | None = None) -> str:
    """A new API key for an account, returned once (only its hash is stored)."""
    account_id = _account_id(conn, name)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    conn.execute(
        text("INSERT INTO api_keys (account_id, prefix, key_hash, rate_per_minute) VALUES (:a, :p, :h, :r)"),
        {"a": account_id, "p": prefix, "h": _digest(key), "r": rate_per_minute},
    )
    return key


def revoke_key(conn: Connection, prefix: str) -> str:
    """Revoke a key by its prefix (the 8 characters after ``gg_``); returns the account's name."""
    prefix = key_prefix(prefix)
    name = conn.scalar(
        text(
            "UPDATE api_keys k SET revoked_at = now() FROM accounts a WHERE a.id = k.account_id AND k.prefix = :p "
            "AND k.revoked_at IS NULL RETURNING a.name"
        ),
        {"p": prefix},
    )
    if name is None:
        raise NotFound(t("no active key '{prefix}'", prefix=prefix))
    return name


def check_key(conn: Connection, key: str) -> Principal | None:
    prefix = key_prefix(key)
    row = conn.execute(
        text("SELECT id, account_id, key_hash, rate_per_minute FROM api_keys WHERE prefix = :p AND revoked_at IS NULL"),
        {"p": prefix},
    ).first()
    if row is None or not secrets.compare_digest(row.key_hash, _digest(key)):
        return None
    return _principal(conn, row.account_id, "key", key_id=row.id, rate_per_minute=row.rate_per_minute)


def open_session(conn: Connection, name: str, hours: float) -> tuple[str, str]:
    """A new browser session for a signed-in account: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(
        text("INSERT INTO sessions (token_hash, account_id, csrf, expires_at) VALUES (:h, :a, :c, :e)"),
        {"h": _digest(token), "a": _account_id(conn, name), "c": csrf, "e": datetime.now(UTC) + timedelta(hours=hours)},
    )
    return token, csrf


def check_session(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        text("SELECT account_id, csrf FROM sessions WHERE token_hash = :h AND expires_at > now()"),
        {"h": _digest(token)},
    ).first()
    return None if row is None else _principal(conn, row.account_id, "session", csrf=row.csrf)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(text("DELETE FROM sessions WHERE token_hash = :h OR expires_at < now()"), {"h": _digest(token)})
