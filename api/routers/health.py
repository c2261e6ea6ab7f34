"""``GET /health``: the service and its database."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from sqlalchemy import text

from geogrid import db

router = APIRouter(tags=["health"])


def _ping() -> None:
    with db.ready().connect() as conn:
        conn.execute(text("SELECT 1"))


@router.get("/health")
async def health(request: Request) -> dict:
    """``{"status": "ok", "database": "ok"}`` when the database answers; the HTTP floor for benchmarks.

    Asks through the same connection pool as point lookups when the server has one, so the floor and
    ``/lookup`` differ only by the lookup's own work.
    """
    pool = getattr(request.app.state, "lookup_pool", None)
    try:
        if pool is not None:
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        else:
            await anyio.to_thread.run_sync(_ping)
        database = "ok"
    except Exception as exc:  # the health check reports, it never fails
        database = f"unavailable: {exc.__class__.__name__}"
    return {"status": "ok" if database == "ok" else "degraded", "database": database}
