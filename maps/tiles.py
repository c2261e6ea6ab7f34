"""Mapbox vector tiles from PostGIS (``ST_AsMVT``): grids, buildings, facilities, service areas and the base map.

Each layer is one SQL statement over the tile envelope (``ST_TileEnvelope``, Web Mercator), so PostGIS clips
and quantises; Python only caches the bytes. A tile is kept in this process keyed by the data version of the
tables maps read (:func:`maps.cache.fingerprint`, read for every request: one cheap statement), so an import, a
reassignment or a recomputed service area makes the very next request rebuild it, and a warm tile is a version
read and a dictionary look-up. Grid figures (households, coverage share) are the ones the folium maps show
(:func:`maps.data.grids` for the whole city, cached the same way), handed to SQL as arrays.

Tiles are in WGS84 / Web Mercator: with a GCJ-02 tile source the folium pages embed shifted GeoJSON instead.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import Connection, text

from geogrid.db.versions import DataVersion
from geogrid.errors import NotFound
from geogrid.i18n import t
from geogrid.settings import get_settings
from maps import cache

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
MAX_TILES = 20_000  # tiles kept in memory (a few kB each)
GZIP_MIN_BYTES = 256  # smaller tiles are sent as they are

ENVELOPE = (
    "WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS m, ST_Transform(ST_TileEnvelope(:z, :x, :y, "
    "margin => :margin), 4326) AS ll)"
)


def _mvt(name: str, select: str, fields: dict[str, str]) -> str:
    """``ST_AsMVT`` of the rows ``select`` returns (a ``geom`` in 4326 plus ``fields``), clipped to the tile."""
    props = "".join(f", s.{f}" for f in fields)
    return (
        f"(SELECT coalesce(ST_AsMVT(q, '{name}', {EXTENT}, 'geom'), ''::bytea) FROM ("
        f"SELECT ST_AsMVTGeom(ST_Transform(s.geom, 3857), env.m, {EXTENT}, {BUFFER}, true) AS geom{props} "
        f"FROM ({select}) s, env) q WHERE q.geom IS NOT NULL)"
    )


def _strip(select: str) -> str:
    return " ".join(select.split())


GRIDS = """
SELECT g.code, g.name, c.name AS community_name, coalesce(f.households, 0) AS households,
       f.coverage AS coverage, g.geom
FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id
LEFT JOIN unnest(CAST(:fid AS int[]), CAST(:fhh AS int8[]), CAST(:fcov AS float8[])) AS f(id, households, coverage)
       ON f.id = g.id, env
WHERE g.valid_to IS NULL AND g.geom && env.ll
"""
GRID_IDS = ENVELOPE + " SELECT g.id FROM grids g, env WHERE g.valid_to IS NULL AND g.geom && env.ll"
BUILDINGS = """
SELECT b.id, b.name, b.households, coalesce(b.footprint, b.geom) AS geom
FROM buildings b, env WHERE :z >= 14 AND coalesce(b.footprint, b.geom) && env.ll
"""
FACILITIES = """
SELECT f.id, f.name, f.kind, f.circle_minutes, f.candidate, f.geom
FROM facilities f, env WHERE f.geom && env.ll
"""
SERVICE_AREAS = """
SELECT sa.facility_id, f.name, f.kind, sa.mode, sa.minutes, sa.geom
FROM service_areas sa JOIN facilities f ON f.id = sa.facility_id, env
WHERE NOT f.candidate AND sa.geom && env.ll
"""
ROADS = """
SELECT b.kind, b.name, b.geom FROM base_features b, env
WHERE b.layer = 'road' AND b.geom && env.ll
  AND (b.kind = 'major' OR (b.kind = 'secondary' AND :z >= 11) OR (b.kind = 'street' AND :z >= 13) OR :z >= 15)
