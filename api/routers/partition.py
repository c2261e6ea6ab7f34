"""Proposing grids over HTTP: ``POST /partitions`` answers a stored draft plan exactly as ``POST /plans`` does."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator

from api import security
from api.deps import WriteConn
from api.responses import PartitionPlan
from api.routers.planning import linked
from api.security import CurrentUser
from geogrid.accounts.scope import check_area, check_plan
from geogrid.partition.propose import propose
from geogrid.partition.rebalance import rebalance

router = APIRouter(tags=["planning"])


class PartitionIn(BaseModel):
    street: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$", description="Street office code or name.")
    community: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$", description="Community code or name.")
    rebalance: bool = Field(False, description="Fix the community's grids outside the band (fewest buildings moved).")
    keep_in_band: bool = Field(True, description="Rebalance: leave grids within the band untouched.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="The same seed gives the same grids.")
    author: str | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def one_area(self) -> PartitionIn:
        if (self.street is None) == (self.community is None):
            raise ValueError("give exactly one of street or community")
        if self.rebalance and self.community is None:
            raise ValueError("rebalance needs a community")
        return self

    @property
    def area(self) -> str:
        """The street or community asked for (the validator let exactly one through)."""
        return self.community if self.community is not None else str(self.street)


@router.post("/partitions", status_code=201, response_model=PartitionPlan)
def post_partition(conn: WriteConn, body: PartitionIn, request: Request, who: CurrentUser) -> dict:
    """Propose grids (or rebalance them) and store them as a draft plan; apply it with ``POST /plans/{id}/apply``.

    The answer is the plan as ``POST /plans`` gives it, with ``preview.partition``: per grid households
    (and how many are estimated), Polsby–Popper, share of boundary on roads, and why a grid is dedicated or
    outside the band. 403 when the street or community is outside the caller's granted areas.
    """
    author = body.author or who.name
    check_area(conn, who, body.area)
    if body.rebalance:  # the validator made sure the area is a community
        plan = rebalance(conn, body.area, keep_in_band=body.keep_in_band, author=author)
    else:
        plan = propose(conn, community=body.community, street=body.street, seed=body.seed, author=author)
    area = check_plan(conn, who, plan["preview"])  # a planner proposes only within the areas granted
    security.record(
        conn,
        request,
        "partition",
        area=area or body.area,
        target=f"plan {plan['plan']}",
        details={"plan": plan["plan"], "rebalance": body.rebalance},
    )
    return linked(plan)
