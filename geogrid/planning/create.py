"""The ``create`` edit: a brand-new grid drawn inside a community (the planner's "new grid", and partitions).

``{"op": "create", "community": CODE, "geometry": GeoJSON polygon, "name": ..., "kind": "basic",
"from": [CODE, ...]}``: the polygon is clipped to the community; grids in force lose the area it takes,
and those left with none retire (the new grid is then their successor in the lineage, as are the grids
named in ``from``, e.g. the grid an oversized one was rebalanced out of).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy import text

from geogrid.errors import InputError, NotFound
from geogrid.i18n import t
from geogrid.planning.edit_models import Create, NewCommunity
from geogrid.planning.edits import SLIVER_DEG2, WorkGrid, Workspace, _geometry, polygonal
from geogrid.settings import get_settings

SLIVER_WIDTH_DEG = 3e-7  # area / perimeter of a part, in degrees: about 3 cm (a strip some 6 cm wide)


@dataclass(frozen=True)
class _Community:
    """The community a new grid goes in: stored (``id`` set) or drawn by this plan (``id`` None)."""

    id: int | None
    code: str
    name: str
    wkb: bytes | None


COMMUNITY_SQL = (
    "SELECT id, code, name, ST_AsBinary(geom) AS wkb FROM admin_areas WHERE level = 'community' "
    "AND (code = :c OR name = :c) ORDER BY id LIMIT 1"
)


def create(ws: Workspace, edit: Create, i: int) -> None:
    """Add a new grid; existing grids give up what it covers."""
    where = f"edits[{i}].community"
    found = ws.conn.execute(text(COMMUNITY_SQL), {"c": edit.community}).first()
    new = _pending(ws).get(edit.community)
    if found is not None:
        row = _Community(found.id, found.code, found.name, found.wkb)
    elif new is not None:  # a community this plan draws
        row = _Community(None, edit.community, new["name"], shapely.to_wkb(new["geom"]))
    else:
        raise NotFound(t("no community with code or name '{community}'", community=edit.community))
    geom = _geometry(edit, "geometry", i, ("Polygon", "MultiPolygon"), ws.changes.repairs)
    if row.wkb is not None:
        geom = polygonal(shapely.intersection(geom, shapely.from_wkb(bytes(row.wkb))))
    if geom.is_empty or geom.area <= SLIVER_DEG2:
        raise InputError(t("the new grid lies outside community {community}", community=row.code), field=where)
    kind = edit.kind or "basic"
    if kind not in get_settings().household_bands:
        raise InputError(
            t("unknown grid kind '{kind}': use {kinds}", kind=kind, kinds=list(get_settings().household_bands)),
            field=f"edits[{i}].kind",
        )
    parents = [p for c in edit.from_ for p in _ids(ws, c, f"edits[{i}].from")]
    strays = []
    for other in ws.neighbours(geom, exclude=None):
        kept, slivers = _split_slivers(polygonal(shapely.difference(other.geom, geom)))
        if kept.is_empty:  # nothing but float noise is left of it: it retires
            other.retired = True
            parents += [other.id] if other.id else list(other.parents)
        else:  # slivers the cut leaves along the new grid's edge go to it; specks elsewhere vanish: one piece each
            far = [p for p in slivers if p.distance(geom) > SLIVER_WIDTH_DEG and p.area > SLIVER_DEG2]
            other.geom, other.changed = polygonal(shapely.union_all([kept, *far])), True
            strays += [p for p in slivers if p.distance(geom) <= SLIVER_WIDTH_DEG]  # the rest is float noise
    if strays:
        geom = polygonal(shapely.union_all([geom, *strays]))
    name = edit.name or t("{community} new grid", community=row.name)
    ws.add(
        WorkGrid(
            id=None,
            code=None,
            name=name,
            kind=kind,
            community_id=row.id,
            community_code=row.code,
            geom=geom,
            parents=list(dict.fromkeys(parents)),
        )
    )


def _split_slivers(geom: shapely.Geometry) -> tuple[shapely.Geometry, list[shapely.Geometry]]:
    """The parts of a geometry that are more than a few centimetres thin, and the slivers: what is left of a grid
    along a new one's edge is noise."""
    parts = shapely.get_parts(geom)
    thin = [p.area <= SLIVER_DEG2 or p.area / p.length <= SLIVER_WIDTH_DEG for p in parts]
    kept = [p for p, s in zip(parts, thin, strict=True) if not s]
    return (shapely.MultiPolygon(kept) if kept else shapely.MultiPolygon()), [
        p for p, s in zip(parts, thin, strict=True) if s
    ]


def _ids(ws: Workspace, code: str, where: str) -> list[int]:
    grid = ws.grid(code, where)
    return [grid.id] if grid.id else list(grid.parents)


def create_community(ws: Workspace, edit: NewCommunity, i: int) -> None:
    """A new community of a street office (drawn by a partition when the street has none), written with the
    plan; grids created later in the same plan may name it."""
    street = ws.conn.execute(
        text(
            "SELECT id, code FROM admin_areas WHERE level = 'street' AND (code = :c OR name = :c) ORDER BY id LIMIT 1"
        ),
        {"c": edit.street},
    ).first()
    if street is None:
        raise NotFound(t("no {level} with code or name '{code}'", level="street", code=edit.street))
    if ws.conn.scalar(text("SELECT 1 FROM admin_areas WHERE code = :c"), {"c": edit.code}) or edit.code in _pending(ws):
        raise InputError(t("community {community} exists already", community=edit.code), field=f"edits[{i}].code")
    geom = _geometry(edit, "geometry", i, ("Polygon", "MultiPolygon"), ws.changes.repairs)
    _pending(ws)[edit.code] = {"name": edit.name or edit.code, "parent": street.id, "geom": polygonal(geom)}


def _pending(ws: Workspace) -> dict:
    """New communities of this plan by code (kept on the working copy's changes)."""
    return ws.changes.__dict__.setdefault("communities", {})


def write_communities(conn, changes) -> None:
    """Insert the plan's new communities and point its new grids at them (before the grids are written)."""
    pending = changes.__dict__.get("communities") or {}
    for code, c in pending.items():
        cid = conn.scalar(
            text(
                "INSERT INTO admin_areas (code, name, level, parent_id, geom) VALUES (:c, :n, 'community', :p, "
                "ST_Multi(ST_GeomFromWKB(:w, 4326))) RETURNING id"
            ),
            {"c": code, "n": c["name"], "p": c["parent"], "w": shapely.to_wkb(c["geom"])},
        )
        for g in changes.new:
            if g.community_code == code and g.community_id is None:
                g.community_id = cid
