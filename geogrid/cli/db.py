"""``geogrid db start|stop|status|url|reset``: the embedded PostgreSQL + PostGIS cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.i18n import t

db_app = typer.Typer(help=t("Run the database: the embedded cluster, or check an external one."), no_args_is_help=True)
app.add_typer(db_app, name="db")

if TYPE_CHECKING:
    from geogrid.settings import Settings


@db_app.command(help=t("Start the embedded cluster (if needed), create extensions and apply migrations."))
def start() -> None:
    settings = _settings()
    db.ready()
    where = t("embedded cluster in {path}", path=settings.pgdata) if settings.embedded else t("external database")
    console.print(t("database ready: {where}", where=where))


@db_app.command(help=t("Stop the embedded cluster."))
def stop() -> None:
    from geogrid.db import cluster

    settings = _settings()
    if not settings.embedded:
        console.print(t("GEOGRID_DATABASE_URL is set: geogrid does not run that database, nothing to stop"))
        return
    console.print(t("stopped") if cluster.stop(settings) else t("not running"))


@db_app.command(help=t("Say whether the database is running and where."))
def status() -> None:
    from geogrid.db import cluster

    settings = _settings()
    if settings.embedded:
        state = t("running") if cluster.running(settings) else t("stopped")
        typer.echo(
            t(
                "embedded cluster {state}: {path} (port {port})",
                state=state,
                path=settings.pgdata,
                port=settings.db_port,
            )
        )
    else:
        typer.echo(t("external database (GEOGRID_DATABASE_URL)"))


@db_app.command(help=t("Print the database URL (for psql, QGIS or other tools)."))
def url() -> None:
    typer.echo(_settings().url.replace("+psycopg", ""))


@db_app.command(
    help=t(
        "Prepare an external PostgreSQL (docker-compose's) as the embedded cluster is: as its superuser, create "
        "the roles geogrid_app and geogrid_read, then migrate as geogrid_app and lock the audit log."
    )
)
def init(
    superuser_url: str = typer.Option(
        ..., envvar="GEOGRID_SUPERUSER_URL", help=t("The superuser's URL (postgresql://user:pass@host:5432/db).")
    ),
    read_password: str | None = typer.Option(
        None, envvar="GEOGRID_READ_PASSWORD", help=t("Password of geogrid_read (none: it cannot sign in).")
    ),
) -> None:
    from geogrid.db.init import init_external

    init_external(_settings(), superuser_url, read_password)
    console.print(t("roles geogrid_app and geogrid_read ready; database migrated"))


@db_app.command(help=t("Drop every table and migrate again: all data is lost."))
def reset(yes: bool = typer.Option(False, "--yes", "-y", help=t("Do not ask for confirmation."))) -> None:
    if not yes:
        typer.confirm(t("Delete all geogrid data?"), abort=True)
    from sqlalchemy import text

    with db.ready().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.reset_ready()
    db.ready()
    console.print(t("database reset"))


def _settings() -> Settings:
    """The settings, imported on use: ``geogrid --help`` does not load pydantic-settings."""
    from geogrid.settings import get_settings

    return get_settings()
