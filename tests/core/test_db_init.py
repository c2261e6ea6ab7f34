"""``geogrid db init`` and docker-compose: the containers' API connects as geogrid_app, not as the superuser,
through the same role code the embedded cluster runs (tried here against the test cluster as its superuser)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from geogrid.db import roles
from geogrid.settings import get_settings
from tests.conftest import ROOT


def _user(url: str) -> str:
    found = re.match(r"postgresql://([^:@/]+)[:@]", url)
    assert found, url
    return found.group(1)


def test_compose_api_connects_as_the_app_role_not_the_superuser():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    superuser = services["db"]["environment"]["POSTGRES_USER"]
    api, init = services["api"], services["init"]
    assert _user(api["environment"]["GEOGRID_DATABASE_URL"]) == roles.APP != superuser
    assert not any("GEOGRID_DB_PASSWORD" in str(v) for v in api["environment"].values())  # the superuser's secret
    assert init["command"] == ["geogrid", "db", "init"]
    assert _user(init["environment"]["GEOGRID_SUPERUSER_URL"]) == superuser
    assert init["environment"]["GEOGRID_DATABASE_URL"] == api["environment"]["GEOGRID_DATABASE_URL"]
    assert api["depends_on"] == {"init": {"condition": "service_completed_successfully"}}


@pytest.fixture
def external_database(database):
    """A second database in the test cluster, set up the way docker-compose's is; dropped afterwards."""
    settings = get_settings()
    if not settings.embedded:
        pytest.skip("needs the embedded test cluster's superuser")
    name = f"geogrid_init_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(
        roles.url(settings.home, settings.db_port, "postgres", roles.SUPERUSER),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_db_init_makes_an_external_database_as_the_embedded_cluster_is(external_database):
    settings = get_settings()

    def url(role: str, database: str = external_database) -> str:
        return roles.url(settings.home, settings.db_port, database, role).replace("+psycopg", "")

    env = {
        **os.environ,
        "GEOGRID_DATABASE_URL": url(roles.APP),
        "GEOGRID_SUPERUSER_URL": url(roles.SUPERUSER, "postgres"),
        "GEOGRID_READ_PASSWORD": roles.password(settings.home, roles.READER) or "",  # the same: others use it
        "GEOGRID_LANG": "en",
    }
    done = subprocess.run(
        [sys.executable, "-m", "geogrid", "db", "init"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "roles geogrid_app and geogrid_read ready" in done.stdout + done.stderr
    app = create_engine(roles.url(settings.home, settings.db_port, external_database, roles.APP), poolclass=NullPool)
    with app.connect() as conn:
        assert conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is False
        where = conn.execute(
            text(
                "SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'audit_log'"
            )
        ).all()
        assert [(w.schema, w.owner) for w in where] == [("audit", roles.SUPERUSER)]  # moved out of the app's reach
        assert conn.scalar(text("SELECT count(*) FROM data_version")) == 1  # migrated to the head
        for forbidden in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(DBAPIError, match="permission denied|append-only"):
                conn.execute(text(forbidden))
            conn.rollback()
    reader = create_engine(url(roles.READER).replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    with reader.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
        conn.execute(text("SELECT count(*) FROM residents"))
    app.dispose()
    reader.dispose()
