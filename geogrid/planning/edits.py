"""Edits a planner proposes, and the new boundaries they produce, computed with Shapely.

Edits (JSON, as ``POST /plans`` takes them; GeoJSON may be in ``crs`` wgs84/cgcs2000/gcj02/bd09):

- ``{"op": "redraw", "grid": CODE, "geometry": GeoJSON polygon}`` — neighbours lose what the grid now takes
  (``"trim_neighbours": false`` keeps them, and validation reports the overlap);
- ``{"op": "split", "grid": CODE, "line": GeoJSON line}`` — each piece becomes a new grid, the code is retired;
- ``{"op": "merge", "grids": [CODE, ...], "name": ...}`` — one new grid, the codes are retired;
- ``{"op": "move_buildings", "buildings": [ID, ...], "to": CODE}`` — the grid takes each building's unit, or
  (in a community without units) its footprint or a small square around its point, from whichever grid held it;
- ``{"op": "move_units", "grid": CODE, "units": [ID, ...], "locked": [CODE], "confirm_split": false}`` — paint:
  the grid takes these units (blocks, compounds, buildings) whole (:mod:`geogrid.planning.painting`);
- ``{"op": "revert", "grid": CODE, "to_version": N}`` — the boundary of version N, as a redraw;
- ``{"op": "create", "community": CODE, "geometry": GeoJSON polygon, "kind": ..., "name": ...}`` — a new grid
  (:mod:`geogrid.planning.create`).

Edits apply in order to a working copy; :func:`compute_changes` returns what must be written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel
from shapely.geometry import shape
from shapely.ops import split as split_geom
from sqlalchemy import Connection, RowMapping, text

from geogrid.codes import grid_code, next_sequence, reading_order
from geogrid.crs import to_wgs84
from geogrid.errors import Conflict, GeogridError, InputError, NotFound
from geogrid.i18n import join, t
from geogrid.planning.edit_models import (
    Create,
    Merge,
    MoveBuildings,
    NewCommunity,
    Redraw,
    Revert,
    Split,
    check_on_earth,
    geojson_crs,
    parse_edits,
)
from geogrid.settings import get_settings

SLIVER_DEG2 = 1e-14  # ≈ 1 cm²: intersections smaller than this are float noise, not a change

GRID_SQL = (
    "SELECT g.id, g.code, g.name, g.kind, g.community_id, g.version, g.valid_to, c.code AS community_code, "
    "ST_AsBinary(g.geom) AS wkb FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id"
)


@dataclass
class WorkGrid:
    """A grid in the working copy: an existing one (``id`` set) or a new one a split or merge creates."""

    id: int | None
    code: str | None
    name: str
    kind: str
    community_id: int | None
    community_code: str | None
    geom: shapely.Geometry
    version: int = 0
    parents: list[int] = field(default_factory=list)
    changed: bool = False
    retired: bool = False
    is_new: bool = False
    in_force: bool = True  # False for a retired grid that a revert brings back (``changed`` then restores it)

    @property
    def saved_id(self) -> int:
        """The id of a grid in the database: every existing grid, and a new one once written."""
        if self.id is None:
            raise RuntimeError(f"grid {self.name!r} is not written yet")
        return self.id

    @property
    def saved_code(self) -> str:
        """The code of an existing grid, or of a new one once its code is allocated."""
        if self.code is None:
            raise RuntimeError(f"grid {self.name!r} has no code yet")
        return self.code


@dataclass
class Changes:
    """The outcome of a plan's edits: every grid read, with the changed, retired and new ones marked."""

    grids: dict[str, WorkGrid] = field(default_factory=dict)  # key: code of an existing grid, or "new:N"
    original: dict[int, shapely.Geometry] = field(default_factory=dict)  # boundary before the plan
    undone: list[tuple[list[int], list[int]]] = field(default_factory=list)  # (children, parents) brought back
    repairs: list[dict] = field(default_factory=list)  # invalid polygons repaired on request: edit, reason
    handed_back: list[dict] = field(default_factory=list)  # a revert's given-up area: grid, m² it took back
    units_moved: list[dict] = field(default_factory=list)  # painted units: id, kind, label, from, to

    @property
    def touched(self) -> list[WorkGrid]:
        return [g for g in self.grids.values() if not g.is_new and (g.changed or g.retired)]

    @property
    def new(self) -> list[WorkGrid]:
        return [g for g in self.grids.values() if g.is_new and not g.retired]

    def versions(self) -> dict[str, int]:
        """Versions of the existing grids the plan changes: what must still hold when it is applied.

        A retired grid that a revert brings back is recorded as ``-version`` (retired at that version).
        """
        return {g.saved_code: g.version if g.in_force else -g.version for g in self.touched}


