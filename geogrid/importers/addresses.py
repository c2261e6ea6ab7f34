"""The standard address book (标准地址库) of a street office: ``geogrid import addresses FILE``.

Street offices keep their addresses as parts (district, street office, community, road, door number,
compound, building, unit, room) in spreadsheets; each row carries a point or the source id of a building
already imported. These rows are the first source of address lookups (match level ``address_book``).
OpenStreetMap addresses share the table (:mod:`geogrid.importers.osm_addresses`), with ``source = 'osm'``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.address import normalise_many, parse_door
from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.importers.read import Source, read_source
from geogrid.importers.upsert import ImportReport, merge, stage

COLUMNS = (
    "source",
    "source_id",
    "kind",
    "text",
    "name",
    "aliases",
    "district",
    "street",
    "community",
    "road",
    "road_norm",
    "door",
    "number",
    "door_prefix",
    "door_sub",
    "compound",
    "building",
    "unit",
    "room",
    "building_id",
    "geom",
    "outline",
)

# The parts an address book carries, and the column names tried for each (compared case-insensitively).
PARTS: dict[str, tuple[str, ...]] = {
    "district": ("district", "区县", "区", "所属区县"),
    "street": ("street", "street_office", "街道", "街乡", "乡镇街道", "所属街道"),
    "community": ("community", "社区", "村居", "所属社区"),
    "road": ("road", "路", "街路巷", "道路", "路名", "街路巷名称"),
    "door": ("door", "door_number", "门牌号", "门牌", "号"),
    "compound": ("compound", "小区", "小区名称", "院落"),
    "building": ("building", "楼栋", "楼号", "楼栋号", "幢"),
    "unit": ("unit", "单元", "单元号"),
    "room": ("room", "户室", "室", "房号", "户室号"),
    "name": ("name", "名称", "地名"),
    "address": ("address", "full_address", "地址", "标准地址", "详细地址"),
    "building_source_id": ("building_source_id", "building_id", "楼栋编号", "建筑编号"),
}


def import_addresses(path: str | Path, conn: Connection, *, crs: str | None = None) -> ImportReport:
    """Upsert an address book (xlsx, CSV or GeoJSON) by source id; every row needs a point or a known building."""
    source = _read(Path(path), crs)
    return write_address_book(conn, source)


def _read(path: Path, crs: str | None) -> Source:
    """Read the file; a spreadsheet becomes a CSV-like source (points from lon/lat columns when present)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return read_source(path, crs=crs, geometry=_has_geometry(path))
    try:
        frame = pd.read_excel(path, dtype=str)
    except Exception as exc:  # openpyxl raises several types for an unreadable workbook
        raise InputError(t("not a readable spreadsheet: {error}", error=exc), file=str(path)) from None
    tmp = path.with_suffix(".__geogrid__.csv")
    try:
        frame.to_csv(tmp, index=False)
        source = read_source(tmp, crs=crs, geometry=_frame_has_points(frame))
    finally:
        tmp.unlink(missing_ok=True)
    source.file = str(path)
    return source


def _has_geometry(path: Path) -> bool:
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return True
    head = pd.read_csv(path, nrows=0, dtype=str, encoding_errors="replace", sep=None, engine="python")
    return _frame_has_points(head)


def _frame_has_points(frame: pd.DataFrame) -> bool:
    names = {str(c).strip().lower() for c in frame.columns}
    return bool(names & {"lon", "lng", "longitude", "经度", "x", "wkt", "geometry"})


def _column(source: Source, part: str) -> np.ndarray:
    names = {str(c).strip().lower(): c for c in source.frame.columns}
    for candidate in PARTS[part]:
        if candidate.lower() in names:
            return source.text(names[candidate.lower()])
    return np.full(len(source), None, dtype=object)


def write_address_book(conn: Connection, source: Source) -> ImportReport:
    """Rows of the address book as ``address_points`` (``source = 'address_book'``), in the caller's transaction."""
    parts = {part: _column(source, part) for part in PARTS}
    full = np.array([_full_text(i, parts) for i in range(len(source))], dtype=object)
    empty = np.array([not f for f in full])
    source.first_bad(
        empty, lambda i: t("row has no address: give address, or road and door, or compound and building"), "address"
    )
    geoms = _points(conn, source, parts["building_source_id"])
    building_ids = _building_ids(conn, parts["building_source_id"])
    ids = np.array(["book:" + s for s in source.source_ids(None)], dtype=object)
    frame = address_frame(
        full, geoms, source="address_book", kind="address_book", source_ids=ids, parts=parts, building_ids=building_ids
    )
    return write_address_points(conn, frame, t("address book"))


