"""One engine per process, and :func:`ready` which makes sure the database is up and migrated."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from geogrid.db import cluster, roles
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
    options = {
        "options": f"-c synchronous_commit={settings.synchronous_commit}",
        "connect_timeout": max(2, settings.db_connect_timeout_s),
    }
    return create_engine(
        settings.url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=settings.db_pool_timeout_s,
        connect_args=options,
    )


def _superuser(database: str) -> Engine:
    settings = get_settings()
    return create_engine(
        roles.url(settings.home, settings.db_port, database, roles.SUPERUSER),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )


def _create_database() -> None:
    """Create the database and the application's roles in the embedded cluster (see :mod:`geogrid.db.roles`)."""
    settings = get_settings()
    passwords = {role: roles.password(settings.home, role, create=True) for role in (roles.APP, roles.READER)}
    admin = _superuser("postgres")
    with admin.connect() as conn:
        create_roles(conn, settings.db_name, passwords)
    admin.dispose()
    with _superuser(settings.db_name).connect() as conn:
        prepare_database(conn)


def create_roles(conn: Connection, database: str, passwords: Mapping[str, str | None]) -> None:
    """As a superuser (autocommit): the application's role and the read-only one (created, or given these
    passwords), and the database (created when missing) they may connect to. The embedded cluster and
    ``geogrid db init`` (an external cluster such as docker-compose's) both run this."""
    conn.execute(text("SELECT pg_advisory_lock(81200)"))  # several processes (test workers) start at once
    try:
        for role in (roles.APP, roles.READER):
            secret = passwords.get(role)
            verb = "ALTER" if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}) else "CREATE"
            password = f"PASSWORD {roles.sql_literal(secret)}" if secret else ""
            conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {password}")
        # Roles are cluster-wide: set under the lock, or two workers' ALTER ROLE collide ("tuple concurrently updated").
        conn.execute(text(f"ALTER ROLE {roles.APP} SET search_path = public, audit"))  # the audit log's schema
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        conn.execute(text(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO {roles.APP}'))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {roles.READER}'))
    finally:
        conn.execute(text("SELECT pg_advisory_unlock(81200)"))


def prepare_database(conn: Connection) -> None:
    """As a superuser connected to the database: its ``public`` schema and what is in it owned by the
    application's role, the extensions created (PostGIS is not a trusted extension)."""
    conn.execute(text(f"ALTER SCHEMA public OWNER TO {roles.APP}"))
    _create_extensions(conn)
    _hand_over(conn)


# Objects in public made by the superuser (the one running this) before the cluster had roles: handed to the application's role
# (extension members such as spatial_ref_sys stay with the superuser; the audit log too).
_OWNED_BY_SUPERUSER = """
SELECT c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('public', 'ogc') AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
   AND pg_get_userbyid(c.relowner) = current_user AND c.relname <> 'audit_log'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
"""


def _hand_over(conn) -> None:
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    for owned in conn.execute(text(_OWNED_BY_SUPERUSER)).all():
        name = owned.name
        schema = conn.scalar(
            text(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :n LIMIT 1"
            ),
            {"n": name},
        )
        conn.execute(text(f'ALTER {kinds[owned.kind]} "{schema}"."{name}" OWNER TO {roles.APP}'))
    for schema in conn.scalars(
        text("SELECT nspname FROM pg_namespace WHERE nspname = 'ogc' AND pg_get_userbyid(nspowner) = current_user")
    ):
        conn.execute(text(f"ALTER SCHEMA {schema} OWNER TO {roles.APP}"))
    for fn in conn.scalars(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = current_user AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        )
    ):
        conn.execute(text(f"ALTER FUNCTION {fn} OWNER TO {roles.APP}"))


AUDIT_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION CURRENT_USER;
CREATE OR REPLACE FUNCTION audit.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
"""
AUDIT_TRIGGERS = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit.audit_log
  FOR EACH ROW EXECUTE FUNCTION audit.append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();
"""
AUDIT_COLUMNS = "at, actor, role, via, address, action, area, target, details"


