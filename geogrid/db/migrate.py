"""Alembic migrations, run programmatically so users never call alembic themselves."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    return cfg


def upgrade() -> None:
    """Apply every migration branch (topics may add their own branch off the first revision)."""
    command.upgrade(config(), "heads")
