"""Painting grids from units: a grid is the union of the blocks, compounds and buildings assigned to it.

Units are those of the partition (:mod:`geogrid.partition.units`, stored in ``partition_units`` by
``geogrid partition`` or :func:`ensure_units`). Which grid a unit belongs to is not stored: it is the grid in
force covering most of it, computed on demand from the current grids (so it follows every grid version, and a
unit's grid at any past date is the same rule over ``grid_versions``). A ``move_units`` edit gives the units'
area to the receiving grid and takes it from every grid it overlaps: where grids follow units, each grid's
polygon is then exactly the dissolve of its units, and there is never an unassigned hole (what one grid loses,
the other gains). Thin slivers a grid keeps along a moved unit (a few centimetres of snapping) go with the unit.
A move that leaves a grid in more pieces than it had is refused unless the edit says ``confirm_split``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geogrid.errors import InputError, NotFound
from geogrid.i18n import join, t
from geogrid.planning.edit_models import MoveBuildings, MoveUnits
from geogrid.planning.edits import SLIVER_DEG2, WorkGrid, Workspace, polygonal
from geogrid.settings import get_settings

SLIVER_WIDTH_M = 0.5  # a part thinner than this (2·area/perimeter) is snapping noise, not a piece of a grid
NEAR_DEG = 1e-6  # ≈ 10 cm: a sliver this close to a moved unit goes with it
SHAVE_DEG = 2.5e-6  # ≈ 25 cm: strips of a grid narrower than twice this, along a moved unit, go with it

# The nearest named road: what a unit with no address or name is called by (OSM buildings mostly have neither).
ROAD_SQL = "SELECT r.name FROM roads r ORDER BY r.geom <-> u.geom LIMIT 1"

UNIT_ROWS_SQL = """
SELECT u.id, u.community_id, u.kind, u.name, ST_AsBinary(u.geom) AS wkb,
       (SELECT min(coalesce(b.address, b.name)) FROM buildings b WHERE b.id = ANY(u.building_ids)) AS first,
       cardinality(u.building_ids) AS n, ({road}) AS road
FROM partition_units u WHERE u.id = ANY(:ids) ORDER BY u.id
""".replace("{road}", ROAD_SQL)

BUILDING_UNITS_SQL = """
SELECT b.id AS building, u.id AS unit FROM buildings b
JOIN partition_units u ON u.community_id = :c AND b.id = ANY(u.building_ids)
WHERE b.id = ANY(:ids)
"""


@dataclass
class UnitRow:
    """A stored unit as the edit needs it: where it lies, what it is called, its outline (lon/lat)."""

    id: int
    community_id: int | None
    kind: str
    label: str
    geom: shapely.Geometry


def unit_label(kind: str, name: str | None, first: str | None, n: int, road: str | None) -> str:
    """A unit by name, never by id: the compound's name, a building's address or name, a block by its first
    address; without any, by the nearest named road."""
    if name:
        return name
    if kind == "building":
        return first or (t("building by {road}", road=road) if road else t("building without an address"))
    if first:
        return t("block at {address} ({n} buildings)", address=first, n=n)
    if road:
        return t("block by {road} ({n} buildings)", road=road, n=n) if n else t("empty block by {road}", road=road)
    return t("block without buildings")


def read_units(conn: Connection, ids: list[int], where: str) -> list[UnitRow]:
    """The stored units with these ids; InputError naming those that do not exist (units are recomputed by
    ``geogrid partition``: a plan drawn on older units must be painted again)."""
    rows = conn.execute(text(UNIT_ROWS_SQL), {"ids": ids}).all()
    missing = sorted(set(ids) - {r.id for r in rows})
    if missing:
        raise InputError(
            t(
                "no unit with id {ids} (units change when a partition is run again: reload the planner)",
                ids=missing[:10],
            ),
            field=where,
        )
    return [
        UnitRow(
            id=r.id,
            community_id=r.community_id,
            kind=r.kind,
            label=unit_label(r.kind, r.name, r.first, r.n, r.road),
            geom=shapely.from_wkb(bytes(r.wkb)),
        )
        for r in rows
    ]


def _metres(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry scaled to metres around its latitude (enough to tell a sliver from a piece)."""
    lat = (geom.bounds[1] + geom.bounds[3]) / 2 if not geom.is_empty else 0.0
    scale = np.array([111_320 * math.cos(math.radians(lat)), 110_540])
    return shapely.transform(geom, lambda c: c * scale)


