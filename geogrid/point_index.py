"""Point lookups answered from memory: what :data:`geogrid.lookup.POINT_SQL` reads, kept in process.

The SQL answer cost most of ``/lookup``'s time in PostgreSQL (grid, card, the nearest path and its walk to
a station, 5-minute areas: about 2 ms of database time per point on a loaded machine, ``SELECT 1`` 0.2 ms).
Here the same facts are read once into memory (prepared grid polygons, cards, the walking network's edges,
station walks, stations, 5-minute areas) and each point is answered with the same arithmetic as the SQL:
the path by planar distance in degrees (8 nearest, then longitude scaled by cos(lat)), metres off the path
as PostGIS measures geography (closest point on the great circle, then the geodesic on WGS84), the place
along it in Web Mercator, geodesic distances to stations and facilities.

Freshness: every write to those tables adds a row to ``lookup_changes`` (revision ``0016_lookup``). Each
lookup asks the database one cheap question first (:data:`CHECK_SQL`): the table's file node and newest
row, whether a transaction still running when the memory copy was read has written since, and whether the
caller's own transaction has. Only an exact match answers from memory; otherwise the lookup runs the SQL
(so a plan or a staff change is seen by the very next lookup) and a rebuild starts in the background.
Memory is used only where :func:`enable` was called (the API); the CLI answers one point by SQL.

Pruning (revision ``0017_lookup_prune``, :func:`prune`): the insert trigger deletes, every 256th row, the rows of
transactions that ended before some later row was written, keeping the newest. A copy that still needs such a
row (a watched transaction's) has therefore already seen ``max(id)`` move past its ``top``: a prune can never
make a copy look current when it is not.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import Geod
from sqlalchemy import Connection, Engine, text

from geogrid.coverage import FIVE_MINUTE_BASIS
from geogrid.grid_index import GridIndex, build_index
from geogrid.model import SERVICE_STATION

KNN = 8  # as the SQL: nearest by degrees first, then the exact measure among these
COVERED_BY_MAX = 5
R_MERCATOR = 6378137.0
GEOD = Geod(ellps="WGS84")

CHECK_SQL = """
SELECT pg_relation_filenode('lookup_changes') AS node, (SELECT max(id) FROM lookup_changes) AS top,
       pg_current_xact_id_if_assigned() IS NOT NULL AND EXISTS (
           SELECT 1 FROM lookup_changes WHERE xid = pg_current_xact_id_if_assigned()) AS own,
       cardinality(CAST(:watch AS xid8[])) > 0 AND EXISTS (
           SELECT 1 FROM lookup_changes WHERE xid = ANY(CAST(:watch AS xid8[]))) AS watched
"""
# The same without a list to send (the usual case: nothing was running when the copy was read); psycopg
# converts a statement with a list parameter on every execution.
CHECK_PLAIN_SQL = (
    CHECK_SQL[: CHECK_SQL.index("       cardinality")].rstrip().rstrip(",") + ",\n       false AS watched\n"
)

_KEY_SQL = f"""
SELECT pg_relation_filenode('lookup_changes') AS node, (SELECT max(id) FROM lookup_changes) AS top,
       ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS xip,
       coalesce({FIVE_MINUTE_BASIS}, 'radius') AS basis, EXISTS (SELECT 1 FROM station_walks) AS walks
"""

_GRIDS_SQL = """
SELECT g.id, g.code, g.name, g.kind, c.code AS community_code, ST_AsBinary(g.geom) AS wkb,
       COALESCE(gc.card, grid_card(g.id)) AS card
  FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN grid_cards gc ON gc.grid_id = g.id
 WHERE g.valid_to IS NULL ORDER BY g.code
"""

_EDGES_SQL = """
SELECT e.source, e.target, e.length_m, ST_AsBinary(e.geom) AS wkb,
       s.id IS NOT NULL AND ST_DWithin(ST_StartPoint(e.geom), s.geom, 1e-9) AS forward, s.id IS NOT NULL AS joined
  FROM walk_edges e LEFT JOIN walk_nodes s ON s.id = e.source
 WHERE e.geom IS NOT NULL
