"""``geogrid db start|stop|status|url|reset``: the embedded PostgreSQL + PostGIS cluster."""

from __future__ import annotations

import typer

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.db import cluster
from geogrid.settings import get_settings

db_app = typer.Typer(help="Run the database: the embedded cluster, or check an external one.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command()
def start() -> None:
    """Start the embedded cluster (if needed), create extensions and apply migrations."""
    settings = get_settings()
    db.ready()
    where = f"embedded cluster in {settings.pgdata}" if settings.embedded else "external database"
    console.print(f"database ready: {where}")


@db_app.command()
def stop() -> None:
    """Stop the embedded cluster."""
    settings = get_settings()
    if not settings.embedded:
        console.print("GEOGRID_DATABASE_URL is set: geogrid does not run that database, nothing to stop")
        return
    console.print("stopped" if cluster.stop(settings) else "not running")


@db_app.command()
def status() -> None:
    """Say whether the database is running and where."""
    settings = get_settings()
    if settings.embedded:
        state = "running" if cluster.running(settings) else "stopped"
        typer.echo(f"embedded cluster {state}: {settings.pgdata} (port {settings.db_port})")
    else:
        typer.echo("external database (GEOGRID_DATABASE_URL)")


@db_app.command()
def url() -> None:
    """Print the database URL (for psql, QGIS or other tools)."""
    typer.echo(get_settings().url.replace("+psycopg", ""))


@db_app.command()
def reset(yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Drop every table and migrate again: all data is lost."""
    if not yes:
        typer.confirm("Delete all geogrid data?", abort=True)
    from sqlalchemy import text

    with db.ready().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.reset_ready()
    db.ready()
    console.print("database reset")
