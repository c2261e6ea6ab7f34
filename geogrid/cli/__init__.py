"""The ``geogrid`` command line. Each topic lives in its own module and registers its commands here."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.markup import escape

from geogrid.cli.common import app, console, localise_help
from geogrid.errors import GeogridError, SettingError
from geogrid.i18n import t

# Topic modules register their commands on import.
from geogrid.cli import db as _db  # noqa: E402,F401  isort: skip


def application() -> typer.Typer:
    """The Typer app with every command registered (core topics and plugins), e.g. for ``CliRunner``."""
    _load_topics()
    return app


def main() -> None:
    """Entry point: every failure is one clear line and an exit code, never a traceback.

    0 done, 1 an error (bad input, database unreachable, anything unexpected), 2 a usage error or, for
    ``validate``, problems of severity error (the command's own ``typer.Exit`` code, which click returns rather
    than raises when not standalone: dropping it made ``validate`` exit 0 on errors), 130 interrupted.
    """
    try:
        _load_topics()
        result = localise_help(typer.main.get_command(app))(standalone_mode=False)
    except (GeogridError, SettingError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  the CLI's last line of defence: one line, no traceback
        _click_or_fail(exc)
    sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int = 1) -> NoReturn:
    # One unwrapped line (file names stay whole), the message taken literally, not as markup.
    console.print(f"[bold red]{escape(t('error'))}:[/] {escape(message)}", soft_wrap=True, highlight=False)
    sys.exit(code)


def _click_or_fail(exc: Exception) -> NoReturn:
    """Click's own exceptions (typer vendors its own click, so they are known by shape, not class), a database
    that stopped answering, or anything else: each one line."""
    from sqlalchemy.exc import DBAPIError

    name, code = type(exc).__name__, getattr(exc, "exit_code", None)
    if name == "Exit" and isinstance(code, int):
        sys.exit(code)
    if name == "Abort":
        sys.exit(130)
    show = getattr(exc, "show", None)
    if callable(show) and isinstance(code, int):  # UsageError: "No such command 'staff'."
        show()
        sys.exit(code)
    if isinstance(exc, DBAPIError):
        first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else name
        _fail(t("the database stopped answering; nothing was written ({error})", error=first))
    _fail(
        t("unexpected {kind}: {error}", kind=name, error=str(exc).strip().splitlines()[0] if str(exc).strip() else name)
    )


_LOADED: list[bool] = []


def _load_topics() -> None:
    """Import the core topic modules, then the plugins (``api``, ``maps``) by entry point (once).

    The core never imports ``api`` or ``maps``: they extend the CLI through the ``geogrid.cli`` entry-point
    group declared in pyproject.toml, each entry a ``register(app)`` function.
    """
    from importlib.metadata import entry_points

    from geogrid.cli import accounts, assign, coverage, data, demo, lookup, partition, planning, rosters  # noqa: F401

    if _LOADED:
        return
    _LOADED.append(True)
    for ep in sorted(entry_points(group="geogrid.cli"), key=lambda e: e.name):
        ep.load()(app)
