"""CLI commands the maps contribute to ``geogrid`` (``geogrid map ...``) and the demo's map step."""

from __future__ import annotations

import typer

from geogrid.plugins import DemoContext


def register(app: typer.Typer) -> None:
    """Add ``geogrid map`` commands (filled in by the maps topic)."""


def demo_hook(ctx: DemoContext) -> None:
    """Write the demo's maps to ``ctx.out_dir`` (filled in by the maps topic)."""
