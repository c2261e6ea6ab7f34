"""What a partition adds to its plan's preview (``preview.partition``), as typed records.

:func:`geogrid.partition.propose.propose` writes a :class:`ProposeReport` and
:func:`geogrid.partition.rebalance.rebalance` a :class:`RebalanceReport`; the API documents ``POST /partitions``
with them, so the stored plan, the CLI and ``/docs`` share one shape.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import Connection, text


class ProposedGrid(BaseModel):
    """One proposed grid: figures, shape measures and why it is special, if it is."""

    community: str
    name: str
    kind: str
    households: int
    estimated_households: int = Field(description="how many of the households are estimates (OSM footprints)")
    households_estimated: bool = Field(description="some of the households are estimates")
    buildings: int
    units: int = Field(description="units (blocks, compounds, buildings) the grid is made of; never split")
    compounds: list[str]
    polsby_popper: float = Field(description="4πA/P² of the grid: 1 for a circle, 0.785 for a square")
    road_share: float | None = Field(description="share of the inner boundary along a road, river or railway")
    in_band: bool
    reason: str | None = Field(description="why the grid is dedicated, of its own, or outside the band")
    band_possible: bool = Field(description="false when the plan proved the units allow no grid in the band here")


class ProposeSummary(BaseModel):
    grids: int
    basic_grids: int
    dedicated_grids: int
    in_band_share: float | None = Field(description="basic grids within the household band")
    in_band_share_where_units_allow: float | None = Field(description="the same, leaving out grids proved impossible")
    out_of_band_units_allow_no_better: int
    mean_polsby_popper: float | None
    mean_road_share: float | None
    households: int
    estimated_households: int
    seconds: float
    seed: int


class ProposeReport(BaseModel):
    """Grids proposed for a community or a street office."""

    summary: ProposeSummary
    grids: list[ProposedGrid] = Field(description="in reading order: the order of the plan's create edits")


class RebalanceSummary(BaseModel):
    grids_out_of_band_before: int
    grids_out_of_band_after: int
    buildings_moved: int
    households_moved: int
    keep_in_band: bool = Field(description="grids within the band neither gave nor took units")
    seconds: float


class RebalanceReport(BaseModel):
    """A community's grids rebalanced: who moved, and the grids outside the band before and after."""

    summary: RebalanceSummary


def add_report(conn: Connection, plan_id: int, report: ProposeReport | RebalanceReport) -> dict:
    """The stored plan with the partition's report added to its preview (``preview.partition``)."""
    from geogrid.planning.preview import get_plan

    conn.execute(
        text("UPDATE plans SET preview = preview || jsonb_build_object('partition', CAST(:p AS jsonb)) WHERE id = :i"),
        {"p": report.model_dump_json(), "i": plan_id},
    )
    return get_plan(conn, plan_id)
