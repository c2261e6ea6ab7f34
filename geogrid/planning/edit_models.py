"""Plan edits as typed records: a pydantic union discriminated by ``op``, checked like an import.

A boundary a planner sends is held to the rules a file's geometry meets: coordinates finite, two-dimensional and
on the Earth (lon −180…180, lat −90…90 in every supported datum); at most ``GEOGRID_PLAN_MAX_VERTICES`` vertices;
a ``crs`` (on the edit, or a GeoJSON ``crs`` member in the geometry) that geogrid knows. Whether a polygon is
*valid* (no bow-tie, no hole outside its shell) is checked later, on the Shapely geometry: it is refused unless the
edit says ``"repair": true``, and a repair is reported in the preview. Before these checks, a redraw at ±1e308 was
applied and one grid covered the planet.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from geogrid.errors import GeogridError, InputError
from geogrid.i18n import t
from geogrid.settings import get_settings

CODE = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^\x00]*$")]
BUILDING_ID = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
GEOJSON_CRS84 = (
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "urn:ogc:def:crs:EPSG::4490",
)


def _positions(coords: Any, depth: int) -> list[Any]:
    """The positions of a GeoJSON ``coordinates`` array nested ``depth`` deep (0: one position)."""
    if not isinstance(coords, list | tuple):
        raise ValueError(t("coordinates must be arrays of numbers"))
    if depth == 0:
        return [coords]
    return [p for part in coords for p in _positions(part, depth - 1)]


DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def check_positions(geometry: dict) -> int:
    """Raise ValueError unless every position is two finite numbers; returns how many there are.

    Whether they lie on the Earth is checked once converted to WGS84 (:func:`check_on_earth`): a projected CRS
    gives metres here."""
    kind = geometry.get("type")
    if kind not in DEPTH:
        raise ValueError(t("expected a GeoJSON geometry, got type {kind!r}", kind=kind))
    positions = _positions(geometry.get("coordinates"), DEPTH[kind])
    for p in positions:
        if len(p) != 2:
            raise ValueError(
                t("a position must be [lon, lat]; {n} values given (3D and measured coordinates are refused)", n=len(p))
            )
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p):
            raise ValueError(t("a position must hold two numbers"))
        if not (math.isfinite(float(p[0])) and math.isfinite(float(p[1]))):
            raise ValueError(t("coordinates must be finite numbers"))
    limit = get_settings().plan_max_vertices
    if len(positions) > limit:
        raise ValueError(
            t(
                "{n:,} vertices: a boundary may have at most {limit:,} (GEOGRID_PLAN_MAX_VERTICES)",
                n=len(positions),
                limit=limit,
            )
        )
    return len(positions)


def check_on_earth(bounds: tuple[float, float, float, float]) -> None:
    """Raise ValueError unless WGS84 bounds lie within lon −180…180, lat −90…90 (and are finite)."""
    west, south, east, north = bounds
    if not all(math.isfinite(v) for v in bounds) or west < -180 or east > 180 or south < -90 or north > 90:
        raise ValueError(
            t(
                "coordinates off the Earth: lon {west:.6g}…{east:.6g}, lat {south:.6g}…{north:.6g} "
                "(lon −180…180, lat −90…90)",
                west=west,
                east=east,
                south=south,
                north=north,
            )
        )


def geojson_crs(geometry: dict) -> str | None:
    """The CRS a GeoJSON object names in its (2008-style) ``crs`` member, checked; None when it names none."""
    member = geometry.get("crs")
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str):
        raise ValueError(t('a GeoJSON crs member must be {{"type": "name", "properties": {{"name": ...}}}}'))
    return "EPSG:4326" if name in GEOJSON_CRS84[:3] else "EPSG:4490" if name == GEOJSON_CRS84[3] else name


def check_crs(name: str | None) -> str | None:
    """A CRS name geogrid knows, with two horizontal axes (geocentric and 3D systems are refused)."""
    if name is None:
        return None
    from geogrid.crs import check_horizontal

    try:
        check_horizontal(name)
    except GeogridError as exc:
        raise ValueError(exc.message) from None
    return name


class GeoJSONGeometry(BaseModel):
    """A GeoJSON geometry (or a Feature, whose geometry is taken) with checked positions."""

    model_config = ConfigDict(extra="allow")

    type: str
    coordinates: list[Any] | None = None
    geometry: dict | None = None

    def as_geometry(self) -> dict:
        """The plain geometry (a Feature's, or this one) as GeoJSON."""
        data = self.model_dump(exclude_none=True)
        return data["geometry"] if data.get("type") == "Feature" else data

    @model_validator(mode="after")
    def _checked(self) -> GeoJSONGeometry:
        geometry = self.as_geometry()
        if not isinstance(geometry, dict):
            raise ValueError(t("a Feature needs a geometry"))
        check_positions(geometry)
        check_crs(geojson_crs(geometry))
        return self


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Drawn(_Edit):
    crs: str | None = Field(None, max_length=64, description="wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:xxxx.")

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str | None) -> str | None:
        return check_crs(value)


