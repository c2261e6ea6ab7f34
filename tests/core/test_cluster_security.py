"""The embedded cluster is closed to everyone but geogrid: scram-sha-256 with generated passwords kept 0600,
a private socket directory, an application role that is no superuser, a read-only role without personal data,
and an audit log the application role cannot rewrite."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import psycopg
import pytest

from geogrid.db import roles
from geogrid.settings import get_settings

pytestmark = pytest.mark.skipif(bool(os.environ.get("GEOGRID_DATABASE_URL")), reason="embedded cluster only")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _connect(role: str, password: str | None, dbname: str | None = None):
    s = get_settings()
    return psycopg.connect(
        host="127.0.0.1", port=s.db_port, user=role, password=password, dbname=dbname or s.db_name, connect_timeout=5
    )


def test_passwords_are_private_and_nothing_is_trusted(database):
    s = get_settings()
    folder = roles.secrets_dir(s.home)
    assert _mode(folder) == 0o700
    for role in roles.ROLES:
        path = folder / f"{role}.password"
        assert _mode(path) == 0o600 and path.stat().st_uid == os.geteuid()
        assert len(path.read_text().strip()) >= 40
    assert _mode(s.home.resolve() / "run") == 0o700  # the socket directory: not world-writable, not even readable
    assert not roles.trusting(s.pgdata)
    rules = [line for line in (s.pgdata / "pg_hba.conf").read_text().splitlines() if line.split("#")[0].strip()]
    assert rules and not [line for line in rules if "trust" in line.split()]
    with pytest.raises(psycopg.OperationalError, match="password"):
        _connect("postgres", None, "postgres").close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect("postgres", "geogrid", "postgres").close()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("psql"), reason="needs root to act as another user")
def test_another_system_user_cannot_connect(database):
    s = get_settings()
    for target in (["-h", "127.0.0.1"], ["-h", str(s.home.resolve() / "run")]):
        proc = subprocess.run(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                "psql",
                *target,
                "-p",
                str(s.db_port),
                "-U",
                "postgres",
                "-w",
                "-d",
                "postgres",
                "-c",
                "SELECT 1",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode != 0
        assert "password" in proc.stderr or "Permission denied" in proc.stderr, proc.stderr


def test_application_role_is_no_superuser_and_cannot_rewrite_the_audit_log(database):
    s = get_settings()
    with _connect(roles.APP, roles.password(s.home, roles.APP)) as conn:
        row = conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        assert row.fetchone() == (False, False, False)
        assert conn.execute("SELECT current_user").fetchone()[0] == roles.APP
        conn.execute("INSERT INTO audit_log (actor, via, action) VALUES ('test', 'test', 'probe')")
        for statement in (
            "UPDATE audit_log SET actor = 'x'",
            "DELETE FROM audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "DROP TABLE audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    assert get_settings().url.startswith(f"postgresql+psycopg://{roles.APP}:")


def test_read_only_role_reads_public_tables_but_no_personal_data(database):
    s = get_settings()
    with _connect(roles.READER, roles.password(s.home, roles.READER)) as conn:
        conn.execute("SELECT count(*) FROM ogc.grids")
        # Phones of staff, residents by building (special groups), households by room: none is a public feed.
        private = ("resident_personal", "staff_contacts", "residents", "households", "accounts", "api_keys")
        for table in (*private, "sessions", "roster_changes", "audit.audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {table}")
            conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM grids")
