"""Database access: the engine, the embedded cluster and migrations.

The names are loaded on first use (PEP 562): ``geogrid --help`` imports the CLI modules, which refer to
``db.ready()`` only inside commands, so SQLAlchemy is not imported until a command needs the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geogrid.db.engine import get_engine, ready, reset_ready, session, truncate_all

__all__ = ["get_engine", "ready", "reset_ready", "session", "truncate_all"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from geogrid.db import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'geogrid.db' has no attribute {name!r}")
