"""``GET /coverage``, ``/coverage/gaps`` and ``/coverage/suggest``: service-circle coverage and where it fails."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import Place, ReadConn
from api.responses import Coverage, Gaps, Suggestion
from api.security import MaybeUser, is_staff
from geogrid.accounts.privacy import suppress
from geogrid.settings import get_settings

router = APIRouter(prefix="/coverage", tags=["coverage"])

MINUTES = Query(5, ge=1, le=120, description="Circle level: 5, 10 or 15 minutes (radius per GB 50180-2018).")
MODE = Query(
    "network",
    description="circle (straight line), network (along the walking network) or auto "
    "(network when computed, else circle).",
)
KIND = Query(None, description="Facility kind, e.g. service_station; all kinds when absent.")


@router.get("", response_model=Coverage)
def get_coverage(
    conn: ReadConn,
    who: MaybeUser,
    minutes: int = MINUTES,
    mode: str = MODE,
    kind: str | None = KIND,
    community: Place = None,
) -> dict:
    """Households, residents and special groups covered, per grid and rolled up to community and street.

    For anyone but staff, special-group counts from 1 to ``GEOGRID_SUPPRESS_BELOW`` - 1 are None
    (``suppressed: true`` on the row): a count of one or two identifies people to their neighbours."""
    from geogrid.coverage.stats import Query as CoverageQuery
    from geogrid.coverage.stats import coverage

    q = CoverageQuery(minutes=minutes, mode=mode, kind=kind, community=community)
    answer = coverage(conn, q)
    if not is_staff(who):
        suppress(answer, get_settings().suppress_below)
    return answer


@router.get("/gaps", response_model=Gaps)
def get_gaps(
    conn: ReadConn,
    minutes: int = MINUTES,
    mode: str = MODE,
    kind: str | None = Query("service_station"),
    community: Place = None,
    link_m: float = Query(100.0, gt=0, le=5000, description="Buildings closer than this join a cluster."),
    limit: int = Query(1000, ge=0, le=100_000, description="Uncovered buildings listed at most."),
) -> dict:
    """Uncovered buildings and their clusters (with households); grids with no station inside or in reach."""
    from geogrid.coverage.gaps import gaps
    from geogrid.coverage.stats import Query as CoverageQuery

    q = CoverageQuery(minutes=minutes, mode=mode, kind=kind, community=community)
    return gaps(conn, q, link_m=link_m, limit=limit)


@router.get("/suggest", response_model=Suggestion)
def get_suggest(
    conn: ReadConn,
    k: int = Query(3, ge=1, le=50),
    kind: str | None = Query("service_station"),
    minutes: int = MINUTES,
    mode: str = MODE,
    community: Place = None,
    max_buildings: int = Query(300, ge=0, le=5000, description="Uncovered buildings tried as sites."),
) -> dict:
    """k new sites covering the most uncovered households (exact MCLP with PuLP/CBC, checked by greedy)."""
    from geogrid.coverage.stats import Query as CoverageQuery
    from geogrid.coverage.suggest import suggest

    q = CoverageQuery(minutes=minutes, mode=mode, kind=kind, community=community)
    return suggest(conn, q, k=k, max_buildings=max_buildings)