def _full_text(i: int, parts: dict[str, np.ndarray]) -> str | None:
    """The address as written, else composed from its parts (road + door, compound + building + unit + room)."""
    if parts["address"][i]:
        return parts["address"][i]
    road = "".join(p for p in (parts["road"][i], parts["door"][i]) if p)
    place = "".join(p for p in (parts["compound"][i], parts["building"][i]) if p)
    inside = "".join(p for p in (parts["unit"][i], parts["room"][i]) if p)
    text_ = (road + place + inside) if (road or place) else None
    return text_ or parts["name"][i]


def _points(conn: Connection, source: Source, building_refs: np.ndarray) -> np.ndarray:
    """Each row's point: its own, else its building's; a row with neither fails naming the row."""
    geoms = (
        np.asarray(source.frame.geometry.array, dtype=object)
        if "geometry" in source.frame
        else np.full(len(source), None, dtype=object)
    )
    refs = [r for r in dict.fromkeys(building_refs) if r]
    known: dict[str, shapely.Geometry] = {}
    if refs:
        rows = conn.execute(
            text("SELECT source_id, ST_AsBinary(geom) AS wkb FROM buildings WHERE source_id = ANY(:ids)"),
            {"ids": refs},
        ).all()
        known = {r.source_id: shapely.from_wkb(bytes(r.wkb)) for r in rows}
    out = np.empty(len(source), dtype=object)
    for i, geom in enumerate(geoms):
        own = geom if geom is not None and not shapely.is_empty(geom) else None
        out[i] = shapely.point_on_surface(own) if own is not None else known.get(building_refs[i])
    missing = np.array([g is None for g in out])
    source.first_bad(
        missing,
        lambda i: t(
            "no point: give lon and lat, or the source id of an imported building ({ref})", ref=building_refs[i] or "—"
        ),
        "building_source_id",
    )
    return out


def building_ids(conn: Connection, source_ids: list[str]) -> dict[str, int]:
    """Building ids by source id, for the source ids that name a stored building (addresses and OSM imports)."""
    if not source_ids:
        return {}
    rows = conn.execute(text("SELECT source_id, id FROM buildings WHERE source_id = ANY(:ids)"), {"ids": source_ids})
    return {r.source_id: r.id for r in rows}


def _building_ids(conn: Connection, refs: np.ndarray) -> np.ndarray:
    ids = building_ids(conn, [r for r in dict.fromkeys(refs) if r])
    return np.array([ids.get(r) for r in refs], dtype=object)


def address_frame(
    full: np.ndarray,
    geoms: np.ndarray,
    *,
    source: str,
    kind: str | np.ndarray,
    source_ids: np.ndarray,
    parts: dict[str, np.ndarray],
    building_ids: np.ndarray | None = None,
    aliases: list | None = None,
    outlines: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rows of :data:`COLUMNS`: the door number read from the road + door parts, else from the full text."""
    n = len(full)
    none = np.full(n, None, dtype=object)
    road = parts.get("road", none)
    door_text = np.array(
        [(r or "") + (d or "") if d else f for r, d, f in zip(road, parts.get("door", none), full, strict=True)],
        dtype=object,
    )
    doors = [parse_door(norm) if norm else None for norm in normalise_many(door_text)]
    road_norm = np.array([d.road if d else None for d in doors], dtype=object)
    return pd.DataFrame(
        {
            "source": source,
            "source_id": source_ids,
            "kind": kind,
            "text": [f[:300] if f else None for f in full],
            "name": parts.get("name", none),
            "aliases": aliases if aliases is not None else [None] * n,
            **{p: parts.get(p, none) for p in ("district", "street", "community")},
            "road": np.where(road == None, np.array([d.road if d else None for d in doors], dtype=object), road),  # noqa: E711
            "road_norm": road_norm,
            "door": parts.get("door", none),
            "number": pd.array([d.number if d else None for d in doors], dtype="Int64"),
            "door_prefix": [d.prefix or None if d else None for d in doors],
            "door_sub": pd.array([d.sub if d else None for d in doors], dtype="Int64"),
            **{p: parts.get(p, none) for p in ("compound", "building", "unit", "room")},
            "building_id": pd.array(building_ids if building_ids is not None else none, dtype="Int64"),
            "geom": geoms,
            "outline": outlines if outlines is not None else none,
        }
    )


def write_address_points(conn: Connection, frame: pd.DataFrame, what: str) -> ImportReport:
    """Stage and merge a frame of :data:`COLUMNS` by source id (a re-import updates, never duplicates)."""
    temp = stage(conn, "address_points", frame[list(COLUMNS)], geometry=("geom", "outline"))
    updated, inserted = merge(conn, "address_points", temp, "source_id", COLUMNS)
    return ImportReport(what, len(frame), updated, inserted, with_door_number=int(frame["number"].notna().sum()))