"""
WATER = "SELECT b.kind, b.name, b.geom FROM base_features b, env WHERE b.layer = 'water' AND b.geom && env.ll"
RAILWAYS = "SELECT b.kind, b.name, b.geom FROM base_features b, env WHERE b.layer = 'railway' AND b.geom && env.ll"
FOOTPRINTS = """
SELECT b.footprint AS geom FROM buildings b, env WHERE :z >= 15 AND b.footprint && env.ll
"""
COMPOUNDS = "SELECT c.name, c.geom FROM compounds c, env WHERE :z >= 14 AND c.geom && env.ll"
# One label per named main road per tile (from zoom 15): halfway along its longest piece inside the tile proper.
LABELS = """
SELECT DISTINCT ON (r.name) r.name, r.kind, ST_LineInterpolatePoint(r.piece, 0.5) AS geom
FROM (SELECT b.name, b.kind, d.geom AS piece
      FROM base_features b, env, ST_Dump(ST_Intersection(b.geom, ST_Transform(env.m, 4326))) d
      WHERE :z >= 15 AND b.layer = 'road' AND b.kind IN ('major', 'secondary') AND coalesce(b.name, '') <> ''
        AND b.geom && ST_Transform(env.m, 4326) AND ST_GeometryType(d.geom) = 'ST_LineString') r
ORDER BY r.name, ST_Length(r.piece) DESC
"""


@dataclass(frozen=True)
class TileLayer:
    """A tile endpoint: the MVT layers it concatenates, each ``(name, select, {field: type})``."""

    key: str
    title: str
    parts: tuple[tuple[str, str, dict[str, str]], ...]
    minzoom: int = 0
    needs_figures: bool = False
    params: tuple[tuple[str, str | int], ...] = ()  # bound into every part's SQL


AREA_FIELDS = {"facility_id": "Number", "name": "String", "kind": "String", "mode": "String", "minutes": "Number"}
CIRCLE_KEY = re.compile(r"service-areas-(circle|network)-(\d{1,3})")

LAYERS: dict[str, TileLayer] = {
    layer.key: layer
    for layer in (
        TileLayer(
            "grids",
            "网格 grids",
            (
                (
                    "grids",
                    GRIDS,
                    {
                        "code": "String",
                        "name": "String",
                        "community_name": "String",
                        "households": "Number",
                        "coverage": "Number",
                    },
                ),
            ),
            needs_figures=True,
        ),
        TileLayer(
            "buildings",
            "楼栋 buildings",
            (("buildings", BUILDINGS, {"id": "Number", "name": "String", "households": "Number"}),),
            minzoom=14,
        ),
        TileLayer(
            "facilities",
            "服务设施 facilities",
            (
                (
                    "facilities",
                    FACILITIES,
                    {
                        "id": "Number",
                        "name": "String",
                        "kind": "String",
                        "circle_minutes": "Number",
                        "candidate": "Boolean",
                    },
                ),
            ),
        ),
        TileLayer("service-areas", "服务范围 service areas", (("service_areas", SERVICE_AREAS, AREA_FIELDS),)),
        TileLayer(
            "base",
            "底图 base map",
            (
                ("water", WATER, {"kind": "String", "name": "String"}),
                ("compounds", COMPOUNDS, {"name": "String"}),
                ("buildings", FOOTPRINTS, {}),
                ("railways", RAILWAYS, {"kind": "String", "name": "String"}),
                ("roads", ROADS, {"kind": "String", "name": "String"}),
                ("labels", LABELS, {"name": "String", "kind": "String"}),
            ),
        ),
    )
}


def tile_sql(layer: TileLayer) -> str:
    """One statement returning the tile: its MVT layers concatenated (an MVT is a sequence of layers)."""
    return ENVELOPE + " SELECT " + " || ".join(_mvt(name, _strip(sql), fields) for name, sql, fields in layer.parts)


def circle_key(mode: str, minutes: int) -> str:
    """The tile layer of one circle's service areas, e.g. ``service-areas-network-5``."""
    return f"service-areas-{mode}-{minutes}"


