"""The embedded PostgreSQL + PostGIS cluster that geogrid runs when no database URL is set.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres`` system user
and owns the data directory; every other user runs it as themselves.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from geogrid.db import roles
from geogrid.errors import GeogridError
from geogrid.i18n import join, t
from geogrid.settings import Settings, get_settings

SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
wal_level = minimal
max_wal_senders = 0
synchronous_commit = {synchronous_commit}
max_connections = 100
max_parallel_workers_per_gather = 2
jit = off
"""


def bindir(settings: Settings) -> Path:
    """Directory of the PostgreSQL server binaries (newest installed major version)."""
    if settings.pg_bindir:
        return Path(settings.pg_bindir)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise GeogridError(t("PostgreSQL server binaries not found: run `make install` (installs postgresql-15-postgis-3)"))


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise GeogridError(
            t("{command} failed: {output}", command=Path(cmd[0]).name, output=(proc.stderr or proc.stdout).strip())
        )
    return proc


def _prepare_home(settings: Settings) -> None:
    home = settings.home.resolve()
    (home / "run").mkdir(parents=True, exist_ok=True)
    os.chmod(home / "run", 0o700)  # the socket: only the server's user reaches it
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(home / "run", "postgres", "postgres")
        if subprocess.run(_as_server_user(["test", "-w", str(home)])).returncode != 0:
            raise GeogridError(
                t(
                    "the database runs as the 'postgres' user, which cannot reach {home} (a parent directory is "
                    "private); set GEOGRID_HOME to a directory it can reach, e.g. /var/tmp/geogrid",
                    home=home,
                )
            )


def initialised(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return (settings.pgdata / "PG_VERSION").exists()


def init(settings: Settings | None = None) -> None:
    """Create the cluster's data directory (once)."""
    settings = settings or get_settings()
    if initialised(settings):
        return
    _prepare_home(settings)
    initdb = str(bindir(settings) / "initdb")
    pwfile = roles.pwfile_for_initdb(settings.home)  # scram-sha-256 from the start, never trust
    try:
        _run(
            [
                initdb,
                "-D",
                str(settings.pgdata),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    conf = SERVER_CONF.format(
        port=settings.db_port, sockets=settings.home.resolve() / "run", synchronous_commit=settings.synchronous_commit
    )
    with open(settings.pgdata / "postgresql.conf", "a", encoding="utf-8") as fh:
        fh.write(conf)


def running(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if not initialised(settings):
        return False
    proc = _run([str(bindir(settings) / "pg_ctl"), "-D", str(settings.pgdata), "status"], check=False)
    return proc.returncode == 0


def start(settings: Settings | None = None) -> bool:
    """Start the cluster; returns False when it was already running."""
    settings = settings or get_settings()
    init(settings)
    if running(settings):
        if _running_port(settings) in (None, settings.db_port):
            _wait_accepting(settings)
            harden(settings)
            return False
        stop(settings)  # started earlier on another port: restart it where the settings say
    log = settings.home.resolve() / "postgres.log"
    try:
        _run(
            [
                str(bindir(settings) / "pg_ctl"),
                "-D",
                str(settings.pgdata),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {settings.db_port} -c synchronous_commit={settings.synchronous_commit}",
                "start",
            ]
        )
    except GeogridError:
        if running(settings):  # another process started it at the same moment, or recovery outlasts -t
            _wait_accepting(settings)
            return False
        last = [line for line in log.read_text(errors="replace").splitlines() if "FATAL" in line][-1:]
        reasons = [last[0].split("FATAL:", 1)[1].strip()] if last else []
        if "Address already in use" in log.read_text(errors="replace"):
            reasons.append(
                t("another server already uses port {port}: set GEOGRID_DB_PORT to a free one", port=settings.db_port)
            )
        raise GeogridError(
            t(
                "the embedded database did not start: {reasons} (port {port}, log {log})",
                reasons=join(reasons, en="; ", zh="；"),
                port=settings.db_port,
                log=log,
            )
            if reasons
            else t("the embedded database did not start (port {port}, log {log})", port=settings.db_port, log=log)
        ) from None
    harden(settings)
    return True


def harden(settings: Settings) -> None:
    """Bring a cluster made before passwords (pg_hba ``trust``) to scram-sha-256, and keep the socket private.

    The superuser gets a generated password (kept 0600 under GEOGRID_HOME/secrets) while trust still lets us
    in; then pg_hba.conf asks a password of everyone and the server reloads it."""
    run = settings.home.resolve() / "run"
    if run.exists() and (run.stat().st_mode & 0o777) != 0o700:
        os.chmod(run, 0o700)
    if not roles.trusting(settings.pgdata):
        return
    import psycopg
    from psycopg import sql

    secret = roles.password(settings.home, roles.SUPERUSER, create=True)
    with psycopg.connect(
        host="127.0.0.1", port=settings.db_port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(secret)))
    roles.write_hba(settings.pgdata)
    _run([str(bindir(settings) / "pg_ctl"), "-D", str(settings.pgdata), "reload"])


def _wait_accepting(settings: Settings, timeout: float = 600) -> None:
    """Wait while a running server still replays its WAL after a crash ("the database system is starting
    up"), so the first command after a crash waits for recovery instead of failing to connect."""
    deadline = time.monotonic() + timeout
    isready = [str(bindir(settings) / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(settings.db_port), "-t", "5"]
    while _run(isready, check=False).returncode == 1 and time.monotonic() < deadline:  # 1: rejecting, starting up
        time.sleep(0.5)


def _running_port(settings: Settings) -> int | None:
    """The port of the running server, from its postmaster.pid (line 4)."""
    try:
        return int((settings.pgdata / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None


def stop(settings: Settings | None = None, mode: str = "fast") -> bool:
    """Stop the cluster; returns False when it was not running. ``mode="immediate"`` is a crash (no checkpoint):
    what survives it is exactly what was flushed to the WAL, which is how the durability test checks commits."""
    settings = settings or get_settings()
    if not running(settings):
        return False
    _run([str(bindir(settings) / "pg_ctl"), "-D", str(settings.pgdata), "-m", mode, "-w", "stop"])
    return True
