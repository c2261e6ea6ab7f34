"""What the maps show, read from PostGIS: grids with their measures, facilities, service areas, buildings.

Every reader takes a :class:`Scope` (an area by code or name, or the whole city) and returns a DataFrame
with a Shapely ``geom`` column in WGS84; :mod:`maps.geojson` turns frames into compact GeoJSON.
Coverage means what ``geogrid.coverage.stats`` means: a building is covered when a stored service area
(of the minutes and mode asked, of a real facility, not a candidate) contains it; before ``geogrid compute``
has stored any, straight-line circles of the setting radius stand in. "households" sums
``buildings.households``. The maps use SQL scoped to the area so a community map never reads the city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.db.bulk import fetch_geoms, query_frame
from geogrid.errors import GeogridError, NotFound
from geogrid.i18n import t
from geogrid.settings import get_settings

MODES = ("auto", "circle", "network")
KIND = "(CAST(:kind AS text) IS NULL OR f.kind = :kind)"
METRES_PER_DEGREE = 111_320.0

SCOPED_GRIDS = """
SELECT g.id, g.code, g.name, g.kind, c.code AS community_code, c.name AS community_name, g.geom
FROM grids g
LEFT JOIN admin_areas c ON c.id = g.community_id
LEFT JOIN admin_areas s ON s.id = c.parent_id
LEFT JOIN admin_areas d ON d.id = s.parent_id
WHERE g.valid_to IS NULL
  AND (CAST(:area AS text) IS NULL OR :area IN (c.code, c.name, s.code, s.name, d.code, d.name))
"""


@dataclass(frozen=True)
class Scope:
    """Which grids a map shows and which service circle it measures coverage by."""

    area: str | None = None  # district, street or community, by code or name; None = the whole city
    mode: str = "auto"  # circle | network | auto (network when computed, else circle)
    minutes: int = 5
    kind: str | None = None  # one facility kind, or every kind

    def params(self) -> dict:
        return {"area": self.area, "minutes": self.minutes, "kind": self.kind}


def check_scope(conn: Connection, scope: Scope) -> Scope:
    """Validate a scope against the database; ``auto`` mode resolves to ``network`` or ``circle``."""
    from geogrid.model import FACILITY_KINDS

    if scope.kind is not None and scope.kind not in FACILITY_KINDS:
        raise GeogridError(t("unknown facility kind '{kind}': use one of {kinds}", kind=scope.kind,
                             kinds=FACILITY_KINDS))
    if scope.mode not in MODES:
        raise GeogridError(t("mode '{mode}' is not one of {modes}", mode=scope.mode, modes=list(MODES)))
    radii = get_settings().circle_radius_m
    if scope.minutes not in radii:
        raise GeogridError(t("minutes={minutes}: choose one of {circles}", minutes=scope.minutes,
                             circles=[str(m) for m in sorted(radii)]))
    if scope.area is not None:
        found = conn.scalar(text("SELECT 1 FROM admin_areas WHERE :a IN (code, name) LIMIT 1"), {"a": scope.area})
        if not found:
            raise NotFound(t("no district, street or community with code or name '{area}'", area=scope.area))
    network = conn.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM service_areas WHERE mode = 'network' AND minutes = :m)"
    ), {"m": scope.minutes})
    if scope.mode == "network" and not network:
        raise GeogridError(t("no walking-network service areas for {minutes} minutes: run `geogrid compute`",
                             minutes=scope.minutes))
    mode = scope.mode if scope.mode != "auto" else ("network" if network else "circle")
    return Scope(scope.area, mode, scope.minutes, scope.kind)


def _stored(conn: Connection, scope: Scope) -> bool:
    """True when ``geogrid compute`` has stored service areas for this circle and mode."""
    return bool(conn.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM service_areas WHERE mode = :mode AND minutes = :m)"
    ), {"mode": scope.mode, "m": scope.minutes}))


GRIDS_SQL = """
WITH sg AS ({scoped}),
pm AS (
    SELECT a.grid_id, count(*) AS party_members
    FROM residents r JOIN building_assignments a ON a.building_id = r.building_id
    WHERE r.party_member AND a.grid_id IN (SELECT id FROM sg) GROUP BY a.grid_id
), wk AS (
    SELECT sa.grid_id, string_agg(DISTINCT st.name, '、') AS worker
    FROM staff_assignments sa JOIN staff st ON st.id = sa.staff_id
    WHERE sa.role = 'full_time_worker' AND sa.grid_id IN (SELECT id FROM sg) GROUP BY sa.grid_id
)
SELECT sg.id, sg.code, sg.name, sg.kind, sg.community_code, sg.community_name, coalesce(wk.worker, '') AS worker,
       coalesce(pm.party_members, 0) AS party_members, ST_AsBinary(sg.geom) AS geom
