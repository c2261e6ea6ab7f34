"""Response models of the coverage, planning and read endpoints, so ``/docs`` documents every answer.

Each route declares one of these as ``response_model``: FastAPI validates what the core returns against
it (a drifting answer is a failing test, not a silent doc) and publishes it in the OpenAPI schema.
GeoJSON routes answer bytes PostGIS wrote; their models document the features they carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from geogrid.model import SPECIAL_GROUPS
from geogrid.partition.report import ProposeReport, RebalanceReport


class _Strict(BaseModel):
    """Declared fields are checked on every answer; a field a newer core adds passes through (kept, not a 500)."""

    model_config = ConfigDict(extra="allow")


# --- coverage -------------------------------------------------------------------------------------------

COUNTS = ("households", "residents", *SPECIAL_GROUPS)


def _count_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in COUNTS:
        share = "share" if name == "households" else f"{name}_share"
        count = int if name in ("households", "residents") else int | None  # small groups: null unless staff
        fields[name] = (count, Field(description=f"{name} in the grids of the scope"))
        fields[f"{name}_covered"] = (count, Field(description=f"{name} in buildings inside a service area"))
        fields[share] = (float | None, Field(description="covered / all; null when there are none"))
    fields["suppressed"] = (
        bool | None,
        Field(None, description="true when small special-group counts are hidden (GEOGRID_SUPPRESS_BELOW, not staff)"),
    )
    return fields


CoverageCounts = create_model("CoverageCounts", __base__=_Strict, **_count_fields())


class CoverageQuery(_Strict):
    minutes: int
    mode: Literal["circle", "network"] = Field(description="the mode answered (auto resolved)")
    kind: str | None
    community: str | None = Field(description="the scope asked: district, street, community or grid")


class CoverageSummary(CoverageCounts):
    grids: int
    service_areas: int = Field(description="service areas of real facilities (not candidates) counted")


class GridCoverage(CoverageCounts):
    code: str
    name: str
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None


class AreaCoverage(CoverageCounts):
    code: str
    name: str | None


class Coverage(_Strict):
    query: CoverageQuery
    summary: CoverageSummary
    grids: list[GridCoverage]
    communities: list[AreaCoverage]
    streets: list[AreaCoverage]


# --- validation and plans -------------------------------------------------------------------------------


class Problem(_Strict):
    rule: str = Field(description="the rule's name, e.g. overlap, gap, household_band")
    severity: Literal["error", "warning"]
    grids: list[str] = Field(description="codes of the grids concerned")
    community: str | None
    message: str = Field(description="the problem in words, in the user's language")
    location: dict[str, Any] | None = Field(description="GeoJSON geometry to show on a map")
    value: float | None = Field(None, description="the measure that broke the rule (m², households, ...)")
    roster_url: str | None = Field(
        None, description="roster problems (一人一格, 支部建在网格上, too many grids): the community's roster page"
    )


class Validation(_Strict):
    community: str | None
    count: int
    errors: int
    problems: list[Problem]


class GridFigures(_Strict):
    code: str
    name: str | None
    kind: str
    area_m2: float | None
    parts: int
    compactness: float | None = Field(description="Polsby–Popper, 1 for a circle")
    buildings: int
    households: int
    households_estimated: bool = Field(description="some of the households are estimates (OSM footprints)")
    estimated_households: int = Field(description="how many of the households are estimates")
    covered_households: int | None = Field(description="within a 5-minute service area; null before compute")
    coverage: float | None
    residents: int
    facilities: int
    full_time_workers: int
    party_org: bool


class GridChange(_Strict):
    code: str
    status: Literal["changed", "retired", "restored", "new"]
    provisional_code: bool = Field(False, description="a new grid's code is fixed when the plan is applied")
    before: GridFigures | None
    after: GridFigures | None


class MovedBuilding(BaseModel):
    id: int
    source_id: str | None
    address: str | None
    label: str | None = Field(None, description="address, name, or the nearest named road: never an id")
    households: int | None
    residents: int
    from_: str | None = Field(alias="from")
    to: str | None


class MovedFacility(BaseModel):
    id: int
    name: str | None
    kind: str
    from_: str | None = Field(alias="from")
    to: str | None


class Moved(_Strict):
    buildings: list[MovedBuilding]
    facilities: list[MovedFacility]
    totals: dict[str, int]


class PlanValidation(_Strict):
    before: dict[str, int] | None = Field(description="problems per rule before the change (compare=true)")
    after: dict[str, int]
    problems: list[Problem]


class MovedUnit(BaseModel):
    id: int
    kind: str
    label: str = Field(description="the unit by name: compound, address of a building, block by its first address")
    from_: str | None = Field(alias="from")
    to: str


class OffUnits(_Strict):
    grid: str
    units_cut: int
    message: str


class Preview(_Strict):
    grids: list[GridChange]
    moved: Moved
    units: list[MovedUnit] = Field(default_factory=list, description="units painted into another grid, by name")
    off_units: list[OffUnits] = Field(
        default_factory=list, description="grids whose new boundary does not follow units (a free-hand redraw)"
    )
    validation: PlanValidation
    geometry: dict[str, dict[str, Any]] = Field(description="before/after GeoJSON FeatureCollections")
    map_url: str = Field(description="before/after map of the plan")


class Plan(_Strict):
    plan: int
    status: str
    author: str | None
    edits: list[dict[str, Any]]
    base_versions: dict[str, int] | None
    preview: Preview | None
    created_at: datetime
    applied_at: datetime | None


class PartitionPreview(Preview):
    partition: ProposeReport | RebalanceReport = Field(
        description="what only a partition knows: proposed grids and why one is special, or who a rebalance moved"
    )


class PartitionPlan(Plan):
    """A draft plan drawn by ``POST /partitions``: the plan as ``POST /plans`` answers it, with its report."""

    preview: PartitionPreview


class Applied(_Strict):
    plan: int
    status: Literal["applied"]
    changed: list[str]
    retired: list[str]
    created: list[str]
    buildings_moved: int
    facilities_moved: int


class Reverted(Applied):
    reverted_to: int


class Undone(Applied):
    undoes: int  # the plan this one undid


class GridVersion(BaseModel):
    version: int
    name: str | None
    kind: str
    valid_from: datetime | None
    valid_to: datetime | None
    author: str | None
    change_id: int | None
    note: str | None
    area_m2: float | None
    geometry: dict[str, Any] | None


class History(BaseModel):
    code: str
    current_version: int
    status: Literal["in force", "retired"]
    parents: list[Any] = Field(description="grids this one was split or merged from (lineage)")
    children: list[Any] = Field(description="grids made from this one")
    versions: list[GridVersion]


# --- coverage gaps and suggested sites -------------------------------------------------------------------


class GapsQuery(CoverageQuery):
    link_m: float = Field(description="buildings closer than this join one cluster")


class GapsSummary(_Strict):
    buildings: int = Field(description="uncovered buildings with households")
    households: int
    residents: int
    clusters: int


class GapCluster(_Strict):
    cluster: int
    buildings: int
    households: int
    residents: int
    lon: float
    lat: float
    radius_m: float = Field(description="how far the cluster's buildings spread from its centre")
    grids: list[str] = Field(description="grids the cluster's buildings are in")


class GapBuilding(_Strict):
    id: int
    lon: float
    lat: float
    households: int
    residents: int
    grid: str | None
    cluster: int


class FlaggedGrid(_Strict):
    code: str
    name: str
    stations_inside: int = Field(description="facilities of the kind inside the grid")
    reached: bool = Field(description="some service area of the circle reaches the grid")
    no_station: bool


class Gaps(_Strict):
    query: GapsQuery
    summary: GapsSummary
    clusters: list[GapCluster]
    buildings: list[GapBuilding] = Field(description="uncovered buildings, most households first (up to limit)")
    grids: list[FlaggedGrid] = Field(description="grids with no station inside, or reached by no service area")


class SuggestBefore(_Strict):
    households: int
    households_covered: int
    share: float | None


class SuggestedSite(_Strict):
    source: Literal["facility", "building"] = Field(description="a candidate facility, or an uncovered building")
    ref_id: int = Field(description="id of that facility or building")
    lon: float
    lat: float
    gain_households: int
    households_covered_after: int
    share_after: float | None


class Suggestion(_Strict):
    query: CoverageQuery
    method: str = Field(description="how the sites were chosen (MCLP, greedy, or none and why)")
    candidates: int = Field(description="candidate sites tried")
    before: SuggestBefore
    sites: list[SuggestedSite] = Field(description="in order of gain")
    greedy_households: int | None = Field(description="households the greedy heuristic gains (the check)")
    gain_households: int


# --- service, accounts ----------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: str = Field(description='"ok", or "unavailable: <reason>"')
    error: str | None = Field(None, description="the reason in words (503 only)")


class Me(BaseModel):
    name: str | None
    role: str | None
    via: str | None = None
    areas: list[str] = []
    csrf: str | None = None


class SignedOut(BaseModel):
    signed_out: Literal[True]


class Account(BaseModel):
    name: str
    role: str
    areas: list[str] = Field(description="street or community codes the account may act in")


class AccountListed(Account):
    disabled: bool
    created_at: datetime


class Disabled(BaseModel):
    name: str
    disabled: Literal[True]


class NewKey(BaseModel):
    name: str
    key: str = Field(description="the API key, shown this once")


class RevokedKey(BaseModel):
    revoked: str = Field(description="the key's prefix")
    name: str = Field(description="the account the key belonged to")


# --- GeoJSON (documentation of what PostGIS writes) --------------------------------------------------------


class _Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] = Field(description="GeoJSON geometry, WGS84")


class GridProperties(BaseModel):
    code: str
    name: str
    kind: str
    community_code: str | None
    households: int
    households_estimated: bool = Field(description="some of the households are estimates (OSM footprints)")
    estimated_households: int = Field(description="how many of the households are estimates")
    residents: int
    buildings: int


class AreaProperties(BaseModel):
    code: str
    name: str
    level: Literal["district", "street", "community"]
    parent_code: str | None


class FacilityProperties(BaseModel):
    name: str | None
    kind: str
    circle_minutes: int | None
    address: str | None
    grid_code: str | None


class BuildingProperties(BaseModel):
    address: str | None
    households: int | None
    source_id: str | None


class BuildingFeature(_Feature):
    properties: BuildingProperties


class GridFeature(_Feature):
    properties: GridProperties


class AreaFeature(_Feature):
    properties: AreaProperties


class FacilityFeature(_Feature):
    properties: FacilityProperties


class GridCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GridFeature]


class BuildingCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[BuildingFeature]


class AreaCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaFeature]


class FacilityCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FacilityFeature]


class Feature(_Feature):
    """A map feature: geometry and the properties the layer carries."""

    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


def geojson(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering GeoJSON bytes: documents ``model`` under application/geo+json."""
    return {200: {"model": model, "content": {"application/geo+json": {}}}}


class PaintUnitProperties(_Strict):
    id: int
    kind: Literal["block", "compound", "building"]
    label: str = Field(description="by name, never an id: compound, address, block by its first address")
    grid: str | None = Field(description="the grid in force covering most of the unit")
    households: int
    covered_households: int = Field(description="households of the unit within a 5-minute service area")
    buildings: int
    neighbours: list[int] = Field(description="ids of the units sharing an edge with it")


class PaintUnit(_Strict):
    type: Literal["Feature"]
    id: int
    properties: PaintUnitProperties
    geometry: dict[str, Any]


class PaintGrid(_Strict):
    code: str
    name: str | None
    kind: str
    version: int
    households: int
    covered_households: int | None
    parts: int
    band: tuple[int, int] = Field(description="households the grid's kind should have (GEOGRID_HOUSEHOLD_BANDS)")


class PaintUnits(_Strict):
    """The units of a community as the planner paints them, with the figures the live balance bar sums."""

    type: Literal["FeatureCollection"]
    community: str
    coverage_basis: str | None = Field(description="network or circle 5-minute areas; null when none computed")
    grids: list[PaintGrid]
    features: list[PaintUnit]


class UnitsBuilt(_Strict):
    community: str
    units: int