def _geometry(
    edit: Redraw | Split | Create | NewCommunity,
    name: str,
    i: int,
    kinds: tuple[str, ...],
    repairs: list[dict] | None = None,
) -> shapely.Geometry:
    """A checked GeoJSON geometry of one of ``kinds``, converted to WGS84.

    An invalid polygon (a bow-tie, a hole outside its shell) is refused, as importers refuse it, unless the edit
    asks for ``repair``: then it goes through ``make_valid`` and the repair is added to ``repairs``.
    """
    where = f"edits[{i}].{name}"
    raw = getattr(edit, name).as_geometry()
    try:
        geom = shape(raw)
    except Exception as exc:
        raise InputError(t("not a GeoJSON geometry ({error})", error=exc), field=where) from None
    if geom.is_empty or geom.geom_type not in kinds:
        raise InputError(
            t("expected {kinds}, got {kind}", kinds=join(kinds, en=" or ", zh=" 或 "), kind=geom.geom_type), field=where
        )
    try:
        geom = to_wgs84(geom, edit.crs or geojson_crs(raw))
        check_on_earth(geom.bounds)
    except GeogridError as exc:
        raise InputError(exc.message, field=f"edits[{i}].crs") from None
    except ValueError as exc:
        raise InputError(str(exc), field=where) from None
    if geom.is_valid:
        return geom
    reason = shapely.is_valid_reason(geom)
    if repairs is None or not getattr(edit, "repair", False):
        raise InputError(
            t('invalid polygon ({reason}); fix it, or send "repair": true to repair it', reason=reason), field=where
        )
    repairs.append({"edit": i, "reason": reason})
    return shapely.make_valid(geom)


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry (dropping the lines and points an overlay may leave), as a MultiPolygon."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)] if parts else []
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


