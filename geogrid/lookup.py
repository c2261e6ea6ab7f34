"""Point and address → grid, with who is responsible for it: the call API consumers make most.

One SQL round trip per point: the GiST index finds the covering grids, ``ORDER BY code LIMIT 1`` applies the
boundary rule of docs/ARCHITECTURE.md (lowest code wins), the grid's card (areas, staff, party organisation:
the same for every point of a grid, kept current by triggers) is read by key, and lateral joins add the
nearest service station (KNN ``<->``, then metres on the geography) and 5-minute coverage.
Batches use one set-based query over ``unnest``-ed arrays.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import orjson
from pyproj import CRS
from pyproj.exceptions import ProjError
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, INTEGER

from geogrid import crs as crs_mod
from geogrid import point_index
from geogrid.coverage import FIVE_MINUTE_BASIS
from geogrid.errors import GeogridError, NotFound
from geogrid.i18n import t
from geogrid.matching import resolve
from geogrid.model import FACILITY_KINDS, SERVICE_STATION
from geogrid.settings import get_settings

KNN_CANDIDATES = 8  # nearest by degrees first, then exact metres among these
MAX_CANDIDATES = 20  # grids listed for an ambiguous address
COVERED_BY_MAX = 5  # facilities listed in ``covered_by``, nearest first

_GRID_SQL = """
SELECT g.id, g.code, g.name, g.kind, g.community_id
  FROM grids g
 WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, p.g)
 ORDER BY g.code LIMIT 1
"""

# The nearest grid, for a point outside every grid: KNN by degrees, then exact metres among the candidates.
_NEAREST_SQL = f"""
SELECT k.code, k.name, ST_Distance(k.geom::geography, p.g::geography) AS distance_m
  FROM (SELECT code, name, geom FROM grids WHERE valid_to IS NULL
         ORDER BY geom <-> p.g LIMIT {KNN_CANDIDATES}) k
 ORDER BY distance_m, k.code LIMIT 1
"""

# The nearest station on foot: step onto the nearest path (edge) at the nearest point, walk to either end
# of it, then on to that end's nearest station (``station_walks``). Candidates are ranked in degrees with
# longitude scaled by cos(lat) (locally true to the ground, and eight geodesic distances cost as much as the
# rest of the lookup). ``t`` is the fraction from the source end, located in Web Mercator: conformal, so the
# foot of the perpendicular is where it is on the ground. Skipped at once when nothing was measured.
_WALK_SQL = f"""
SELECT f.name, ST_Distance(f.geom::geography, p.g::geography) AS distance_m, e.off_m + w.along * e.length_m
       + sw.walk_m AS walk_m
  FROM (SELECT c.source, c.target, c.length_m, ST_Distance(c.geom::geography, p.g::geography) AS off_m,
               ST_LineLocatePoint(ST_Transform(c.geom, 3857), ST_Transform(p.g, 3857)) AS loc,
               ST_DWithin(ST_StartPoint(c.geom), s.geom, 1e-9) AS forward  -- drawn from source to target
          FROM (SELECT k.* FROM (SELECT source, target, length_m, geom FROM walk_edges WHERE geom IS NOT NULL
                                  ORDER BY geom <-> p.g LIMIT {KNN_CANDIDATES}) k
                 ORDER BY ST_Distance(ST_Scale(k.geom, cos(radians(ST_Y(p.g))), 1),
                                      ST_Scale(p.g, cos(radians(ST_Y(p.g))), 1)) LIMIT 1) c
          JOIN walk_nodes s ON s.id = c.source) e
 CROSS JOIN LATERAL (SELECT CASE WHEN e.forward THEN e.loc ELSE 1 - e.loc END AS t) d
 CROSS JOIN LATERAL (VALUES (e.source, d.t), (e.target, 1 - d.t)) AS w(node, along)
  JOIN station_walks sw ON sw.node_id = w.node
  JOIN facilities f ON f.id = sw.station_id
 WHERE gr.id IS NOT NULL AND b.walks
 ORDER BY walk_m LIMIT 1
