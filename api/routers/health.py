"""``GET /health``: the service and its database."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from geogrid import db

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict:
    """``{"status": "ok", "database": "ok"}`` when the database answers; the HTTP floor for benchmarks."""
    try:
        with db.ready().connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the health check reports, it never fails
        database = f"unavailable: {exc.__class__.__name__}"
    return {"status": "ok" if database == "ok" else "degraded", "database": database}
