"""``GET /coverage``, ``/coverage/gaps`` and ``/coverage/suggest``: service-circle coverage and where it fails."""

from __future__ import annotations

from fastapi import APIRouter, Query

from geogrid import db

router = APIRouter(prefix="/coverage", tags=["coverage"])

MINUTES = Query(5, ge=1, le=120, description="Circle level: 5, 10 or 15 minutes (radius per GB 50180-2018).")
MODE = Query("network", description="circle (straight line) or network (along the walking network).")
KIND = Query(None, description="Facility kind, e.g. service_station; all kinds when absent.")
COMMUNITY = Query(None, description="Community code or name.")


@router.get("")
def get_coverage(minutes: int = MINUTES, mode: str = MODE, kind: str | None = KIND,
                 community: str | None = COMMUNITY) -> dict:
    """Households, residents and special groups covered, per grid and rolled up to community and street."""
    from geogrid.coverage.stats import Query as CoverageQuery
    from geogrid.coverage.stats import coverage

    q = CoverageQuery(minutes=minutes, mode=mode, kind=kind, community=community)
    with db.ready().connect() as conn:
        return coverage(conn, q)
