"""CLI commands the API contributes to ``geogrid``: ``geogrid serve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from geogrid.i18n import t
from geogrid.plugins import DemoContext

if TYPE_CHECKING:
    from geogrid.settings import Settings


def serve(host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """Serve the API (OpenAPI docs at /docs) with uvicorn."""
    import uvicorn

    from geogrid import db

    db.ready()
    settings = _settings()
    uvicorn.run(
        "api.app:app", host=host or settings.api_host, port=port or settings.api_port, workers=workers, log_level="info"
    )


def register(app: typer.Typer) -> None:
    @app.command("serve", help=t("Serve the HTTP API and the maps."))
    def serve_command(
        host: str = typer.Option(None, help=t("Address to listen on (default GEOGRID_API_HOST or 127.0.0.1).")),
        port: int = typer.Option(None, help=t("Port (default GEOGRID_API_PORT or 8000).")),
        workers: int = typer.Option(1, help=t("Worker processes.")),
    ) -> None:
        serve(host, port, workers)


def _first_admin_hint() -> None:
    """Maps and lookups are public, every write needs an account: say how to make the first one."""
    from sqlalchemy import text

    from geogrid import db

    with db.ready().connect() as conn:
        admins = conn.scalar(text("SELECT count(*) FROM accounts WHERE role = 'admin' AND NOT disabled"))
    if not admins:
        typer.echo(
            t(
                "no admin account yet: create one with `geogrid users add NAME --role admin`, then sign in "
                "at /login to plan and apply"
            )
        )


def demo_hook(ctx: DemoContext) -> None:
    """Last step of ``geogrid demo``: serve the API unless ``--no-serve``."""
    _first_admin_hint()
    if ctx.serve:
        typer.echo(t("serving on http://{host}:{port}  (maps: /maps, API docs: /docs)", host=ctx.host, port=ctx.port))

        serve(ctx.host, ctx.port)


def _settings() -> Settings:
    """The settings, imported on use: ``geogrid --help`` does not load pydantic-settings."""
    from geogrid.settings import get_settings

    return get_settings()