def is_sliver(part: shapely.Geometry) -> bool:
    m = _metres(part)
    return m.length == 0 or 2 * m.area / m.length < SLIVER_WIDTH_M


def pieces(geom: shapely.Geometry) -> int:
    """How many pieces a grid is in, slivers not counted."""
    return sum(not is_sliver(p) for p in shapely.get_parts(geom))


def _shave(rest: shapely.Geometry, area: shapely.Geometry) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Split off the thin strips a grid keeps along moved units: unit outlines follow the roads within some
    15 cm (projection and 1 cm snapping), grid outlines may not. Returns (what the grid keeps, the strips)."""
    opened = shapely.buffer(shapely.buffer(rest, -SHAVE_DEG, join_style="mitre"), SHAVE_DEG, join_style="mitre")
    strip = polygonal(shapely.intersection(shapely.difference(rest, opened), shapely.buffer(area, 2 * SHAVE_DEG)))
    return (polygonal(shapely.difference(rest, strip)), strip) if not strip.is_empty else (rest, strip)


def _check_locked(locked: list[str], codes: list[str | None], where: str) -> None:
    hit = sorted({c for c in codes if c is not None and c in set(locked)})
    if hit:
        raise InputError(t("grid {codes} is locked: the edit would change it", codes=join(hit)), field=where)


def take_area(
    ws: Workspace, target: WorkGrid, area: shapely.Geometry, locked: list[str], confirm: bool, where: str
) -> list[str]:
    """``target`` takes ``area`` from every grid it overlaps; returns the codes of the grids that lost some.

    Refused (InputError) when a locked grid would change, a grid would keep nothing, or a grid would fall into
    more pieces than it had without ``confirm``.
    """
    area = polygonal(_within_community(ws, target, area))
    _check_locked(locked, [target.code], f"{where}.locked")
    losers = [g for g in ws.neighbours(area, exclude=target) if shapely.intersection(g.geom, area).area > SLIVER_DEG2]
    for g in list(losers):  # a unit may stray into a grid by millimetres along a road: that grid keeps its area
        overlap = polygonal(shapely.intersection(g.geom, area))
        if all(is_sliver(p) for p in shapely.get_parts(overlap)):
            area = polygonal(shapely.difference(area, g.geom))
            losers.remove(g)
    _check_locked(locked, [g.code for g in losers], f"{where}.locked")
    near = shapely.buffer(area, NEAR_DEG)
    gained = [target.geom, area]
    new: dict[int, shapely.Geometry] = {}
    for k, g in enumerate(losers):
        rest, strip = _shave(polygonal(shapely.difference(g.geom, area)), area)
        parts = shapely.get_parts(rest)
        loose = [strip, *(p for p in parts if is_sliver(p) and shapely.intersects(p, near))]
        kept = [p for p in parts if not any(p is q for q in loose)]
        if not kept:
            raise InputError(
                t("grid {code} would keep nothing: merge it with {target} instead", code=g.code, target=target.code),
                field=where,
            )
        gained += loose
        new[k] = polygonal(shapely.union_all(kept))
    target_geom = polygonal(shapely.union_all(gained))
    grids = [(target, target_geom), *((g, new[k]) for k, g in enumerate(losers))]
    broken = [(g.code, pieces(geom)) for g, geom in grids if pieces(geom) > max(1, pieces(g.geom))]
    if broken and not confirm:
        raise InputError(
            t(
                "the move would split {grids}; move other units, or send confirm_split: true to accept",
                grids=join([t("grid {code} in {n} pieces", code=c, n=n) for c, n in broken]),
            ),
            field=f"{where}.confirm_split",
        )
    for g, geom in grids:
        g.geom, g.changed = geom, True
    return [g.code for g in losers if g.code]


def _within_community(ws: Workspace, target: WorkGrid, area: shapely.Geometry) -> shapely.Geometry:
    """The area clipped to the receiving grid's community: unit outlines are snapped to 1 cm in metres, so they
    may stray a few millimetres past it."""
    if target.community_id is None:
        return area
    wkb = ws.conn.scalar(text("SELECT ST_AsBinary(geom) FROM admin_areas WHERE id = :c"), {"c": target.community_id})
    return area if wkb is None else shapely.intersection(area, shapely.from_wkb(bytes(wkb)))


def move_units(ws: Workspace, edit: MoveUnits, i: int) -> None:
    """Paint: the grid takes the units from whichever grids hold them (see the module's docstring)."""
    where = f"edits[{i}]"
    target = ws.grid(edit.grid, f"{where}.grid")
    units = read_units(ws.conn, list(dict.fromkeys(edit.units)), f"{where}.units")
    outside = [u.id for u in units if u.community_id != target.community_id]
    if outside:
        raise InputError(
            t(
                "unit(s) {ids} lie outside community {community} of grid {code}",
                ids=outside[:10],
                community=target.community_code,
                code=target.code,
            ),
            field=f"{where}.units",
        )
    if not _take_units(ws, target, units, edit.locked, edit.confirm_split, where):
        raise InputError(t("every unit is in grid {code} already", code=target.code), field=f"{where}.units")


def _take_units(
    ws: Workspace, target: WorkGrid, units: list[UnitRow], locked: list[str], confirm: bool, where: str
) -> bool:
    """The target takes those of ``units`` another grid holds; False when it holds them all already."""
    holders = _holders(ws, units)
    moving = [u for u in units if holders[u.id] != target.code]
    if not moving:
        return False
    take_area(ws, target, shapely.union_all([u.geom for u in moving]), locked, confirm, where)
    ws.changes.units_moved += [
        {"id": u.id, "kind": u.kind, "label": u.label, "from": holders[u.id], "to": target.code} for u in moving
    ]
    return True


def _holders(ws: Workspace, units: list[UnitRow]) -> dict[int, str | None]:
    """The grid of the working copy holding each unit (:func:`unit_grids`): the grids around all the units are
    read in one query (with the plan's earlier edits applied), then measured here."""
    if not units:
        return {}
    geoms = np.asarray([u.geom for u in units], dtype=object)
    grids = ws.neighbours(shapely.union_all(geoms), exclude=None)
    found = unit_grids(geoms, [g.code for g in grids], np.asarray([g.geom for g in grids], dtype=object))
    return {u.id: code for u, code in zip(units, found, strict=True)}


def unit_grids(units: np.ndarray, codes: list[str | None], grids: np.ndarray) -> list[str | None]:
    """The grid covering most of each unit (lowest code on a tie; None when no grid covers any of it, a touch
    along an edge being no cover): how painting tells which grid a unit is in, for the map and for an edit."""
    out: list[str | None] = [None] * len(units)
    if not len(units) or not len(grids):
        return out
    ui, gi = shapely.STRtree(grids).query(units, predicate="intersects")
    areas = shapely.area(shapely.intersection(units[ui], grids[gi]))
    best: dict[int, tuple[float, str]] = {}
    for u, g, area in zip(ui.tolist(), gi.tolist(), areas.tolist(), strict=True):
        key = (-area, str(codes[g]))
        if area > SLIVER_DEG2 and (u not in best or key < best[u]):
            best[u], out[u] = key, codes[g]
    return out


def building_units(conn: Connection, community_id: int | None, ids: list[int]) -> dict[int, int]:
    """The stored unit of each building in this community (buildings without one are left out)."""
    rows = conn.execute(text(BUILDING_UNITS_SQL), {"c": community_id, "ids": ids}).all()
    return {int(r.building): int(r.unit) for r in rows}


def move_buildings_by_units(ws: Workspace, edit: MoveBuildings, i: int) -> list[int]:
    """The grid takes the unit of each building, so a receiving grid stays whole (cutting footprints out of
    grids left the receiving grid in pieces and holes in the others). Returns the buildings with no stored unit
    (their community was never partitioned): the caller moves their footprints as before."""
    where = f"edits[{i}]"
    ids = list(dict.fromkeys(edit.buildings))
    target = ws.grid(edit.to, f"{where}.to")
    found = building_units(ws.conn, target.community_id, ids)
    units = read_units(ws.conn, sorted(set(found.values())), f"{where}.buildings") if found else []
    _take_units(ws, target, units, edit.locked, edit.confirm_split, where)
    return [b for b in ids if b not in found]


def check_locked_area(ws: Workspace, target: WorkGrid, area: shapely.Geometry, locked: list[str], where: str) -> None:
    """Refuse an edit giving ``area`` to ``target`` when it or a grid losing area is locked."""
    if locked:
        _check_locked(locked, [target.code, *(g.code for g in ws.neighbours(area, exclude=target))], where)


def ensure_units(conn: Connection, community: str) -> int:
    """Compute and store the units of a community when it has none yet; returns how many it has."""
    from geogrid.partition.area import find_area, load_input
    from geogrid.partition.propose import store_units
    from geogrid.partition.units import build_units

    comm = find_area(conn, community, "community")
    n = conn.scalar(text("SELECT count(*) FROM partition_units WHERE community_id = :c"), {"c": comm.id})
    if n:
        return int(n)
    cfg = get_settings()
    units = build_units(load_input(conn, comm), cfg.household_bands["basic"][1], cfg.dedicated_min_m2)
    store_units(conn, comm, units)
    return len(units.geoms)


def community_id(conn: Connection, community: str) -> int:
    """The id of a community by code or name (NotFound otherwise)."""
    row = conn.execute(
        text("SELECT id FROM admin_areas WHERE level = 'community' AND (code = :c OR name = :c) ORDER BY id LIMIT 1"),
        {"c": community},
    ).first()
    if row is None:
        raise NotFound(t("no {level} with code or name '{code}'", level="community", code=community))
    return int(row.id)


# Each unit of a community with its households now (buildings' current figures) and those within a 5-minute
# service area on the coverage basis; the nearest road only for a unit that has no other name.
COMMUNITY_UNITS_SQL = """
SELECT u.id, u.kind, u.name, ST_AsBinary(u.geom) AS wkb,
       coalesce(b.households, 0) AS households, coalesce(b.covered, 0) AS covered, coalesce(b.n, 0) AS buildings,
       b.first, CASE WHEN coalesce(u.name, '') = '' AND coalesce(b.first, '') = '' THEN ({road}) END AS road
FROM partition_units u
LEFT JOIN LATERAL (SELECT sum(bl.households) AS households, count(*) AS n,
                          min(coalesce(bl.address, bl.name)) AS first,
                          sum(bl.households) FILTER (WHERE CAST(:basis AS text) IS NOT NULL AND {in_area}) AS covered
                     FROM buildings bl WHERE bl.id = ANY(u.building_ids)) b ON true
WHERE u.community_id = :c ORDER BY u.id
"""

# The grids in force around a community's units (by bounding box: :func:`unit_grids` measures the rest).
UNIT_GRIDS_SQL = """
SELECT g.code, ST_AsBinary(g.geom) AS wkb FROM grids g
WHERE g.valid_to IS NULL AND g.geom && (SELECT ST_Extent(u.geom) FROM partition_units u WHERE u.community_id = :c)
ORDER BY g.code
"""


@dataclass
class CommunityUnits:
    """The units of one community as the planner paints them: outlines (lon/lat), figures, grid, neighbours."""

    community: str
    ids: list[int]
    kinds: list[str]
    labels: list[str]
    grids: list[str | None]
    households: list[int]
    covered: list[int]
    buildings: list[int]
    geoms: np.ndarray
    neighbours: list[list[int]]
    basis: str | None


def community_units(conn: Connection, community: str) -> CommunityUnits:
    """The stored units of a community with the grid each belongs to now (empty when none are stored)."""
    from geogrid.planning.preview import IN_AREA, coverage_basis

    cid = community_id(conn, community)
    basis = coverage_basis(conn)
    sql = COMMUNITY_UNITS_SQL.replace("{in_area}", IN_AREA).replace("{road}", ROAD_SQL)
    rows = conn.execute(text(sql), {"c": cid, "basis": basis}).mappings().all()
    geoms = shapely.from_wkb(np.asarray([bytes(r["wkb"]) for r in rows], dtype=object)) if rows else np.empty(0)
    grids = conn.execute(text(UNIT_GRIDS_SQL), {"c": cid}).all()
    outlines = shapely.from_wkb(np.asarray([bytes(g.wkb) for g in grids], dtype=object)) if grids else np.empty(0)
    return CommunityUnits(
        community=community,
        ids=[int(r["id"]) for r in rows],
        kinds=[r["kind"] for r in rows],
        labels=[unit_label(r["kind"], r["name"], r["first"], int(r["buildings"]), r["road"]) for r in rows],
        grids=unit_grids(geoms, [g.code for g in grids], outlines),
        households=[int(r["households"]) for r in rows],
        covered=[int(r["covered"]) for r in rows],
        buildings=[int(r["buildings"]) for r in rows],
        geoms=geoms,
        neighbours=adjacency(geoms),
        basis=basis,
    )


def adjacency(geoms: np.ndarray) -> list[list[int]]:
    """Indices of the units sharing an edge (not just a corner) with each unit."""
    out: list[list[int]] = [[] for _ in range(len(geoms))]
    if len(geoms) < 2:
        return out
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    bounds = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(bounds[i], shapely.buffer(bounds[j], NEAR_DEG / 10)))
    for a, c, length in zip(i, j, shared, strict=True):
        if length > NEAR_DEG:
            out[int(a)].append(int(c))
            out[int(c)].append(int(a))
    return out
