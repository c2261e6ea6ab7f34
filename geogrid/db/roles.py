"""The embedded cluster's roles and passwords: nobody but geogrid's own user reaches the data.

- ``postgres`` (superuser) signs in with a generated password (scram-sha-256, never ``trust``); it creates the
  database, the extensions and the roles, and owns the audit log.
- ``geogrid_app`` (no superuser, no role or database creation) owns the ``public`` schema and everything the
  migrations create; it may only SELECT and INSERT the audit log, so it cannot rewrite it.
- ``geogrid_read`` may only read the public feeds' views (schema ``ogc``, OGC API Features): no table of ours.

The passwords live in ``GEOGRID_HOME/secrets/`` (directory 0700, files 0600, owned by the user running geogrid);
the socket directory is 0700, so local users cannot even reach the socket.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Literal, overload
from urllib.parse import quote

SUPERUSER, APP, READER = "postgres", "geogrid_app", "geogrid_read"
ROLES = (SUPERUSER, APP, READER)
HBA = """# geogrid: passwords only (scram-sha-256); written by geogrid.db.roles
local   all all                scram-sha-256
host    all all 127.0.0.1/32   scram-sha-256
host    all all ::1/128        scram-sha-256
"""


def sql_literal(value: str) -> str:
    """A string as an SQL literal (``standard_conforming_strings`` is on: only quotes are doubled), for the
    statements that take no parameters (``CREATE ROLE ... PASSWORD``)."""
    if "\0" in value:
        raise ValueError("a password cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def secrets_dir(home: Path) -> Path:
    return home.resolve() / "secrets"


@overload
def password(home: Path, role: str, create: Literal[True]) -> str: ...
@overload
def password(home: Path, role: str, create: bool = False) -> str | None: ...
def password(home: Path, role: str, create: bool = False) -> str | None:
    """The role's password from its 0600 file; made (random, 256 bits) when ``create`` and missing."""
    path = secrets_dir(home) / f"{role}.password"
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def url(home: Path, port: int, database: str, role: str = APP) -> str:
    """SQLAlchemy URL for a role of the embedded cluster (without password before the cluster is hardened)."""
    secret = password(home, role)
    who = f"{role}:{quote(secret, safe='')}" if secret else "postgres"
    return f"postgresql+psycopg://{who}@127.0.0.1:{port}/{database}"


def pwfile_for_initdb(home: Path) -> Path:
    """The superuser's password in a file the server's user can read during initdb (removed right after)."""
    secret = password(home, SUPERUSER, create=True)
    run = home.resolve() / "run"
    path = run / ".initdb.pw"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def write_hba(pgdata: Path) -> None:
    path = pgdata / "pg_hba.conf"
    path.write_text(HBA)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    os.chmod(path, 0o600)


def trusting(pgdata: Path) -> bool:
    """True while pg_hba.conf still lets anyone in without a password (a cluster made before hardening)."""
    try:
        text = (pgdata / "pg_hba.conf").read_text()
    except OSError:
        return False
    return any(line.split()[-1:] == ["trust"] for line in text.splitlines() if line.strip()[:1] != "#")