class Workspace:
    """The working copy of the grids an edit list touches, read from the database on demand."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.changes = Changes()
        self._new = 0

    def _row_to_grid(self, row: RowMapping) -> WorkGrid:
        """A grid read by ``GRID_SQL``; its boundary is remembered as the one before the plan."""
        geom = shapely.from_wkb(bytes(row["wkb"]))
        self.changes.original.setdefault(row["id"], geom)
        return WorkGrid(
            id=row["id"],
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            community_id=row["community_id"],
            community_code=row["community_code"],
            geom=geom,
            version=row["version"],
        )

    def grid(self, code: str, where: str, retired_ok: bool = False) -> WorkGrid:
        """The grid in force with this code; with ``retired_ok`` a retired one too (``in_force`` False)."""
        if code in self.changes.grids:
            g = self.changes.grids[code]
            if g.retired:
                raise InputError(
                    t("grid {code} is already retired by an earlier edit of this plan", code=code), field=where
                )
            return g
        row = self.conn.execute(text(GRID_SQL + " WHERE g.code = :c"), {"c": str(code)}).mappings().first()
        if row is None:
            raise NotFound(t("no grid with code {code} ({where})", code=code, where=where))
        if row["valid_to"] is not None and not retired_ok:
            raise Conflict(
                t(
                    "grid {code} was retired at {at:%Y-%m-%d %H:%M}; edit the grids that replaced it "
                    "or revert it to undo the split or merge",
                    code=code,
                    at=row["valid_to"],
                )
            )
        self.changes.grids[code] = g = self._row_to_grid(row)
        g.in_force = row["valid_to"] is None
        return g

    def neighbours(self, geom: shapely.Geometry, exclude: WorkGrid | None) -> list[WorkGrid]:
        """Grids in force (database or working copy) whose interior meets ``geom``."""
        rows = self.conn.execute(
            text(GRID_SQL + " WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, ST_GeomFromWKB(:w, 4326))"),
            {"w": shapely.to_wkb(geom)},
        ).mappings()
        for row in rows:
            if row["code"] not in self.changes.grids:
                self.changes.grids[row["code"]] = self._row_to_grid(row)
        return [
            g
            for g in self.changes.grids.values()
            if g is not exclude
            and not g.retired
            and (g.in_force or g.changed)
            and shapely.intersection(g.geom, geom).area > SLIVER_DEG2
        ]

    def add(self, grid: WorkGrid) -> WorkGrid:
        self._new += 1
        grid.is_new = True
        self.changes.grids[f"new:{self._new}"] = grid
        return grid


def _set_boundary(ws: Workspace, target: WorkGrid, geom: shapely.Geometry, trim: bool, where: str) -> None:
    """Give ``target`` a new boundary; neighbours lose the area it now covers when ``trim``."""
    geom = polygonal(geom)
    if geom.is_empty:
        raise InputError(t("the new boundary of grid {code} has no area", code=target.code), field=where)
    if trim:
        for other in ws.neighbours(geom, exclude=target):
            rest = polygonal(shapely.difference(other.geom, geom))
            if rest.is_empty:
                raise InputError(
                    t(
                        "the new boundary of grid {code} covers all of grid {other}; merge them instead",
                        code=target.code,
                        other=other.code,
                    ),
                    field=where,
                )
            other.geom, other.changed = rest, True
    target.geom, target.changed = geom, True


def redraw(ws: Workspace, edit: Redraw, i: int) -> None:
    target = ws.grid(edit.grid, f"edits[{i}].grid")
    geom = _geometry(edit, "geometry", i, ("Polygon", "MultiPolygon"), ws.changes.repairs)
    _set_boundary(ws, target, geom, edit.trim_neighbours, f"edits[{i}].geometry")


def _pieces_in_reading_order(pieces: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """West→east, then north→south (the domain's sequence rule), by representative points."""
    pts = shapely.point_on_surface(np.asarray(pieces, dtype=object))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    height = max(float(np.ptp(y)) / 4, 1e-9)
    return [pieces[k] for k in reading_order(x, y, height)]


def split(ws: Workspace, edit: Split, i: int) -> None:
    parent = ws.grid(edit.grid, f"edits[{i}].grid")
    line = _geometry(edit, "line", i, ("LineString", "MultiLineString"))
    pieces = [p for p in shapely.get_parts(split_geom(parent.geom, line)) if p.area > SLIVER_DEG2]
    if len(pieces) < 2:
        raise InputError(
            t("the line does not cut grid {code} into pieces: it must cross it completely", code=parent.code),
            field=f"edits[{i}].line",
        )
    parent.retired = True
    for n, piece in enumerate(_pieces_in_reading_order(pieces), start=1):
        ws.add(
            WorkGrid(
                None,
                None,
                f"{parent.name}-{n}",
                parent.kind,
                parent.community_id,
                parent.community_code,
                polygonal(piece),
                parents=[parent.id] if parent.id else list(parent.parents),
            )
        )


def merge(ws: Workspace, edit: Merge, i: int) -> None:
    codes = edit.grids
    if len(set(codes)) < 2:
        raise InputError(t("merge needs at least two distinct grid codes"), field=f"edits[{i}].grids")
    parents = [ws.grid(str(c), f"edits[{i}].grids") for c in dict.fromkeys(map(str, codes))]
    if len({p.community_id for p in parents}) > 1:
        raise InputError(
            t("grids {codes} are in different communities", codes=[str(c) for c in codes]), field=f"edits[{i}].grids"
        )
    for p in parents:
        p.retired = True
    kinds = {p.kind for p in parents}
    ws.add(
        WorkGrid(
            None,
            None,
            edit.name or "+".join(p.name for p in parents),
            kinds.pop() if len(kinds) == 1 else "basic",
            parents[0].community_id,
            parents[0].community_code,
            polygonal(shapely.union_all([p.geom for p in parents])),
            parents=[q for p in parents for q in ([p.id] if p.id else p.parents)],
        )
    )


def _building_areas(conn: Connection, ids: list[int], where: str) -> shapely.Geometry:
    """Union of the buildings' footprints, or a square of ``move_buffer_m`` around a point without one."""
    rows = conn.execute(
        text(
            "SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y, ST_AsBinary(footprint) AS footprint "
            "FROM buildings WHERE id = ANY(:ids)"
        ),
        {"ids": ids},
    ).all()
    missing = sorted(set(ids) - {r.id for r in rows})
    if missing:
        raise InputError(t("no building with id {ids}", ids=[str(m) for m in missing[:10]]), field=where)
    half = get_settings().move_buffer_m
    areas = []
    for r in rows:
        dx, dy = half / (111_320 * math.cos(math.radians(r.y))), half / 110_540
        square = shapely.box(r.x - dx, r.y - dy, r.x + dx, r.y + dy)
        fp = r.footprint
        areas.append(shapely.union(shapely.from_wkb(bytes(fp)), square) if fp is not None else square)
    return shapely.union_all(areas)


def move_buildings(ws: Workspace, edit: MoveBuildings, i: int) -> None:
    """Buildings move with their units (:mod:`geogrid.planning.painting`); those of a community never
    partitioned (no units stored) take their footprint."""
    from geogrid.planning.painting import check_locked_area, move_buildings_by_units

    ids = move_buildings_by_units(ws, edit, i)
    if not ids:
        return
    target = ws.grid(edit.to, f"edits[{i}].to")
    area = _building_areas(ws.conn, ids, f"edits[{i}].buildings")
    check_locked_area(ws, target, area, edit.locked, f"edits[{i}].locked")
    _set_boundary(ws, target, shapely.union(target.geom, area), True, f"edits[{i}].buildings")


def move_units(ws: Workspace, edit, i: int) -> None:
    from geogrid.planning.painting import move_units as paint  # painting grids from units

    paint(ws, edit, i)


def _version(ws: Workspace, grid: WorkGrid, version: int | None) -> tuple[str, str, shapely.Geometry]:
    """Name, kind and boundary of a grid's version (its latest recorded one when ``version`` is None)."""
    row = ws.conn.execute(
        text(
            "SELECT name, kind, ST_AsBinary(geom) AS wkb FROM grid_versions WHERE grid_id = :g "
            "AND (CAST(:v AS int) IS NULL OR version = :v) ORDER BY version DESC LIMIT 1"
        ),
        {"g": grid.id, "v": version},
    ).first()
    if row is None or row.wkb is None:
        raise NotFound(t("grid {code} has no version {version}", code=grid.code, version=version))
    return row.name, row.kind, shapely.from_wkb(bytes(row.wkb))


def _undo_succession(ws: Workspace, parent: WorkGrid, to_version: int, where: str) -> None:
    """Bring a split or merged grid back: its successors retire, it and its co-parents return.

    The successors must still be in force (a later split or merge of them is undone first).
    """
    children = list(
        ws.conn.scalars(
            text(
                "SELECT g.code FROM grid_lineage l JOIN grids g ON g.id = l.child_id WHERE l.parent_id = :p ORDER BY g.code"
            ),
            {"p": parent.id},
        )
    )
    if not children:
        raise Conflict(t("grid {code} is retired and no grid replaced it: nothing to undo", code=parent.code))
    kids = [ws.grid(c, where) for c in children]
    parents = list(
        ws.conn.scalars(
            text(
                "SELECT DISTINCT g.code FROM grid_lineage l JOIN grids g ON g.id = l.parent_id "
                "WHERE l.child_id = ANY(:c) ORDER BY g.code"
            ),
            {"c": [k.id for k in kids]},
        )
    )
    back = [ws.grid(c, where, retired_ok=True) for c in parents]
    for kid in kids:
        kid.retired = True
    for p in back:
        if p.in_force:
            raise Conflict(t("grid {code} is in force again already; undo its later changes first", code=p.code))
        p.name, p.kind, geom = _version(ws, p, to_version if p is parent else None)
        _set_boundary(ws, p, geom, True, where)
    ws.changes.undone.append(([k.saved_id for k in kids], [p.saved_id for p in back]))


def revert(ws: Workspace, edit: Revert, i: int) -> None:
    where = f"edits[{i}].to_version"
    target = ws.grid(edit.grid, f"edits[{i}].grid", retired_ok=True)
    to_version = edit.to_version
    if not target.in_force:
        _version(ws, target, to_version)  # NotFound before anything else
        _undo_succession(ws, target, to_version, where)
        return
    if to_version == target.version:
        raise GeogridError(t("grid {code} is already at version {version}", code=target.code, version=to_version))
    target.name, target.kind, geom = _version(ws, target, to_version)
    given_up = polygonal(shapely.difference(target.geom, geom))
    _set_boundary(ws, target, geom, True, where)
    if not given_up.is_empty:
        _hand_back_area(ws, target, to_version, given_up)


HELD_SQL = """
WITH at AS (SELECT valid_to AS t FROM grid_versions WHERE grid_id = :g AND version = :v),
held AS (
    SELECT v.grid_id, v.geom FROM grid_versions v, at
    WHERE v.grid_id <> :g AND v.valid_from < at.t AND (v.valid_to IS NULL OR v.valid_to >= at.t)
    UNION ALL
    SELECT g.id, g.geom FROM grids g, at WHERE g.id <> :g AND g.valid_from < at.t
       AND NOT EXISTS (SELECT 1 FROM grid_versions v WHERE v.grid_id = g.id)
)
SELECT g.code, g.valid_to IS NULL AS in_force, ST_AsBinary(held.geom) AS wkb FROM held JOIN grids g ON g.id = held.grid_id
WHERE ST_Intersects(held.geom, ST_GeomFromWKB(:w, 4326)) ORDER BY g.code
"""


def _hand_back_area(ws: Workspace, target: WorkGrid, to_version: int, given_up: shapely.Geometry) -> None:
    """The area a reverted grid gives up goes back to the grids in force that held it when ``to_version`` ended.

    What no such grid can take (it held nobody, or its holder was retired since) would become a gap with
    buildings in no grid: the revert is refused, naming its area, with the gap as GeoJSON to show on a map.
    Before, reverting one grid after a building move left the moved buildings (308 households) in no grid.
    """
    rows = ws.conn.execute(text(HELD_SQL), {"g": target.id, "v": to_version, "w": shapely.to_wkb(given_up)}).all()
    taken = []
    for held in rows:
        if not held.in_force:
            continue
        code = held.code
        piece = polygonal(shapely.intersection(given_up, shapely.from_wkb(bytes(held.wkb))))
        if piece.area <= SLIVER_DEG2:
            continue
        holder = ws.grid(code, "to_version")
        if holder is target or holder.retired:
            continue
        holder.geom, holder.changed = polygonal(shapely.union(holder.geom, piece)), True
        taken.append(piece)
        ws.changes.handed_back.append({"grid": code, "from": target.code, "m2": _m2(ws.conn, piece)})
    gap = polygonal(shapely.difference(given_up, shapely.union_all(taken))) if taken else given_up
    gap_m2 = _m2(ws.conn, gap) if not gap.is_empty else 0.0
    if gap_m2 > get_settings().area_tolerance_m2:
        exc = Conflict(
            t(
                "reverting grid {code} to version {version} would leave {m2:,.0f} m² in no grid (no grid in "
                "force held that area then): redraw the neighbours, or revert the plan instead",
                code=target.code,
                version=to_version,
                m2=gap_m2,
            )
        )
        exc.extra = {"gap": json.loads(shapely.to_geojson(gap)), "gap_m2": round(gap_m2, 1)}
        raise exc


def _m2(conn: Connection, geom: shapely.Geometry) -> float:
    """Area in square metres (geography)."""
    return float(
        conn.scalar(text("SELECT ST_Area(ST_GeomFromWKB(:w, 4326)::geography)"), {"w": shapely.to_wkb(geom)}) or 0.0
    )


def create(ws: Workspace, edit: Create, i: int) -> None:
    from geogrid.planning.create import create as create_grid  # a brand-new grid (planner drawing, partitions)

    create_grid(ws, edit, i)


def community(ws: Workspace, edit: NewCommunity, i: int) -> None:
    from geogrid.planning.create import create_community  # a new community a partition draws with its grids

    create_community(ws, edit, i)


# Each op's function takes its own edit model (the union is discriminated on ``op`` when parsed).
OPS: dict[str, Callable[[Workspace, Any, int], None]] = {
    "redraw": redraw,
    "split": split,
    "merge": merge,
    "move_buildings": move_buildings,
    "move_units": move_units,
    "revert": revert,
    "create": create,
    "community": community,
}


def compute_changes(conn: Connection, edits: list) -> Changes:
    """Run the edits (typed, or JSON-like data checked here) on a working copy of the grids; nothing is written."""
    typed = typed_edits(edits)
    ws = Workspace(conn)
    for i, edit in enumerate(typed):
        OPS[edit.op](ws, edit, i)
    return ws.changes


def typed_edits(edits: list) -> list:
    """Typed edits (checked like an import); an unknown ``op`` is named with the ones there are."""
    if not isinstance(edits, list) or not edits:
        raise InputError(t("a plan needs a non-empty list of edits"), field="edits")
    if all(isinstance(e, BaseModel) for e in edits):
        return edits
    for i, edit in enumerate(edits):
        op = edit.get("op") if isinstance(edit, dict) else None
        if op not in OPS:
            raise InputError(t("unknown op {op!r}: use one of {ops}", op=op, ops=list(OPS)), field=f"edits[{i}].op")
    return parse_edits(edits)


def allocate_codes(conn: Connection, changes: Changes, lock: bool) -> None:
    """Give new grids the next codes of their community, past every code it ever had (never reused).

    ``lock`` takes a transaction advisory lock per community so two plans applied at once cannot take the same
    number (a row lock on the community would deadlock with the key-share locks its grids' foreign keys take).
    """
    taken: dict[str, list[str]] = {}
    prefixes = {g.community_code or _code_prefix(changes, g) for g in changes.new}
    if lock:  # in a fixed order, so that two plans never wait on each other
        for prefix in sorted(prefixes):
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('geogrid.grid_codes'), hashtext(:p))"), {"p": prefix}
            )
    for g in changes.new:
        prefix = g.community_code or _code_prefix(changes, g)
        if prefix not in taken:
            taken[prefix] = codes_with_prefix(conn, prefix)
        g.code = grid_code(prefix, next_sequence(taken[prefix], prefix))
        taken[prefix].append(g.code)


