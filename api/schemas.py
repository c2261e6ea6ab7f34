"""Documented shapes of the lookup answers, for API consumers reading ``/docs``.

The hot path builds plain dicts (validating each answer would cost as much as the query); these models
only describe them, and the tests validate real answers against them so the documentation cannot drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LookupPoint(_Strict):
    lon: float = Field(description="WGS84 longitude the answer is for (after converting the input crs)")
    lat: float


class Grid(_Strict):
    code: str = Field(description="15-digit grid code: community code + 3-digit sequence")
    name: str
    kind: Literal["basic", "dedicated"] = Field(description="basic (基础网格) or dedicated (专属网格)")


class Area(_Strict):
    code: str
    name: str


class Staff(_Strict):
    role: str = Field(
        description="grid_leader, full_time_worker, part_time_worker, specialist, party_instructor, "
        "employed_party_member, building_leader … in order of responsibility"
    )
    name: str


class PartyOrg(_Strict):
    name: str
    level: str = Field(description="grid_branch (网格党支部), party_group (党小组) …")


class Station(_Strict):
    name: str
    kind: Literal["service_station"]
    distance_m: float = Field(description="straight-line metres to the station")
    walk_m: float | None = Field(
        description="metres on foot along the walking network: onto the nearest street, "
        "along it, to the station; null without a measured network"
    )
    walk_minutes: float = Field(description="walk_m (else distance_m) at GEOGRID_WALK_SPEED metres a minute")
    walk_basis: Literal["network", "straight_line"]


class CoveredBy(_Strict):
    name: str
    kind: str = Field(description="facility kind: service_station, kindergarten, health_station …")
    distance_m: float = Field(description="straight-line metres to the facility")
    walk_m: float | None = Field(
        description="metres on foot along the network when measured (the nearest station), else null"
    )
    walk_minutes: float = Field(description="walk_m (else distance_m) at GEOGRID_WALK_SPEED metres a minute")
    walk_basis: Literal["network", "straight_line"]


class PointAnswer(_Strict):
    point: LookupPoint
    grid: Grid
    community: Area | None
    street: Area | None
    district: Area | None
    staff: list[Staff]
    party_org: PartyOrg | None
    nearest_station: Station | None = Field(description="the nearest 党群服务站 on foot (or by straight line)")
    covered: bool = Field(
        description="inside a 5-minute service area (on covered_basis) of a facility of one of "
        "covered_kinds; covered_by names them"
    )
    covered_basis: Literal["network", "circle", "radius"] = Field(
        description="network or circle: stored 5-minute service areas; radius: the nearest station within the "
        "5-minute radius (no areas computed)"
    )
    covered_by: list[CoveredBy] = Field(
        description="the facilities in service whose 5-minute area holds the "
        "point, nearest first (at most 5); empty when not covered"
    )
    covered_kinds: list[str] = Field(
        description="the facility kinds whose areas count for covered (candidates, proposed sites, never count)"
    )


class Match(_Strict):
    address: str
    kind: str = Field(
        description="what kind of name matched: address_book, building, door, entrance, compound, place, road or area"
    )
    level: str = Field(
        description="what the answer rests on: address_book, building, door, interpolated, "
        "entrance, compound, place, road or area"
    )
    score: float = Field(description="how much of the normalised address matched, 1 for an exact match")


class AddressCandidate(_Strict):
    address: str
    kind: str
    level: str
    score: float
    share: float = Field(description="share of what matched (road length, place area, hits) in this grid")
    grid: dict | None


class AddressAnswer(PointAnswer):
    match: Match
    ambiguous: bool = Field(description="false only when what matched lies in one grid; else see candidates")
    candidates: list[AddressCandidate]
    explain: list[str] | None = Field(None, description="why this answer was chosen (explain=true)")


LOOKUP_RESPONSES: dict = {
    200: {
        "model": PointAnswer | AddressAnswer,
        "description": "The grid and who is responsible for it; an address answer adds match, ambiguous and candidates",
    }
}


class BatchGrid(_Strict):
    code: str
    name: str
    kind: Literal["basic", "dedicated"]
    community_code: str | None


class BatchResult(_Strict):
    id: str | int | None = Field(description="the item's id, as sent")
    grid: BatchGrid | None = Field(description="the grid at the point or address; null with an error")
    error: str | None = Field(None, description="why this item has no grid (the batch still answers)")
    match: Match | None = Field(None, description="address items: what matched")
    ambiguous: bool | None = Field(None, description="address items: false only when the match lies in one grid")
    candidates: list[str] | None = Field(None, description="address items: codes of the grids it may be in")


class BatchItems(_Strict):
    """The answer to ``{"items": [...]}``: one result per item, in the items' order."""

    results: list[BatchResult]


class BatchColumns(_Strict):
    """The answer to ``{"lon": [...], "lat": [...]}``: one list per field, in the points' order."""

    id: list[str | int | None]
    grid_code: list[str | None]
    grid_name: list[str | None]
    grid_kind: list[Literal["basic", "dedicated"] | None]
    community_code: list[str | None]
    error: list[str | None]


BATCH_RESPONSES: dict = {
    200: {
        "model": BatchItems | BatchColumns,
        "description": "Items answer items, columns answer columns; a CSV body is answered as CSV",
        "content": {"text/csv": {"schema": {"type": "string", "description": "one row per item (CSV_COLUMNS)"}}},
    }
}
