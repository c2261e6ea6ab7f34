"""``GET /health``: the service and its database."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.responses import Health
from geogrid import db
from geogrid.i18n import t

router = APIRouter(tags=["health"])


def _ping() -> None:
    # Its own connection, not ReadConn: a database that does not answer is this handler's answer (503
    # "degraded" with the reason), not a failed dependency.
    with db.ready().connect() as conn:
        conn.execute(text("SELECT 1"))


async def _ping_pool(pool) -> None:
    """``SELECT 1`` on a pooled connection; once more on a fresh one when the first died with a restarted server."""
    import psycopg

    for attempt in range(2):
        try:
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if attempt:
                raise


@router.get(
    "/health",
    response_model=None,  # the answer is a dict or a 503 JSONResponse; the model documents both bodies
    responses={
        200: {"model": Health},
        503: {"description": "the database does not answer (within the pool timeout)"},
    },
)
async def health(request: Request) -> dict | JSONResponse:
    """``{"status": "ok", "database": "ok"}`` when the database answers, else 503 with ``"degraded"`` and the
    reason, within ``GEOGRID_DB_POOL_TIMEOUT`` (never a hang); the HTTP floor for benchmarks.

    Asks through the same connection pool as point lookups when the server has one, so the floor and
    ``/lookup`` differ only by the lookup's own work.
    """
    pool = getattr(request.app.state, "lookup_pool", None)
    try:
        if pool is not None:
            await _ping_pool(pool)
        else:
            await anyio.to_thread.run_sync(_ping)
        database = "ok"
    except Exception as exc:  # the health check reports, it never fails
        database = f"unavailable: {exc.__class__.__name__}"
        error = t("database unavailable: {error}", error=exc.__class__.__name__)
    if database == "ok":
        return {"status": "ok", "database": database}
    return JSONResponse(
        {"status": "degraded", "database": database, "error": error}, status_code=503, headers={"Retry-After": "5"}
    )