"""

# One row per point, inside a grid or not: outside, only ``nearest`` is computed (CASE runs a subquery only
# when its branch is taken), so a miss costs one round trip like a hit. The per-grid part (areas, staff in order
# of responsibility, party organisation) is the grid's card, kept current by triggers (revision 0003_grid_cards);
# a missing card is computed live by the same function. The coverage basis is computed once (MATERIALIZED).
POINT_SQL = text(f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
b AS MATERIALIZED (
       SELECT coalesce({FIVE_MINUTE_BASIS}, 'radius') AS basis,
              EXISTS (SELECT 1 FROM station_walks) AS walks)
SELECT gr.code, gr.name, gr.kind,
       CASE WHEN gr.id IS NOT NULL THEN COALESCE(gc.card, grid_card(gr.id)) END AS card,
       ns.name AS station_name, ns.distance_m AS station_m,
       ws.name AS walk_name, ws.distance_m AS walk_distance_m, ws.walk_m, b.basis,
       CASE WHEN gr.id IS NOT NULL AND b.basis <> 'radius' THEN
       (SELECT json_agg(json_build_object('name', x.name, 'kind', x.kind, 'distance_m', x.distance_m)
                        ORDER BY x.distance_m)
          FROM (SELECT sf.name, sf.kind, ST_Distance(sf.geom::geography, p.g::geography) AS distance_m
                  FROM service_areas sv JOIN facilities sf ON sf.id = sv.facility_id AND NOT sf.candidate
                 WHERE sv.minutes = 5 AND ST_Intersects(sv.geom, p.g)
                   AND (sv.mode = 'network' OR b.basis <> 'network')
                 ORDER BY distance_m LIMIT {COVERED_BY_MAX}) x) END AS covered_by,
       CASE WHEN gr.id IS NULL THEN
       (SELECT json_build_object('code', n.code, 'name', n.name, 'distance_m', n.distance_m)
          FROM ({_NEAREST_SQL}) n) END AS nearest
  FROM p CROSS JOIN b
  LEFT JOIN LATERAL ({_GRID_SQL}) gr ON true
  LEFT JOIN grid_cards gc ON gc.grid_id = gr.id
  LEFT JOIN LATERAL ({_WALK_SQL}) ws ON true
  LEFT JOIN LATERAL (
       SELECT k.name, ST_Distance(k.geom::geography, p.g::geography) AS distance_m
         FROM (SELECT f.name, f.geom FROM facilities f
                WHERE f.kind = '{SERVICE_STATION}' AND NOT f.candidate  -- as revision 0003's partial GiST
                ORDER BY f.geom <-> p.g LIMIT {KNN_CANDIDATES}) k
        WHERE gr.id IS NOT NULL AND ws.name IS NULL  -- by straight line only when not on foot
        ORDER BY distance_m LIMIT 1) ns ON true
""")

BATCH_SQL = text(f"""
WITH p AS (SELECT t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326) AS g
             FROM unnest(:idx, :xs, :ys) AS t(i, x, y))
SELECT p.i, gr.code, gr.name, gr.kind, c.code AS c_code
  FROM p
  LEFT JOIN LATERAL ({_GRID_SQL}) gr ON true
  LEFT JOIN admin_areas c ON c.id = gr.community_id
 ORDER BY p.i
""").bindparams(
    bindparam("idx", type_=ARRAY(INTEGER)),
    bindparam("xs", type_=ARRAY(DOUBLE_PRECISION)),
    bindparam("ys", type_=ARRAY(DOUBLE_PRECISION)),
)


