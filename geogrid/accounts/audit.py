"""The audit log: every write records who, when, from where and what, in the writer's own transaction.

Rows are never updated or deleted (a trigger refuses it, and in the embedded cluster the application's role
has only SELECT and INSERT on the table).
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geogrid.accounts.store import Principal


def cli_principal() -> Principal:
    """The operating-system user running a command: the CLI acts with the database's own rights."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal(name=f"cli:{user}", role="admin", via="cli")


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str | None
    via: str
    address: str | None
    action: str
    area: str | None
    target: str | None
    details: dict | None


def record(
    conn: Connection,
    who: Principal,
    action: str,
    *,
    address: str | None = None,
    area: str | None = None,
    target: str | None = None,
    details: dict | None = None,
) -> None:
    """Append one row; commits or rolls back with the caller's write."""
    conn.execute(
        text(
            "INSERT INTO audit_log (actor, role, via, address, action, area, target, details) "
            "VALUES (:actor, :role, :via, :address, :action, :area, :target, CAST(:details AS jsonb))"
        ),
        {
            "actor": who.name,
            "role": who.role,
            "via": who.via,
            "address": address,
            "action": action,
            "area": area,
            "target": target,
            "details": json.dumps(details, default=str, ensure_ascii=False) if details else None,
        },
    )


def entries(
    conn: Connection,
    *,
    area: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Newest first; ``area`` matches a street/community code prefix (a street's code starts its communities')."""
    rows = conn.execute(
        text(
            "SELECT id, at, actor, role, via, address, action, area, target, details FROM audit_log "
            "WHERE (CAST(:area AS text) IS NULL OR area LIKE :area || '%') "
            "AND (CAST(:actor AS text) IS NULL OR actor = :actor) "
            "AND (CAST(:action AS text) IS NULL OR action = :action) "
            "AND (CAST(:since AS date) IS NULL OR at >= :since) AND (CAST(:until AS date) IS NULL OR at < :until) "
            "ORDER BY id DESC LIMIT :limit"
        ),
        {
            "area": area,
            "actor": actor,
            "action": action,
            "since": since,
            "until": until + timedelta(days=1) if until else None,
            "limit": limit,
        },
    ).mappings()
    return [AuditEntry(**r) for r in rows]