FROM sg LEFT JOIN pm ON pm.grid_id = sg.id LEFT JOIN wk ON wk.grid_id = sg.id
ORDER BY sg.code
"""

BUILDINGS_SQL = """
SELECT b.id, ST_X(b.geom), ST_Y(b.geom), b.households, a.grid_id, {address}
FROM building_assignments a JOIN buildings b ON b.id = a.building_id
WHERE a.grid_id IN (SELECT id FROM ({scoped}) sg) {where}
"""


COLUMN_TYPES = {"id": "int64", "x": "float64", "y": "float64", "households": "int64", "grid_id": "float64",
                "address": "object"}


def _copy_out(conn: Connection, sql: str, params: dict, names: list[str]) -> pd.DataFrame:
    """Stream a query with COPY (CSV) into a DataFrame: many times faster than row fetching at 1M rows."""
    import io

    from psycopg import sql as psql

    raw = conn.connection.driver_connection
    rendered = sql
    for key in sorted(params, key=len, reverse=True):
        rendered = rendered.replace(f":{key}", psql.Literal(params[key]).as_string(raw))
    buf = io.BytesIO()
    with raw.cursor().copy(f"COPY ({rendered}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buf.write(block)
    buf.seek(0)
    frame = pd.read_csv(buf, header=None, names=names, keep_default_na=False, na_values={"grid_id": [""]})
    return frame.astype({k: v for k, v in COLUMN_TYPES.items() if k in frame})  # typed even when empty


PACKED_SQL = """
SELECT string_agg({fields}, ''::bytea)
FROM building_assignments a JOIN buildings b ON b.id = a.building_id
WHERE a.grid_id IN (SELECT id FROM ({scoped}) sg) {where}
"""
PACKED_FIELDS = {"id": ("int8send(b.id)", ">i8"), "x": ("float8send(ST_X(b.geom))", ">f8"),
                 "y": ("float8send(ST_Y(b.geom))", ">f8"), "households": ("int4send(b.households)", ">i4"),
                 "grid_id": ("int4send(a.grid_id)", ">i4")}
POINT_FIELDS = ("id", "x", "y", "households", "grid_id")
COUNT_FIELDS = ("id", "households", "grid_id")  # no coordinates: a third less work for PostgreSQL


def _packed_points(conn: Connection, scope: Scope, where: str, params: dict,
                   fields: tuple[str, ...] = POINT_FIELDS) -> pd.DataFrame:
    """Buildings as one packed binary value: a million rows arrive in one field instead of a million rows."""
    sql = PACKED_SQL.format(fields=" || ".join(PACKED_FIELDS[f][0] for f in fields), scoped=SCOPED_GRIDS,
                            where=where)
    blob = conn.scalar(text(sql), {"area": scope.area, **params})
    rows = np.frombuffer(blob or b"", dtype=np.dtype([(f, PACKED_FIELDS[f][1]) for f in fields]))
    return pd.DataFrame({name: rows[name].astype(rows.dtype[name].newbyteorder("=")) for name in fields})


def building_points(conn: Connection, scope: Scope, *, grid: str | None = None,
                    with_address: bool = False) -> pd.DataFrame:
    """Assigned buildings of the scope (or one grid): ``id, x, y, households, grid_id[, address]``, covered or not.

    Coverage is what ``geogrid compute`` stored per building (:mod:`geogrid.coverage.covered`), the same
    answer the coverage API gives; when that is stale, or no service areas are stored and circles stand in,
    buildings are tested in memory against :func:`service_areas` with the same Shapely test.
    """
    from geogrid.coverage.covered import covered_column

    where = "AND a.grid_id = (SELECT id FROM grids WHERE code = :grid AND valid_to IS NULL)" if grid else ""
    params = {"grid": grid} if grid else {}
    if with_address:
        sql = BUILDINGS_SQL.format(scoped=SCOPED_GRIDS, where=where, address="coalesce(b.address, b.name, '')")
        if scope.area is None:
            sql = sql.replace(":area", "NULL")
        area = {"area": scope.area} if scope.area is not None else {}
        frame = _copy_out(conn, sql, {**area, **params}, ["id", "x", "y", "households", "grid_id", "address"])
    else:
        frame = _packed_points(conn, scope, where, params)
    frame["covered"] = covered_column(conn, frame, scope.mode, scope.minutes, scope.kind,
                                      lambda: service_areas(conn, scope)["geom"].to_numpy(),
                                      use_stored=_stored(conn, scope))
    return frame


def _grid_measure_rows(conn: Connection, scope: Scope) -> pd.DataFrame:
    """``id, households, grid_id, covered`` of the scope's assigned buildings, for per-grid measures.

    Stored coverage needs no coordinates; only when it is stale are the points read and tested.
    """
    from geogrid.coverage.covered import has_stored, stored_covered

    if _stored(conn, scope) and has_stored(conn):
        frame = _packed_points(conn, scope, "", {}, COUNT_FIELDS)
        covered = stored_covered(conn, frame["id"].to_numpy(), scope.mode, scope.minutes, scope.kind)
        if covered is not None:
            return frame.assign(covered=covered)
    return building_points(conn, scope)


def grid_count(conn: Connection, scope: Scope) -> int:
    return conn.scalar(text(f"SELECT count(*) FROM ({SCOPED_GRIDS}) sg"), {"area": scope.area})


def grids(conn: Connection, scope: Scope) -> pd.DataFrame:
    """One row per grid in force in the scope, with households, coverage share, party members and worker."""
    frame = fetch_geoms(conn, GRIDS_SQL.format(scoped=SCOPED_GRIDS), scope.params())
    if frame.empty:
        return frame
    b = _grid_measure_rows(conn, scope)
    b["covered_households"] = b["households"].where(b["covered"], 0)
    per_grid = b.groupby("grid_id").agg(buildings=("id", "size"), households=("households", "sum"),
                                        covered_households=("covered_households", "sum"))
    frame = frame.merge(per_grid, left_on="id", right_index=True, how="left")
    frame[list(per_grid.columns)] = frame[list(per_grid.columns)].fillna(0).astype("int64")
    hh = frame["households"].astype(float)
    frame["coverage"] = (frame["covered_households"] / hh.where(hh > 0)).round(3)
    return frame


def _extent_filter(column: str) -> str:
    """Keep rows near the scope's grids (a facility just outside still serves residents inside)."""
    return (f"(CAST(:area AS text) IS NULL OR ST_DWithin({column}, "
            f"(SELECT ST_Collect(ST_Envelope(sg.geom)) FROM ({SCOPED_GRIDS}) sg), :near))")