class Redraw(_Drawn):
    """A new boundary for a grid; neighbours lose what it now takes (unless ``trim_neighbours`` is false)."""

    op: Literal["redraw"]
    grid: CODE
    geometry: GeoJSONGeometry
    trim_neighbours: bool = True
    repair: bool = Field(
        False, description="Repair an invalid polygon (reported in the preview) instead of refusing it."
    )


class Split(_Drawn):
    """Cut a grid along a line: each piece becomes a new grid, the code is retired."""

    op: Literal["split"]
    grid: CODE
    line: GeoJSONGeometry


class Merge(_Edit):
    """Merge grids of one community into one new grid; the codes are retired."""

    op: Literal["merge"]
    grids: list[CODE] = Field(..., min_length=1, max_length=100)  # two distinct ones: checked with a clear message
    name: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$")


UNIT_ID = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
LOCKED: Any = Field(
    default_factory=list, max_length=1000, description="Grids that must not change (refused if they would)."
)
CONFIRM_SPLIT: Any = Field(False, description="Allow a grid to fall into more pieces than it had (refused otherwise).")


class MoveBuildings(_Edit):
    """The grid ``to`` takes the unit of each building (block, compound, building of ``partition_units``), or its
    footprint where its community has no units, from whichever grid held it."""

    op: Literal["move_buildings"]
    buildings: list[BUILDING_ID] = Field(..., min_length=1, max_length=10_000)
    to: CODE
    locked: list[CODE] = LOCKED
    confirm_split: bool = CONFIRM_SPLIT


class MoveUnits(_Edit):
    """Paint: the grid ``grid`` takes these units (ids of ``partition_units``) from the grids holding them."""

    op: Literal["move_units"]
    grid: CODE
    units: list[UNIT_ID] = Field(..., min_length=1, max_length=10_000)
    locked: list[CODE] = LOCKED
    confirm_split: bool = CONFIRM_SPLIT


class Revert(_Edit):
    """The boundary of version ``to_version``, as a redraw; the area given up goes back to the grids that held it."""

    op: Literal["revert"]
    grid: CODE
    to_version: int = Field(..., ge=1, le=2**31 - 1)


class Create(_Drawn):
    """A brand-new grid inside a community; grids in force give up what it covers (those left empty retire)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Literal["create"]
    community: str = Field(..., min_length=1, max_length=100, pattern=r"^[^\x00]*$", description="Code or name.")
    geometry: GeoJSONGeometry
    name: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$")
    kind: str = Field("basic", max_length=32, pattern=r"^[^\x00]*$")
    from_: list[CODE] = Field(
        default_factory=list, alias="from", max_length=100, description="Grids the new one succeeds (lineage)."
    )
    repair: bool = Field(False, description="Repair an invalid polygon (reported) instead of refusing it.")


class NewCommunity(_Drawn):
    """A new community of a street office (a partition of a street with none draws them); created with the plan."""

    op: Literal["community"]
    street: str = Field(..., min_length=1, max_length=100, pattern=r"^[^\x00]*$", description="Street code or name.")
    code: str = Field(..., min_length=1, max_length=12, pattern=r"^\d+$", description="The new community's code.")
    name: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$")
    geometry: GeoJSONGeometry
    repair: bool = Field(False, description="Repair an invalid polygon (reported) instead of refusing it.")


AnyEdit = Redraw | Split | Merge | MoveBuildings | MoveUnits | Revert | Create | NewCommunity
Edit = Annotated[AnyEdit, Field(discriminator="op")]
EDITS = TypeAdapter(list[Edit])


def parse_edits(edits: Any) -> list[AnyEdit]:
    """Typed edits from JSON-like data; the first problem raises InputError naming ``edits[i].field``."""
    if not isinstance(edits, list) or not edits:
        raise InputError(t("a plan needs a non-empty list of edits"), field="edits")
    try:
        return EDITS.validate_python(edits)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"]]
        where = (
            f"edits[{loc[0]}]" + "".join(f".{p}" for p in loc[2:] if not p.startswith("function-"))
            if len(loc) > 1
            else "edits"
        )
        reason = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        message = str(reason) if reason is not None else t("invalid value: {message}", message=error["msg"])
        raise InputError(message, field=where) from None
