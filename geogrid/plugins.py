"""Extension points the core offers to ``api`` and ``maps`` without importing them.

``geogrid.demo`` entry points run after the demo city is loaded and computed, in name order; each is a
function taking a :class:`DemoContext` (the maps plugin writes maps, the api plugin serves).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path


@dataclass(frozen=True)
class DemoContext:
    out_dir: Path
    serve: bool
    host: str
    port: int


def run_demo_hooks(ctx: DemoContext) -> None:
    for ep in sorted(entry_points(group="geogrid.demo"), key=lambda e: e.name):
        ep.load()(ctx)