def _secure_audit_log(conn) -> None:
    """Move the audit log into the superuser's ``audit`` schema (the owner of ``public`` could drop a table
    there); the application role may only read and append, and finds it on its search path."""
    conn.execute(text(AUDIT_SCHEMA))
    in_audit = conn.scalar(text("SELECT to_regclass('audit.audit_log')")) is not None
    in_public = conn.scalar(text("SELECT to_regclass('public.audit_log')")) is not None
    if in_public and in_audit:  # the public schema was reset and migrated again: keep the one log
        conn.execute(
            text(
                f"INSERT INTO audit.audit_log ({AUDIT_COLUMNS}) SELECT {AUDIT_COLUMNS} "
                "FROM public.audit_log ORDER BY id"
            )
        )
        conn.execute(text("DROP TABLE public.audit_log"))
    elif in_public:
        conn.execute(text("ALTER TABLE public.audit_log SET SCHEMA audit"))
    elif not in_audit:
        return
    conn.execute(text("ALTER TABLE audit.audit_log OWNER TO CURRENT_USER"))
    triggers = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit.audit_log'::regclass")))
    for name in triggers & {"audit_log_no_update", "audit_log_no_truncate"}:
        conn.execute(text(f"DROP TRIGGER {name} ON audit.audit_log"))
    conn.execute(text(AUDIT_TRIGGERS))
    conn.execute(text(f"REVOKE ALL ON audit.audit_log FROM {roles.APP}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA audit TO {roles.APP}"))
    conn.execute(text(f"GRANT SELECT, INSERT ON audit.audit_log TO {roles.APP}"))
    conn.execute(text(f"GRANT USAGE ON SEQUENCE audit.audit_log_id_seq TO {roles.APP}"))


def _secure_after_migrations() -> None:
    """The audit log belongs to the superuser (the application may only read and append); the read-only role
    reads the public feeds' views (schema ``ogc``) and nothing else: a table a later migration adds (staff
    phones, residents by building) stays closed to it without anyone having to list it."""
    settings = get_settings()
    with _superuser(settings.db_name).connect() as conn:
        secure_database(conn)


def secure_database(conn: Connection) -> None:
    """As a superuser connected to the migrated database (autocommit): the audit log moved to the superuser's
    schema, the read-only role limited to the feeds' views."""
    _secure_audit_log(conn)
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles.READER}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {roles.READER}"))  # PostGIS types and functions
    conn.execute(text(f"GRANT SELECT ON public.spatial_ref_sys TO {roles.READER}"))
    if conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = 'ogc'")):
        conn.execute(text(f"GRANT USAGE ON SCHEMA ogc TO {roles.READER}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA ogc TO {roles.READER}"))


def _create_extensions(conn=None) -> None:
    """Extensions (PostGIS is not a trusted extension: in the embedded cluster the superuser creates them)."""
    if conn is None:
        with get_engine().begin() as own:
            return _create_extensions(own)
    available = set(conn.scalars(text("SELECT name FROM pg_available_extensions")))
    missing = [e for e in EXTENSIONS if e not in available]
    if missing:
        raise GeogridError(t("PostgreSQL extensions missing: {extensions} (run `make install`)", extensions=missing))
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
        try:
            if settings.embedded:
                cluster.start(settings)
                _create_database()  # roles, schema owner and extensions, as the superuser
            else:
                _create_extensions()
        except OperationalError as exc:
            raise Unavailable(t("cannot connect to the database: {error}", error=exc.orig)) from None

        from geogrid.db.migrate import upgrade

        upgrade()
        if settings.embedded:
            _secure_after_migrations()
            get_engine().dispose()  # new sessions find the audit schema on the role's search path
        _READY = True
    return get_engine()


def reset_ready() -> None:
    """Forget that the database was checked (after a reset or a settings change)."""
    global _READY
    _READY = False
    get_engine.cache_clear()


def truncate_all(conn) -> list[str]:
    """Empty every table of ours in one statement (all or nothing): the model's and the derived ones that
    topics add in their own migrations (stored coverage, grid cards, prepared map layers); returns their names.
    The data version's tables stay (:mod:`geogrid.db.versions`): the truncation is a change it counts."""
    tables = list(
        conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version', 'audit_log', 'data_changes', "
                "'data_version') ORDER BY tablename"
            )
        )
    )
    if tables:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    return tables


@contextmanager
def session() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with Session(ready(), expire_on_commit=False) as s, s.begin():
        yield s
