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


def _collapse_branches() -> None:
    """Databases migrated while topics branched off ``0001`` record one row per branch head; the chain is
    linear now, so keep only the newest of those rows (every older one is its ancestor)."""
    from sqlalchemy import inspect, text

    from geogrid.db.engine import get_engine

    with get_engine().begin() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return
        rows = sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
        if len(rows) > 1:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num <> :keep"), {"keep": rows[-1]})


def upgrade() -> None:
    """Apply the migrations: one linear chain (a test fails if it ever branches)."""
    _collapse_branches()
    command.upgrade(config(), "head")