# Codes starting with ``p``: a LIKE with a bound prefix reads the whole code index (8 ms at 21,000 grids) unless the
# collation is "C"; where the database orders text by code point ("C.UTF-8", as the embedded cluster), the range
# [p, p with its last character advanced) holds exactly those codes and the index answers it.
PREFIX_SQL = "SELECT code FROM grids WHERE code LIKE :p || '%'"
RANGE_SQL = "SELECT code FROM grids WHERE code >= :p AND code < :q AND code LIKE :p || '%'"
CODE_POINT_ORDER = {"C", "POSIX", "C.UTF-8", "C.utf8"}


def codes_with_prefix(conn: Connection, prefix: str) -> list[str]:
    """Every code (retired ones too) that starts with ``prefix``."""
    if prefix and _code_point_order(conn):
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return list(conn.scalars(text(RANGE_SQL), {"p": prefix, "q": upper}))
    return list(conn.scalars(text(PREFIX_SQL), {"p": prefix}))


def _code_point_order(conn: Connection) -> bool:
    """Whether the database's collation orders text by code point (asked once per connection)."""
    info = conn.connection.info
    if "code_point_order" not in info:
        collation = conn.scalar(text("SELECT datcollate FROM pg_database WHERE datname = current_database()"))
        info["code_point_order"] = collation in CODE_POINT_ORDER
    return bool(info["code_point_order"])


def _code_prefix(changes: Changes, grid: WorkGrid) -> str:
    """A grid with no community: its parent's code without the 3-digit sequence."""
    parent = next((g for g in changes.grids.values() if g.id in grid.parents), None)
    return parent.code[:-3] if parent and parent.code else "grid"
