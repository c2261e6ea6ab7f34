"""Database access: the engine, the embedded cluster and migrations."""

from geogrid.db.engine import get_engine, ready, reset_ready, session, truncate_all

__all__ = ["get_engine", "ready", "reset_ready", "session", "truncate_all"]
