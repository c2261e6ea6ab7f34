"""The ``geogrid`` command line. Each topic lives in its own module and registers its commands here."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from geogrid.cli.common import app, console, localise_help
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.settings import SettingError

# Topic modules register their commands on import.
from geogrid.cli import db as _db  # noqa: E402,F401  isort: skip


def application() -> typer.Typer:
    """The Typer app with every command registered (core topics and plugins), e.g. for ``CliRunner``."""
    _load_topics()
    return app


def main() -> None:
    """Entry point: user errors print one clear line and exit 1, never a traceback."""
    try:
        _load_topics()
        localise_help(typer.main.get_command(app))(standalone_mode=False)
    except (GeogridError, SettingError) as exc:
        # One unwrapped line (file names stay whole), the message taken literally, not as markup.
        console.print(f"[bold red]{escape(t('error'))}:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)

        sys.exit(1)
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise


TOPICS = ("data", "assign", "demo", "lookup", "coverage", "planning", "accounts", "partition", "rosters")


_LOADED: list[bool] = []


def _load_topics() -> None:
    """Import the core topic modules that exist, then the plugins (``api``, ``maps``) by entry point (once).

    The core never imports ``api`` or ``maps``: they extend the CLI through the ``geogrid.cli`` entry-point
    group declared in pyproject.toml, each entry a ``register(app)`` function.
    """
    import importlib
    from importlib.metadata import entry_points

    if _LOADED:
        return
    _LOADED.append(True)

    for name in TOPICS:
        try:
            importlib.import_module(f"geogrid.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"geogrid.cli.{name}":
                raise
    for ep in sorted(entry_points(group="geogrid.cli"), key=lambda e: e.name):
        ep.load()(app)