def to_storage(
    lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, crs: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 arrays for input coordinates, and a mask of the valid ones (finite, on the globe)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    name = input_crs(crs)
    try:
        wx, wy = crs_mod.to_wgs84_xy(np.where(finite, x, 0.0), np.where(finite, y, 0.0), name)
    except ProjError as exc:
        raise GeogridError(t("cannot convert from {crs} to WGS84: {error}", crs=crs, error=exc)) from None
    wx, wy = np.asarray(wx, dtype=float), np.asarray(wy, dtype=float)
    ok = finite & (np.abs(wx) <= 180) & (np.abs(wy) <= 90) & np.isfinite(wx) & np.isfinite(wy)
    return wx, wy, ok


@lru_cache(maxsize=64)
def input_crs(crs: str | None) -> str:
    """The CRS of input coordinates: an offset system, or a 2D geographic or projected CRS on the Earth."""
    name = crs_mod.normalise(crs)
    if name in crs_mod.OFFSET_SYSTEMS or name in ("EPSG:4326", "EPSG:4490"):
        return name
    parsed = CRS.from_user_input(name)
    if (
        not (parsed.is_geographic or parsed.is_projected)
        or parsed.is_geocentric
        or len(parsed.axis_info) != 2
        or parsed.ellipsoid is None
        or abs(parsed.ellipsoid.semi_major_metre - 6378137) > 10_000
    ):
        raise GeogridError(t("crs {crs} is not a 2D geographic or projected CRS of the Earth", crs=crs))
    return name


def _check_point(lon: float, lat: float, crs: str | None) -> tuple[float, float]:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeogridError(t("lon and lat must be finite numbers"))
    if input_crs(crs) in ("EPSG:4326", "EPSG:4490"):  # the common case, without NumPy
        wx: Sequence[float] | np.ndarray = [lon]
        wy: Sequence[float] | np.ndarray = [lat]
        ok: Sequence[bool] | np.ndarray = [abs(lon) <= 180 and abs(lat) <= 90]
    else:
        wx, wy, ok = to_storage([lon], [lat], crs)
    if not ok[0]:
        raise GeogridError(
            t(
                "coordinates out of range: lon={lon}, lat={lat} (crs {crs}); lon must be within ±180 "
                "and lat within ±90",
                lon=lon,
                lat=lat,
                crs=crs or "wgs84",
            )
        )
    return float(wx[0]), float(wy[0])


def _answer(row, lon: float, lat: float) -> dict:
    if row.code is None:
        raise _not_found(row.nearest, lon, lat)
    settings = get_settings()
    station = _station(row, settings.walk_speed_m_per_min)
    card = row.card if isinstance(row.card, dict) else orjson.loads(row.card)  # community, street, district, …
    covered_by = _covered_by(row, station, settings)
    return {
        "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
        "grid": {"code": row.code, "name": row.name, "kind": row.kind},
        **card,
        "nearest_station": station,
        "covered": bool(covered_by),
        "covered_basis": row.basis,
        "covered_by": covered_by,
        "covered_kinds": COVERED_KINDS if row.basis != "radius" else [SERVICE_STATION],
    }


# Every kind of facility in service counts for ``covered`` (a kindergarten's 5-minute area as much as a
# station's); proposed sites (candidates) never do. The answer says so, since ``nearest_station`` is stations only.
COVERED_KINDS = list(FACILITY_KINDS)


def _covered_by(row, station: dict | None, settings) -> list[dict]:
    """The facilities whose 5-minute area holds the point (nearest first), each with its kind and minutes on foot:
    along the network for the nearest station when measured, else the straight line at the walking pace."""
    pace = settings.walk_speed_m_per_min
    if row.basis == "radius":
        radius = settings.circle_radius_m.get(5, 300.0)
        return [station] if station and row.station_m is not None and row.station_m <= radius else []
    out = []
    for f in row.covered_by or ():
        if (
            station
            and station["walk_basis"] == "network"
            and f["name"] == station["name"]
            and f["kind"] == SERVICE_STATION
        ):
            out.append(station)
            continue
        out.append(
            {
                "name": f["name"],
                "kind": f["kind"],
                "distance_m": round(f["distance_m"], 1),
                "walk_m": None,
                "walk_minutes": round(f["distance_m"] / pace, 1),
                "walk_basis": "straight_line",
            }
        )
    return out


def _station(row, pace: float) -> dict | None:
    """The nearest service station: by walking along the network when ``geogrid compute`` has measured it,
    else by straight line (``walk_basis`` says which; ``walk_m`` is null for a straight line)."""
    if row.walk_name is not None:
        return {
            "name": row.walk_name,
            "kind": SERVICE_STATION,
            "distance_m": round(row.walk_distance_m, 1),
            "walk_m": round(row.walk_m, 1),
            "walk_minutes": round(row.walk_m / pace, 1),
            "walk_basis": "network",
        }
    if row.station_name is not None:
        return {
            "name": row.station_name,
            "kind": SERVICE_STATION,
            "distance_m": round(row.station_m, 1),
            "walk_m": None,
            "walk_minutes": round(row.station_m / pace, 1),
            "walk_basis": "straight_line",
        }
    return None


NEAREST_SQL = text(f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT json_build_object('code', n.code, 'name', n.name, 'distance_m', n.distance_m) FROM p CROSS JOIN LATERAL ({_NEAREST_SQL}) n
""")
_CHECK = text(point_index.CHECK_SQL)


def lookup_point(conn: Connection, lon: float, lat: float, crs: str | None = None) -> dict:
    """The grid at a point and who is responsible for it; :class:`NotFound` (with the nearest grid) outside.

    From memory (:mod:`geogrid.point_index`) when this process keeps it and it is current, else by SQL.
    """
    wlon, wlat = _check_point(lon, lat, crs)
    row = _memory_row(conn, wlon, wlat)
    if row is None:
        return _answer(conn.execute(POINT_SQL, {"lon": wlon, "lat": wlat}).one(), wlon, wlat)
    if row.code is None:
        row.nearest = _loads(conn.execute(NEAREST_SQL, {"lon": wlon, "lat": wlat}).scalar())
    return _answer(row, wlon, wlat)


def _memory_row(conn: Connection, lon: float, lat: float) -> point_index.Row | None:
    if not point_index.enabled():
        return None
    key = point_index.key_of(conn.engine)
    snapshot = point_index.current(key)
    check = conn.execute(_CHECK, {"watch": point_index.watch_of(snapshot)}).one()
    if snapshot is not None and point_index.fresh(snapshot, check):
        return snapshot.row(lon, lat)
    point_index.refresh(key, conn.engine, check)
    return None


def _loads(value):
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _not_found(near: dict | None, lon: float, lat: float) -> NotFound:
    if near is None:
        return NotFound(t("no grid at lon={lon:.6f}, lat={lat:.6f}: there are no grids", lon=lon, lat=lat))
    exc = NotFound(
        t(
            "no grid at lon={lon:.6f}, lat={lat:.6f}; the nearest is {code} ({name}), {distance:.0f} m away",
            lon=lon,
            lat=lat,
            code=near["code"],
            name=near["name"],
            distance=near["distance_m"],
        )
    )
    exc.extra = {
        "nearest_grid": {"code": near["code"], "name": near["name"], "distance_m": round(near["distance_m"], 1)}
    }
    return exc


def _pyformat(sql) -> str:
    """A ``text()`` statement's SQL with psycopg placeholders (``:lon`` → ``%(lon)s``; ``::casts`` kept)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.text)


_POINT_PG = _pyformat(POINT_SQL)
_CHECK_PG = _pyformat(_CHECK)
_CHECK_PLAIN_PG = point_index.CHECK_PLAIN_SQL
_NEAREST_PG = _pyformat(NEAREST_SQL)


async def lookup_point_async(aconn, lon: float, lat: float, crs: str | None = None) -> dict:
    """:func:`lookup_point` on a psycopg ``AsyncConnection`` (namedtuple rows): the API's hot path.

    One round trip per point: the freshness check of the memory copy (:mod:`geogrid.point_index`), or, when
    it is not current (or not kept), the whole lookup in SQL. Statements are prepared on first use.
    """
    from geogrid import db

    wlon, wlat = _check_point(lon, lat, crs)
    if point_index.enabled():
        engine = db.ready()
        key = point_index.key_of(engine)
        snapshot = point_index.current(key)
        watch = point_index.watch_of(snapshot)
        if watch:
            cursor = await aconn.execute(_CHECK_PG, {"watch": watch}, prepare=True)
        else:
            cursor = await aconn.execute(_CHECK_PLAIN_PG, prepare=True)
        check = await cursor.fetchone()
        if snapshot is not None and point_index.fresh(snapshot, check):
            row = snapshot.row(wlon, wlat)
            if row.code is None:
                cursor = await aconn.execute(_NEAREST_PG, {"lon": wlon, "lat": wlat}, prepare=True)
                found = await cursor.fetchone()
                row.nearest = _loads(found[0]) if found else None
            return _answer(row, wlon, wlat)
        point_index.refresh(key, engine, check)
    cursor = await aconn.execute(_POINT_PG, {"lon": wlon, "lat": wlat}, prepare=True)
    return _answer(await cursor.fetchone(), wlon, wlat)


def lookup_address(conn: Connection, address: str, explain: bool = False) -> dict:
    """The grid for a free-text address, with what matched (``match.level``) and how sure (``ambiguous``).

    A confident answer names one grid; otherwise ``candidates`` lists the grids the match may be in, with
    their ``share``, and ``grid`` is the likeliest of them (see :mod:`geogrid.matching`).
    """
    if not address or not address.strip():
        raise GeogridError(t("address is empty"))
    if len(address) > 300:
        raise GeogridError(t("address is longer than 300 characters"))
    found = resolve(conn, address)
    if found is None:
        raise NotFound(t("no address matches '{address}'", address=address))
    if not found.grids:
        point = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM gazetteer WHERE text = :t LIMIT 1"), {"t": found.address}
        ).first()
        lookup_point(conn, *(point or (0.0, 0.0)))  # raises NotFound with the nearest grid
    best = found.best
    answer = lookup_point(conn, best.lon, best.lat)
    answer["match"] = {"address": found.address, "kind": found.kind, "level": found.level, "score": found.score}
    answer["ambiguous"] = not found.confident
    answer["candidates"] = (
        []
        if found.confident
        else [
            {
                "address": g.address,
                "kind": found.kind,
                "level": found.level,
                "score": found.score,
                "share": g.share,
                "grid": {"code": g.code, "name": g.name, "kind": g.kind},
            }
            for g in found.grids[:MAX_CANDIDATES]
        ]
    )
    if explain:
        answer["explain"] = found.explain
    return answer


def grids_at(
    conn: Connection,
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    crs: str | None = None,
) -> list[dict | None]:
    """The grid (code, name, kind, community_code) at each point, None outside any grid or for invalid input.

    Points are located in process against the grids' STRtree (:mod:`geogrid.grid_index`), checked against
    the caller's snapshot first, so a plan just applied is already seen; the boundary rule is the same as
    :data:`BATCH_SQL` (lowest code wins).
    """
    from geogrid.grid_index import grid_index

    wx, wy, ok = to_storage(lon, lat, crs)
    out: list[dict | None] = [None] * len(wx)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    index = grid_index(conn)
    found = index.locate(wx[idx], wy[idx])
    grids = index.grids
    for i, g in zip(idx.tolist(), found.tolist(), strict=True):
        if g >= 0:
            out[i] = dict(grids[g])
    return out


# The answer columns of a point batch (:func:`lookup_columns`), one list each, in the items' order.
POINT_COLUMNS = ("id", "grid_code", "grid_name", "grid_kind", "community_code", "error")


def lookup_columns(
    conn: Connection,
    ids: Sequence | None,
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    crs: str | None = None,
) -> dict[str, list]:
    """Many points at once, column by column (:data:`POINT_COLUMNS`): the compact batch format.

    No per-item objects: the points are located as arrays against the in-process grid index, and each
    column is taken from the grids' own columns, so 100k points cost tens of milliseconds (a dict per item
    cost ten times that). ``ids`` default to the points' positions; errors as :func:`lookup_batch` words them.
    """
    from geogrid.grid_index import grid_index

    settings = get_settings()
    if len(lon) != len(lat) or (ids is not None and len(ids) != len(lon)):
        raise GeogridError(t("lon, lat and id must be lists of the same length"))
    if len(lon) > settings.batch_limit:
        raise BatchTooLarge(settings.batch_limit, len(lon))
    wx, wy, ok = to_storage(lon, lat, crs)
    found = np.full(len(wx), -1, dtype=np.int64)
    index = grid_index(conn)
    found[ok] = index.locate(wx[ok], wy[ok])
    columns = index.columns()  # per grid, with None at position -1 (no grid)
    invalid, outside = t("lon and lat must be finite numbers within ±180 and ±90"), t("no grid at this point")
    errors = np.full(len(wx), None, dtype=object)
    errors[ok & (found < 0)] = str(outside)
    errors[~ok] = str(invalid)
    return {
        "id": list(ids) if ids is not None else list(range(len(wx))),
        **{name: values[found].tolist() for name, values in columns.items()},
        "error": errors.tolist(),
    }


def items_from_columns(columns: dict[str, list]) -> list[dict]:
    """The answers of :func:`lookup_columns` as :func:`lookup_batch` words them (``{"id", "grid"}`` or
    ``{"id", "grid": None, "error"}``), one dict per grid shared by its points: a batch of points in the items
    format takes the array path too."""
    grids: dict[str, dict] = {}
    out: list[dict] = []
    append = out.append
    for id_, code, name, kind, community, error in zip(
        columns["id"],
        columns["grid_code"],
        columns["grid_name"],
        columns["grid_kind"],
        columns["community_code"],
        columns["error"],
        strict=True,
    ):
        if code is None:
            append({"id": id_, "grid": None, "error": error})
            continue
        grid = grids.get(code)
        if grid is None:
            grid = grids[code] = {"code": code, "name": name, "kind": kind, "community_code": community}
        append({"id": id_, "grid": grid})
    return out


def lookup_batch(conn: Connection, items: Sequence[dict], crs: str | None = None, budget: bool = False) -> list[dict]:
    """``{"id", "grid"}`` or ``{"id", "grid": None, "error"}`` per item, in order; points in one query.

    An item is ``{"id", "lon", "lat"}`` or ``{"id", "address"}`` (coordinates win when both are given);
    a bad item gets an error, never fails the batch. With ``budget`` (the API), addresses (about 10 ms each)
    are bounded by ``GEOGRID_BATCH_ADDRESS_LIMIT`` and the whole batch by ``GEOGRID_BATCH_TIMEOUT`` (413).
    """
    settings = get_settings()
    if len(items) > settings.batch_limit:
        raise BatchTooLarge(settings.batch_limit, len(items))
    deadline = time.monotonic() + settings.batch_timeout_s if budget else math.inf
    if budget:
        _check_addresses(items, settings.batch_address_limit)
    results: list[dict] = [{"id": it.get("id"), "grid": None} for it in items]
    has_point = [it.get("lon") not in (None, "") or it.get("lat") not in (None, "") for it in items]
    points = [i for i, flag in enumerate(has_point) if flag]
    lon = np.array([_float(items[i].get("lon")) for i in points], dtype=float)
    lat = np.array([_float(items[i].get("lat")) for i in points], dtype=float)
    _, _, ok = to_storage(lon, lat, crs)
    invalid, outside = t("lon and lat must be finite numbers within ±180 and ±90"), t("no grid at this point")
    for i, grid, valid in zip(points, grids_at(conn, lon, lat, crs), ok.tolist(), strict=True):
        results[i]["grid"] = grid
        if not valid:
            results[i]["error"] = invalid  # each message translated once per batch, not per item
        elif grid is None:
            results[i]["error"] = outside
    for i, it in enumerate(items):
        if has_point[i]:
            continue
        if it.get("address") in (None, ""):
            results[i]["error"] = t("needs lon and lat, or address")
        else:
            if time.monotonic() > deadline:
                raise BatchTooLarge(settings.batch_timeout_s, len(items), timed_out=True)
            results[i].update(_address_item(conn, str(it["address"])))
    return results


def _check_addresses(items: Sequence[dict], limit: int) -> None:
    count = sum(
        1
        for it in items
        if it.get("lon") in (None, "") and it.get("lat") in (None, "") and it.get("address") not in (None, "")
    )
    if count > limit:
        exc = BatchTooLarge(limit, count)
        exc.args = (
            t(
                "batch of {count} addresses is over the limit of {limit} (GEOGRID_BATCH_ADDRESS_LIMIT); "
                "send points, or split the batch",
                count=count,
                limit=limit,
            ),
        )
        raise exc


def _address_item(conn: Connection, address: str) -> dict:
    try:
        answer = lookup_address(conn, address)
    except GeogridError as exc:
        return {"grid": None, "error": str(exc)}
    grid = dict(answer["grid"], community_code=(answer["community"] or {}).get("code"))
    return {
        "grid": grid,
        "match": answer["match"],
        "ambiguous": answer["ambiguous"],
        "candidates": [c["grid"]["code"] for c in answer["candidates"]],
    }


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class BatchTooLarge(GeogridError):
    """More items than ``GEOGRID_BATCH_LIMIT``: answered 413 with the limit."""

    status_code = 413

    def __init__(self, limit: float, count: int, timed_out: bool = False) -> None:
        super().__init__(
            t(
                "batch of {count} items took over its budget of {seconds} s (GEOGRID_BATCH_TIMEOUT); split the batch",
                count=count,
                seconds=limit,
            )
            if timed_out
            else t(
                "batch of {count} items is over the limit of {limit} (GEOGRID_BATCH_LIMIT)", count=count, limit=limit
            )
        )

        self.extra = {"limit": limit}


# The columns of a CSV of batch answers, one order for the API and the CLI.
CSV_COLUMNS = (
    "id",
    "grid_code",
    "grid_name",
    "grid_kind",
    "community_code",
    "match_address",
    "match_score",
    "error",
    "match_level",
    "ambiguous",
    "candidate_codes",
)


def csv_row(answer: dict) -> list:
    """One batch answer as a row of :data:`CSV_COLUMNS`."""
    g, m = answer.get("grid") or {}, answer.get("match") or {}
    return [
        answer.get("id"),
        g.get("code"),
        g.get("name"),
        g.get("kind"),
        g.get("community_code"),
        m.get("address"),
        m.get("score"),
        answer.get("error"),
        m.get("level"),
        answer.get("ambiguous"),
        " ".join(answer.get("candidates") or ()),
    ]
