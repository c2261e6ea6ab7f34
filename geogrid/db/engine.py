"""One engine per process, and :func:`ready` which makes sure the database is up and migrated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from geogrid.db import cluster
from geogrid.errors import GeogridError, Unavailable
from geogrid.i18n import t
from geogrid.settings import get_settings

EXTENSIONS = ("postgis", "pg_trgm")
OPTIONAL_EXTENSIONS = ("pgrouting",)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for the configured database (not started or migrated: see :func:`ready`)."""
    settings = get_settings()
    # Per session too, so that a server started with an older configuration (or an external one) still waits for
    # the WAL flush before acknowledging a commit: an acknowledged plan apply must survive a crash.
    # Bounded waits: with the database down or the pool used up, a request fails within seconds (the API
    # answers 503) instead of hanging 30 s; pre-ping replaces connections that died with the server.
    options = {"options": f"-c synchronous_commit={settings.synchronous_commit}",
               "connect_timeout": max(2, settings.db_connect_timeout_s)}
    return create_engine(settings.url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                         pool_timeout=settings.db_pool_timeout_s, connect_args=options)


def _create_database() -> None:
    """Create the database in the embedded cluster if it is missing."""
    settings = get_settings()
    admin = create_engine(settings.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": settings.db_name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{settings.db_name}"'))
    admin.dispose()


def _create_extensions() -> None:
    with get_engine().begin() as conn:
        available = set(conn.scalars(text("SELECT name FROM pg_available_extensions")))
        missing = [e for e in EXTENSIONS if e not in available]
        if missing:
            raise GeogridError(t("PostgreSQL extensions missing: {extensions} (run `make install`)",
                                 extensions=missing))
        for ext in EXTENSIONS + tuple(e for e in OPTIONAL_EXTENSIONS if e in available):
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))


_READY = False
_READY_LOCK = threading.Lock()


def ready() -> Engine:
    """Start the embedded cluster if needed, create extensions and apply migrations (once per process)."""
    global _READY
    if _READY:
        return get_engine()
    with _READY_LOCK:  # API start-up calls this from several threads at once; Alembic is not thread-safe
        if _READY:
            return get_engine()
        settings = get_settings()
        if settings.embedded:
            cluster.start(settings)
            _create_database()
        try:
            _create_extensions()
        except OperationalError as exc:
            raise Unavailable(t("cannot connect to the database: {error}", error=exc.orig)) from None

        from geogrid.db.migrate import upgrade

        upgrade()
        _READY = True
    return get_engine()


def reset_ready() -> None:
    """Forget that the database was checked (after a reset or a settings change)."""
    global _READY
    _READY = False
    get_engine.cache_clear()


def truncate_all(conn) -> list[str]:
    """Empty every table of ours in one statement (all or nothing): the model's and the derived ones that
    topics add in their own migrations (stored coverage, grid cards, prepared map layers); returns their names."""
    tables = list(conn.scalars(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version', 'audit_log') ORDER BY tablename"
    )))
    if tables:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    return tables


@contextmanager
def session() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with Session(ready(), expire_on_commit=False) as s, s.begin():
        yield s