def facilities(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Facilities in or near the scope: the stations whose circles the map draws."""
    sql = (f"SELECT f.id, f.name, f.kind, f.circle_minutes, f.candidate, coalesce(f.address, '') AS address, "
           f"ST_AsBinary(f.geom) FROM facilities f WHERE {_extent_filter('f.geom')} ORDER BY f.id")
    return fetch_geoms(conn, sql, {**scope.params(), "near": _near_degrees()})


def service_areas(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The service areas that define coverage: stored ones, else straight-line circles of the setting radius."""
    near = _extent_filter("f.geom")
    if _stored(conn, scope):
        sql = (f"SELECT f.id, f.name, f.kind, sa.minutes, sa.mode, ST_AsBinary(sa.geom) FROM service_areas sa "
               f"JOIN facilities f ON f.id = sa.facility_id WHERE sa.mode = :mode AND sa.minutes = :minutes "
               f"AND NOT f.candidate AND {KIND} AND {near} ORDER BY f.id")
        params = {"mode": scope.mode}
    else:
        sql = (f"SELECT f.id, f.name, f.kind, :minutes AS minutes, 'circle' AS mode, "
               f"ST_AsBinary(ST_Buffer(f.geom::geography, :radius, 'quad_segs=8')::geometry) FROM facilities f "
               f"WHERE NOT f.candidate AND f.circle_minutes <= :minutes AND {KIND} AND {near} ORDER BY f.id")
        params = {"radius": get_settings().circle_radius_m[scope.minutes]}
    return fetch_geoms(conn, sql, {**scope.params(), **params, "near": _near_degrees()})


def buildings(conn: Connection, scope: Scope, *, uncovered_only: bool = True, grid: str | None = None,
              ) -> pd.DataFrame:
    """Buildings of the scope (or one grid) with coverage, grid code and a point; by default the uncovered."""
    import shapely

    frame = building_points(conn, scope, grid=grid, with_address=True)
    if uncovered_only:
        frame = frame[~frame["covered"] & (frame["households"] > 0)]
    codes = dict(conn.execute(text("SELECT id, code FROM grids WHERE id = ANY(:ids)"),
                              {"ids": [int(i) for i in frame["grid_id"].unique()]}).all())
    frame = frame.assign(grid_code=frame["grid_id"].map(codes), geom=shapely.points(frame["x"], frame["y"]))
    return frame.sort_values("id").reset_index(drop=True)


def grid_info(conn: Connection, code: str) -> dict:
    """The grid in force with this code and its community code, or :class:`NotFound`."""
    row = conn.execute(text(
        "SELECT g.code, g.name, c.code AS community FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id "
        "WHERE g.code = :code AND g.valid_to IS NULL"
    ), {"code": code}).mappings().first()
    if row is None:
        raise NotFound(t("no grid in force with code '{code}'", code=code))

    return dict(row)


def areas(conn: Connection) -> pd.DataFrame:
    """Streets and communities with their grid counts, for the index of maps."""
    return query_frame(
        conn,
        "SELECT a.code, a.name, a.level, p.code AS parent_code, "
        "(SELECT count(*) FROM grids g WHERE g.community_id = a.id AND g.valid_to IS NULL) AS grids "
        "FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id ORDER BY a.code"
    )


def grid_list(conn: Connection) -> pd.DataFrame:
    return query_frame(
        conn,
        "SELECT g.code, g.name, c.code AS community_code FROM grids g "
        "LEFT JOIN admin_areas c ON c.id = g.community_id WHERE g.valid_to IS NULL ORDER BY g.code"
    )


def _near_degrees() -> float:
    return max(get_settings().circle_radius_m.values()) / 50_000.0