def _circle_layer(mode: str, minutes: int) -> TileLayer:
    """Service areas of one circle only, the one a page draws: the whole layer carries every radius in both
    modes, six times the features, and the 15-minute network outlines are the largest of them."""
    select = SERVICE_AREAS + " AND sa.mode = :mode AND sa.minutes = :minutes"
    title = f"{minutes} 分钟服务范围 service areas ({mode})"
    parts = (("service_areas", select, AREA_FIELDS),)
    return TileLayer(circle_key(mode, minutes), title, parts, params=(("mode", mode), ("minutes", minutes)))


def _layer(key: str) -> TileLayer:
    if key in LAYERS:
        return LAYERS[key]
    circle = CIRCLE_KEY.fullmatch(key)
    if circle and int(circle[2]) in get_settings().circle_radius_m:
        return _circle_layer(circle[1], int(circle[2]))
    known = [*LAYERS, "service-areas-{circle|network}-{minutes}"]
    raise NotFound(t("unknown tile layer '{layer}': use one of {layers}", layer=key, layers=known))


def check_tile(z: int, x: int, y: int) -> None:
    """A tile address inside the Web Mercator pyramid, or :class:`NotFound`."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(t("no tile {z}/{x}/{y}: zoom 0–{max}, x and y 0 – 2^zoom − 1", z=z, x=x, y=y, max=MAX_ZOOM))


Figures = dict[int, tuple[int, float | None, int]]  # grid id → households, coverage share, covered households


def grid_figures(conn: Connection) -> Figures:
    """Households and coverage share (5 minutes, network where computed) per grid id, as the maps show them."""
    from maps import data

    def compute() -> Figures:
        frame = data.grids(conn, data.check_scope(conn, data.Scope()))
        if frame.empty:
            return {}
        cov = frame["coverage"].astype(float).to_numpy()
        ids, hh = frame["id"].astype(int).tolist(), frame["households"].astype(int).tolist()
        covered = frame["covered_households"].astype(int).tolist()
        return {i: (h, None if np.isnan(c) else float(c), k) for i, h, c, k in zip(ids, hh, cov, covered, strict=True)}

    return cache.cached(conn, ("tile-grid-figures",), compute)


def _tile_figures(conn: Connection, params: dict) -> dict[str, list]:
    """The figures of the grids in this tile only (a city has 20k grids; a tile a few hundred)."""
    figures = grid_figures(conn)
    ids = [i for i in conn.scalars(text(GRID_IDS), params) if i in figures]
    return {"fid": ids, "fhh": [figures[i][0] for i in ids], "fcov": [figures[i][1] for i in ids]}


def build_tile(conn: Connection, key: str, z: int, x: int, y: int) -> bytes:
    """The tile's bytes straight from PostGIS (no cache)."""
    layer = _layer(key)
    check_tile(z, x, y)
    params: dict = {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, **dict(layer.params)}
    if layer.needs_figures:
        params.update(_tile_figures(conn, params))
    return bytes(conn.scalar(text(tile_sql(layer)), params) or b"")


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile as served: its bytes, their gzip (None when too small to gain) and its ETag, made once."""

    body: bytes
    gzip: bytes | None
    etag: str

    @classmethod
    def pack(cls, body: bytes) -> Tile:
        packed = gzip.compress(body, 6) if len(body) >= GZIP_MIN_BYTES else None
        return cls(body, packed, '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"')


class TileCache:
    """Tiles in memory, keyed by the data version. Only the newest version seen keeps tiles: a newer one drops
    the rest (an older state's tiles are never served again)."""

    def __init__(self, max_tiles: int = MAX_TILES) -> None:
        self.max_tiles = max_tiles
        self._tiles: OrderedDict[tuple, Tile] = OrderedDict()
        self._lock = threading.Lock()
        self._version: DataVersion | None = None
        self.hits = self.misses = 0

    def observe(self, version: DataVersion | None) -> None:
        """Note a version just read: a newer one (or one of another database or server start) replaces the
        remembered one and its tiles; an older one, read by a slower request, changes nothing."""
        if version is None:
            return
        with self._lock:
            now = self._version
            if now is not None and (now.epoch, now.started) == (version.epoch, version.started):
                if version.changes <= now.changes:
                    return
            self._tiles.clear()
            self._version = version

    def get(self, version: DataVersion, key: str, z: int, x: int, y: int) -> Tile | None:
        with self._lock:
            tile = self._tiles.get((version, key, z, x, y))
            if tile is not None:
                self._tiles.move_to_end((version, key, z, x, y))
                self.hits += 1
            return tile

    def put(self, version: DataVersion, key: str, z: int, x: int, y: int, tile: Tile) -> None:
        with self._lock:
            self.misses += 1
            if version != self._version:
                return
            self._tiles[(version, key, z, x, y)] = tile
            while len(self._tiles) > self.max_tiles:
                self._tiles.popitem(last=False)

    def tile(self, conn: Connection, key: str, z: int, x: int, y: int, version: DataVersion | None = None) -> Tile:
        """The tile from memory when the data has not changed, else built (after the version was read, so never
        older than it) and remembered. ``version``: one read on another connection just before."""
        _layer(key)
        check_tile(z, x, y)
        if version is None:
            version = cache.fingerprint(conn)
            self.observe(version)
        if version is None:  # this transaction has written: its tile is its own
            return Tile.pack(build_tile(conn, key, z, x, y))
        found = self.get(version, key, z, x, y)
        if found is not None:
            return found
        built = Tile.pack(build_tile(conn, key, z, x, y))
        self.put(version, key, z, x, y, built)
        return built

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._version = None


def bounds(conn: Connection) -> list[float]:
    """West, south, east, north of the grids and base map (the whole world when there is nothing)."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north "
            "FROM (SELECT ST_Extent(geom) AS e FROM ("
            "SELECT geom FROM grids WHERE valid_to IS NULL UNION ALL SELECT geom FROM base_features) u) x"
        )
    ).first()
    if row is None or row.west is None:
        return [-180.0, -85.0511, 180.0, 85.0511]
    return [round(float(v), 6) for v in (row.west, row.south, row.east, row.north)]


class VectorLayer(BaseModel):
    """One MVT layer of a tile endpoint and the fields its features carry (never personal data)."""

    id: str
    fields: dict[str, str] = Field(description="field name → MVT type (String, Number, Boolean)")
    minzoom: int
    maxzoom: int


class TileJSON(BaseModel):
    """TileJSON 3.0.0 (https://github.com/mapbox/tilejson-spec): what a map library needs to draw a tile layer."""

    tilejson: Literal["3.0.0"] = "3.0.0"
    name: str
    scheme: Literal["xyz"] = "xyz"
    tiles: list[str] = Field(description="URL template of the tiles, {z}/{x}/{y}")
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] = Field(description="west, south, east, north (WGS84)")
    center: tuple[float, float, int] = Field(description="longitude, latitude, zoom")
    vector_layers: list[VectorLayer]


def tilejson(conn: Connection, key: str, tile_url: str) -> TileJSON:
    """TileJSON 3.0.0 for one endpoint: where its tiles are and which layers and fields they hold."""
    layer = _layer(key)
    west, south, east, north = bounds(conn)
    return TileJSON(
        name=layer.title,
        tiles=[tile_url],
        minzoom=layer.minzoom,
        maxzoom=MAX_ZOOM,
        bounds=(west, south, east, north),
        center=(round((west + east) / 2, 6), round((south + north) / 2, 6), 14),
        vector_layers=[
            VectorLayer(id=name, fields=fields, minzoom=layer.minzoom, maxzoom=MAX_ZOOM)
            for name, _, fields in layer.parts
        ],
    )