"""

_WALKS_SQL = """
SELECT sw.node_id, sw.walk_m, f.name, ST_X(f.geom) AS x, ST_Y(f.geom) AS y
  FROM station_walks sw JOIN facilities f ON f.id = sw.station_id
"""

_STATIONS_SQL = f"""
SELECT name, ST_X(geom) AS x, ST_Y(geom) AS y FROM facilities WHERE kind = '{SERVICE_STATION}' AND NOT candidate
"""

_AREAS_SQL = """
SELECT ST_AsBinary(sv.geom) AS wkb, f.name, f.kind, ST_X(f.geom) AS x, ST_Y(f.geom) AS y
  FROM service_areas sv JOIN facilities f ON f.id = sv.facility_id AND NOT f.candidate
 WHERE sv.minutes = 5 AND sv.geom IS NOT NULL AND (sv.mode = 'network' OR :basis <> 'network')
"""


CELL_DEG = 0.0004  # side of the cells that hand each point its candidate grids, paths and areas (about 40 m)
_EPS = 1e-9  # cells are widened by this (degrees) so rounding in the cell arithmetic never misses an edge


@dataclass(frozen=True)
class Cells:
    """A uniform grid of cells over the grids' extent: for a point, its cell's candidates in two dict lookups,
    where an STRtree query cost tens of microseconds of Python per call."""

    x0: float
    y0: float
    nx: int
    ny: int

    @classmethod
    def over(cls, bounds: np.ndarray) -> Cells:
        if len(bounds) == 0:
            return cls(0.0, 0.0, 0, 0)
        x0, y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        nx = int((float(bounds[:, 2].max()) - x0) / CELL_DEG) + 1
        ny = int((float(bounds[:, 3].max()) - y0) / CELL_DEG) + 1
        return cls(x0, y0, nx, ny)

    def of(self, x: float, y: float) -> int:
        """The cell holding (x, y), or -1 outside them all."""
        if x < self.x0 or y < self.y0:
            return -1
        i, j = int((x - self.x0) / CELL_DEG), int((y - self.y0) / CELL_DEG)
        return j * self.nx + i if i < self.nx and j < self.ny else -1

    def boxes(self) -> np.ndarray:
        """Every cell as a polygon (widened by ``_EPS``), in cell order."""
        i, j = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        x, y = self.x0 + i.ravel() * CELL_DEG, self.y0 + j.ravel() * CELL_DEG
        return shapely.box(x - _EPS, y - _EPS, x + CELL_DEG + _EPS, y + CELL_DEG + _EPS)

    def group(self, pairs: np.ndarray) -> dict[int, tuple[int, ...]]:
        """``(2, n)`` (cell, item) pairs as cell → items in ascending order."""
        out: dict[int, list[int]] = {}
        for c, item in sorted(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True)):
            out.setdefault(c, []).append(item)
        return {c: tuple(items) for c, items in out.items()}


@dataclass
class Row:
    """The shape of a :data:`geogrid.lookup.POINT_SQL` row, so one function turns either into an answer."""

    code: str | None = None
    name: str | None = None
    kind: str | None = None
    card: str | dict[str, Any] | None = None  # text from the SQL, parsed from memory
    station_name: str | None = None
    station_m: float | None = None
    walk_name: str | None = None
    walk_distance_m: float | None = None
    walk_m: float | None = None
    basis: str = "radius"
    covered_by: list[dict[str, Any]] | None = None
    nearest: dict[str, Any] | None = None


@dataclass(frozen=True)
class Key:
    node: int
    top: int | None
    watch: tuple[str, ...]


@dataclass
class Snapshot:
    """Everything a point answer reads, as of one database snapshot (``key``)."""

    key: Key
    basis: str
    walks: bool
    grids: GridIndex
    cards: list[dict[str, Any] | None]  # parsed once here, not per answer
    edge_geoms: np.ndarray  # linestrings in degrees
    edge_coords: list[list[tuple[float, float]]]
    edge_tree: shapely.STRtree
    edge_source: np.ndarray
    edge_target: np.ndarray
    edge_length: np.ndarray
    edge_forward: np.ndarray
    edge_joined: np.ndarray
    walks_by_node: dict[int, tuple[float, str, float, float]]
    stations: tuple[list[str], np.ndarray, np.ndarray]
    area_tree: shapely.STRtree
    areas: list[tuple[str, str, float, float]]  # facility name, kind, x, y
    area_geoms: np.ndarray = field(repr=False)
    cells: Cells = field(default_factory=lambda: Cells(0.0, 0.0, 0, 0))
    cell_grids: dict[int, tuple[int, ...]] = field(default_factory=dict)  # candidates, code order
    cell_inside: dict[int, int] = field(default_factory=dict)  # cells wholly inside their lowest-code grid
    cell_edges: dict[int, tuple[int, ...]] = field(default_factory=dict)  # every path that can be the nearest
    cell_areas: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def locate(self, x: float, y: float) -> int:
        """:meth:`GridIndex.locate_one` by cell: the grid at once where one grid holds the whole cell."""
        cell = self.cells.of(x, y)
        inside = self.cell_inside.get(cell)
        if inside is not None:
            return inside
        geoms = self.grids.geoms
        for g in self.cell_grids.get(cell, ()):
            if shapely.intersects_xy(geoms[g], x, y):
                return g
        return -1

    def row(self, x: float, y: float) -> Row:
        """The answer's facts at (x, y) in WGS84, as the SQL computes them (``nearest`` is left to the caller)."""
        g = self.locate(x, y)
        row = Row(basis=self.basis)
        if g < 0:
            return row
        grid = self.grids.grids[g]
        row.code, row.name, row.kind, row.card = grid["code"], grid["name"], grid["kind"], self.cards[g]
        cell = self.cells.of(x, y)
        if self.walks:
            self._walk(row, x, y, cell)
        if row.walk_name is None:
            self._straight_station(row, x, y)
        if self.basis != "radius":
            row.covered_by = self._covered_by(x, y, cell)
        return row

    def _walk(self, row: Row, x: float, y: float, cell: int) -> None:
        e = self._nearest_edge(x, y, cell)
        if e < 0 or not self.edge_joined[e]:
            return
        coords = self.edge_coords[e]
        off = _geography_distance_to_line(x, y, coords)
        loc = _locate_mercator(x, y, coords)
        t = loc if self.edge_forward[e] else 1 - loc
        best: tuple[float, str, float, float] | None = None
        for node, along in ((int(self.edge_source[e]), t), (int(self.edge_target[e]), 1 - t)):
            walk = self.walks_by_node.get(node)
            if walk is None:
                continue
            total = off + along * float(self.edge_length[e]) + walk[0]
            if best is None or total < best[0]:
                best = (total, walk[1], walk[2], walk[3])
        if best is not None:
            row.walk_m, row.walk_name = best[0], best[1]
            row.walk_distance_m = _geodesic(x, y, best[2], best[3])

    def _nearest_edge(self, x: float, y: float, cell: int) -> int:
        """The 8 nearest paths by distance in degrees, then the nearest with longitude scaled by cos(lat).

        Scaled distances lie between c·d and d: no path farther than d₁/c in degrees can be the nearest, and
        the cell's candidates hold every path within d₁/c of any point of the cell (:func:`_edge_cells`). With
        at most 8 of them, the SQL's 8 nearest hold every path that can win, so the scaled measure decides.
        """
        found = self.cell_edges.get(cell, ())
        if not found:
            return -1
        c = math.cos(math.radians(y))
        cand: list[int] = list(found)
        if len(cand) > KNN:
            d = shapely.distance(self.edge_geoms[cand], shapely.Point(x, y))
            near = np.asarray(cand)[d <= float(d.min()) / c + 1e-12]
            if len(near) > KNN:
                d = shapely.distance(self.edge_geoms[near], shapely.Point(x, y))
                near = near[np.argsort(d, kind="stable")[:KNN]]
            cand = near.tolist()
        best, best_d = -1, math.inf
        for e in cand:
            s = _polyline_distance(x * c, y, [(cx * c, cy) for cx, cy in self.edge_coords[e]])
            if s < best_d:
                best, best_d = e, s
        return best

    def _straight_station(self, row: Row, x: float, y: float) -> None:
        names, sx, sy = self.stations
        if not names:
            return
        knn = np.argsort(np.hypot(sx - x, sy - y), kind="stable")[:KNN]
        metres = _geodesic_many(x, y, sx[knn], sy[knn])
        k = int(np.argmin(metres))
        row.station_name, row.station_m = names[int(knn[k])], float(metres[k])

    def _covered_by(self, x: float, y: float, cell: int) -> list[dict[str, Any]] | None:
        boxed = self.cell_areas.get(cell)  # boxes only: the areas are tested prepared
        if not boxed:
            return None
        inside = shapely.intersects_xy(self.area_geoms[list(boxed)], x, y).tolist()
        facts = [self.areas[i] for i, hit in zip(boxed, inside, strict=True) if hit]
        if not facts:
            return None
        metres = [float(GEOD.inv(x, y, f[2], f[3])[2]) for f in facts]
        order = sorted(range(len(facts)), key=metres.__getitem__)[:COVERED_BY_MAX]  # stable, as the SQL's sort
        return [{"name": facts[i][0], "kind": facts[i][1], "distance_m": metres[i]} for i in order]


