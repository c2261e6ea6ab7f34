"""Shared pieces of the CLI: the Typer app, the console, a progress bar factory and the help of typer's own options."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geogrid.i18n import t

app = typer.Typer(
    name="geogrid",
    help=t("Community grid management (网格化服务管理) on PostGIS."),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def progress() -> Progress:
    """A rich progress bar for long work; writes to stderr so stdout stays machine-readable."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def localise_help(command: Any) -> Any:
    """``command`` (from ``typer.main.get_command``) ready to show its help in the user's language.

    Typer writes the help of ``--help`` and of the completion options in English: they are replaced here, on
    every subcommand. And rich breaks lines only at spaces while typer's help tables crop a longer run of text
    with an ellipsis, which cut Chinese help short: help text is folded at the line's end instead.
    """
    builtin = {
        "--help": t("Show this message and exit."),
        "--install-completion": t("Install completion for the current shell."),
        "--show-completion": t("Show completion for the current shell, to copy it or customize the installation."),
    }

    def localise(cmd: Any, parent: Any) -> None:
        ctx = cmd.context_class(cmd, info_name=cmd.name, parent=parent)
        for param in cmd.get_params(ctx):  # creates (and keeps) the command's help option
            for name in param.opts:
                if name in builtin:
                    param.help = builtin[name]
        for sub in getattr(cmd, "commands", {}).values():
            localise(sub, ctx)

    localise(command, None)
    _fold_help_text()
    return command


def _fold_help_text() -> None:
    """Make typer's help text (``typer.rich_utils._make_rich_text``) fold rather than crop; a no-op (help cropped
    as before) if a typer release no longer has that function."""
    from rich.text import Text
    from typer import rich_utils

    make = getattr(rich_utils, "_make_rich_text", None)
    if make is None or make.__qualname__ == f"{_fold_help_text.__qualname__}.<locals>.make_folding":
        return  # missing, or folding already (this module imported again)

    def make_folding(*args: Any, **kwargs: Any) -> Any:
        text = make(*args, **kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    rich_utils._make_rich_text = make_folding