def _geodesic(x0: float, y0: float, x1: float, y1: float) -> float:
    return float(GEOD.inv(x0, y0, x1, y1)[2])


def _geodesic_many(x: float, y: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    if len(xs) <= KNN:  # pyproj's scalar path: the array path costs more for a few points (same GeographicLib call)
        return np.array([GEOD.inv(x, y, a, b)[2] for a, b in zip(xs.tolist(), ys.tolist(), strict=True)], dtype=float)
    return np.asarray(GEOD.inv(np.full(len(xs), x), np.full(len(xs), y), xs, ys)[2], dtype=float)


def _closest_on_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    """The closest point to p on segment ab (PostGIS ``closest_point_on_segment``)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    if len2 == 0:
        return ax, ay
    r = ((px - ax) * dx + (py - ay) * dy) / len2
    if r < 0:
        return ax, ay
    if r > 1:
        return bx, by
    return ax + r * dx, ay + r * dy


def _polyline_distance(px: float, py: float, coords: list[tuple[float, float]]) -> float:
    """Planar distance from a point to a polyline."""
    best = math.inf
    for (ax, ay), (bx, by) in zip(coords, coords[1:], strict=False):
        qx, qy = _closest_on_segment(px, py, ax, ay, bx, by)
        best = min(best, math.hypot(qx - px, qy - py))
    return best


def _cart(lon: float, lat: float) -> tuple[float, float, float]:
    lo, la = math.radians(lon), math.radians(lat)
    return math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)


def _cross(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _dot(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit(a: tuple[float, float, float]) -> tuple[float, float, float] | None:
    n = math.sqrt(_dot(a, a))
    return None if n < 1e-15 else (a[0] / n, a[1] / n, a[2] / n)


def _angle(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    c = _cross(a, b)
    return math.atan2(math.sqrt(_dot(c, c)), _dot(a, b))


def _geography_distance_to_line(x: float, y: float, coords: list[tuple[float, float]]) -> float:
    """Metres from a point to a line as PostGIS measures geography: the closest point on each great-circle
    edge of a sphere, then the geodesic on WGS84 from the point to the closest of them."""
    p = _cart(x, y)
    best, best_angle = coords[0], math.inf
    for (ax, ay), (bx, by) in zip(coords, coords[1:], strict=False):
        a, b = _cart(ax, ay), _cart(bx, by)
        candidates = [(a, (ax, ay)), (b, (bx, by))]  # vertices keep their own coordinates, as PostGIS
        n = _unit(_cross(a, b))
        if n is not None:
            d = _dot(p, n)
            k = _unit((p[0] - d * n[0], p[1] - d * n[1], p[2] - d * n[2]))
            if k is not None and _dot(_cross(a, k), n) >= 0 and _dot(_cross(k, b), n) >= 0:
                lon = math.degrees(math.atan2(k[1], k[0]))
                candidates = [(k, (lon, math.degrees(math.asin(max(-1.0, min(1.0, k[2]))))))]
        for c, geographic in candidates:
            angle = _angle(p, c)
            if angle < best_angle:
                best, best_angle = geographic, angle
    if best_angle <= 1e-12:  # PostGIS's tolerance on the unit sphere: on the line is 0 m
        return 0.0
    return _geodesic(x, y, best[0], best[1])


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    return R_MERCATOR * math.radians(lon), R_MERCATOR * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _locate_mercator(x: float, y: float, coords: list[tuple[float, float]]) -> float:
    """``ST_LineLocatePoint`` of the point on the line, both in Web Mercator (EPSG:3857): the nearest
    segment (the first of equals), the closest point on it, its length along the line over the whole."""
    pts = [_mercator(cx, cy) for cx, cy in coords]
    px, py = _mercator(x, y)
    seg, mindist = 0, math.inf
    for i, ((ax, ay), (bx, by)) in enumerate(zip(pts, pts[1:], strict=False)):
        qx, qy = _closest_on_segment(px, py, ax, ay, bx, by)
        dist = math.hypot(qx - px, qy - py)
        if i == 0 or dist < mindist:
            seg, mindist = i, dist
        if mindist == 0:
            break
    lengths = [math.hypot(bx - ax, by - ay) for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False)]
    total = sum(lengths)
    if total == 0:
        return 0.0
    qx, qy = _closest_on_segment(px, py, *pts[seg], *pts[seg + 1])
    return (sum(lengths[:seg]) + math.hypot(qx - pts[seg][0], qy - pts[seg][1])) / total


def _read(conn: Connection) -> Snapshot:
    """Read everything in one repeatable-read snapshot (the key and the facts agree)."""
    k = conn.execute(text(_KEY_SQL)).one()
    key = Key(k.node, k.top, tuple(k.xip or ()))
    rows = conn.execute(text(_GRIDS_SQL)).all()
    grids = build_index((key,), rows, [bytes(r.wkb) for r in rows])
    edges = conn.execute(text(_EDGES_SQL)).all()
    edge_geoms = shapely.from_wkb([bytes(e.wkb) for e in edges]) if edges else np.empty(0, dtype=object)
    walks = {r.node_id: (float(r.walk_m), r.name, float(r.x), float(r.y)) for r in conn.execute(text(_WALKS_SQL))}
    stations = conn.execute(text(_STATIONS_SQL)).all()
    areas = conn.execute(text(_AREAS_SQL), {"basis": k.basis}).all()
    area_geoms = shapely.from_wkb([bytes(a.wkb) for a in areas]) if areas else np.empty(0, dtype=object)
    shapely.prepare(area_geoms)
    snapshot = Snapshot(
        key=key,
        basis=k.basis,
        walks=bool(k.walks),
        grids=grids,
        cards=[orjson.loads(r.card) if r.card is not None else None for r in rows],
        edge_geoms=edge_geoms,
        edge_coords=[[(float(a), float(b)) for a, b in shapely.get_coordinates(g).tolist()] for g in edge_geoms],
        edge_tree=shapely.STRtree(edge_geoms),
        edge_source=np.array([e.source for e in edges], dtype=np.int64),
        edge_target=np.array([e.target for e in edges], dtype=np.int64),
        edge_length=np.array([e.length_m or 0.0 for e in edges], dtype=float),
        edge_forward=np.array([bool(e.forward) for e in edges], dtype=bool),
        edge_joined=np.array([bool(e.joined) for e in edges], dtype=bool),
        walks_by_node=walks,
        stations=(
            [s.name for s in stations],
            np.array([s.x for s in stations], dtype=float),
            np.array([s.y for s in stations], dtype=float),
        ),
        area_tree=shapely.STRtree(area_geoms),
        areas=[(a.name, a.kind, float(a.x), float(a.y)) for a in areas],
        area_geoms=area_geoms,
    )
    _add_cells(snapshot)
    return snapshot


def _add_cells(s: Snapshot) -> None:
    """Each cell's candidate grids (and the grid holding all of it), paths and 5-minute areas."""
    cells = Cells.over(s.grids.bounds)
    boxes = cells.boxes()
    if len(boxes) == 0:
        return
    grid_tree = shapely.STRtree(s.grids.geoms)
    s.cell_grids = cells.group(grid_tree.query(boxes))  # boxes that meet the grids' boxes
    firsts = {c: g[0] for c, g in s.cell_grids.items()}
    held = shapely.covers(s.grids.geoms[list(firsts.values())], boxes[list(firsts.keys())])
    s.cell_inside = {c: g for (c, g), inside in zip(firsts.items(), held.tolist(), strict=True) if inside}
    s.cell_edges = _edge_cells(s, cells, boxes)
    s.cell_areas = cells.group(s.area_tree.query(boxes)) if len(s.area_geoms) else {}
    s.cells = cells


def _edge_cells(s: Snapshot, cells: Cells, boxes: np.ndarray) -> dict[int, tuple[int, ...]]:
    """Per cell, every path within d₁(p)/cos(lat) of some point p of it: with q the centre, h the half-diagonal
    and c the smallest cosine over the cell, d₁(p) ≤ d₁(q) + h, so the paths within (d₁(q) + h)/c + h of q."""
    if len(s.edge_geoms) == 0:
        return {}
    centres = shapely.centroid(boxes)
    found, dist = s.edge_tree.query_nearest(centres, return_distance=True, all_matches=False)
    d = np.empty(len(centres))
    d[found[0]] = dist
    y = shapely.get_y(centres)
    half = math.hypot(CELL_DEG, CELL_DEG) / 2 + 2 * _EPS
    c = np.cos(np.radians(np.abs(y) + half))
    return cells.group(s.edge_tree.query(centres, predicate="dwithin", distance=(d + half) / c + half + 1e-12))


def prune(conn: Connection) -> int:
    """Delete the ``lookup_changes`` rows no memory copy can still need (the insert trigger does this every 256th
    row in READ COMMITTED transactions); returns how many went. See revision ``0017_lookup_prune``."""
    return int(conn.execute(text("SELECT prune_lookup_changes()")).scalar_one())


def build(engine: Engine) -> Snapshot:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        return _read(conn)


class _State:
    def __init__(self) -> None:
        self.users = 0
        self.snapshots: dict[str, Snapshot] = {}
        self.building: set[str] = set()
        self.lock = threading.Lock()


_STATE = _State()


def enable() -> None:
    """Answer point lookups from memory in this process (the API's lifespan); :func:`disable` undoes it."""
    with _STATE.lock:
        _STATE.users += 1


def disable() -> None:
    with _STATE.lock:
        _STATE.users = max(0, _STATE.users - 1)
        if _STATE.users == 0:
            _STATE.snapshots.clear()


@lru_cache(maxsize=16)
def key_of(engine: Engine) -> str:
    """The key of an engine's memory copy (its URL as text: rendering it cost 10 µs a request)."""
    return str(engine.url)


def current(engine_key: str) -> Snapshot | None:
    return _STATE.snapshots.get(engine_key) if _STATE.users else None


def watch_of(snapshot: Snapshot | None) -> list[str]:
    return list(snapshot.key.watch) if snapshot else []


def fresh(snapshot: Snapshot | None, check: Any) -> bool:
    """Whether the answer of :data:`CHECK_SQL` says ``snapshot`` is what the caller would read."""
    return (
        snapshot is not None
        and not check.own
        and not check.watched
        and check.node == snapshot.key.node
        and check.top == snapshot.key.top
    )


def start(engine: Engine) -> None:
    """Build the memory copy in the background now (the API's start-up), so early lookups find it ready."""
    refresh(str(engine.url), engine, None)


def refresh(engine_key: str, engine: Engine, check: Any) -> None:
    """Rebuild in the background when the database moved on (not for the caller's own uncommitted writes)."""
    if not _STATE.users or (check is not None and check.own):
        return
    with _STATE.lock:
        if engine_key in _STATE.building:
            return
        _STATE.building.add(engine_key)

    def work() -> None:
        try:
            snapshot = build(engine)
            with _STATE.lock:
                if _STATE.users:
                    _STATE.snapshots[engine_key] = snapshot
        finally:
            with _STATE.lock:
                _STATE.building.discard(engine_key)

    threading.Thread(target=work, name="point-index", daemon=True).start()


def wait_built(engine_key: str, timeout: float = 60.0) -> bool:
    """Block until no rebuild is running (tests and benchmarks start measuring on a built index)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _STATE.lock:
            if engine_key not in _STATE.building:
                return engine_key in _STATE.snapshots
        time.sleep(0.02)
    return False


def enabled() -> bool:
    return _STATE.users > 0
