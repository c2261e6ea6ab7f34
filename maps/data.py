"""What the maps show, read from PostGIS: grids with their measures, facilities, service areas, buildings.

Every reader takes a :class:`Scope` (an area by code or name, or the whole city) and returns a DataFrame
with a Shapely ``geom`` column in WGS84; :mod:`maps.geojson` turns frames into compact GeoJSON.
Coverage means what ``geogrid.coverage.stats`` means: a building is covered when a stored service area
(of the minutes and mode asked, of a real facility, not a candidate) contains it; before ``geogrid compute``
has stored any, straight-line circles of the setting radius stand in. "households" sums
``buildings.households``. The maps use SQL scoped to the area so a community map never reads the city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text

from geogrid.accounts.privacy import suppress
from geogrid.codes import codes_by_id
from geogrid.coverage.stats import check_circle, network_computed
from geogrid.db.bulk import fetch_geoms, fetch_packed, query_frame
from geogrid.errors import GeogridError, NotFound
from geogrid.figures import coverage_by_grid, grid_figures_sql, share
from geogrid.i18n import t
from geogrid.model import SPECIAL_GROUPS
from geogrid.scope import CITY, resolve_scope
from geogrid.scope import Scope as Place
from geogrid.settings import get_settings

KIND = "(CAST(:kind AS text) IS NULL OR f.kind = :kind)"
METRES_PER_DEGREE = 111_320.0

SCOPED_GRIDS = """
SELECT g.id, g.code, g.name, g.kind, c.code AS community_code, c.name AS community_name, g.geom
FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id
WHERE g.valid_to IS NULL AND (CAST(:scope_all AS boolean) OR g.id = ANY(CAST(:scope_grids AS int[])))
"""


@dataclass(frozen=True)
class Scope:
    """Which grids a map shows and which service circle it measures coverage by.

    ``place`` is the area resolved by :func:`check_scope` (:class:`geogrid.scope.Scope`); it is not part of
    the scope's identity (cache keys), which the four fields the user chose already fix.
    """

    area: str | None = None  # district, street, community or grid, by code or name; None = the whole city
    mode: str = "auto"  # circle | network | auto (network when computed, else circle)
    minutes: int = 5
    kind: str | None = None  # one facility kind, or every kind
    place: Place = field(default=CITY, compare=False, repr=False)

    def params(self) -> dict:
        return {"minutes": self.minutes, "kind": self.kind, **self.place.params()}


def check_scope(conn: Connection, scope: Scope) -> Scope:
    """Validate a scope against the database (the checks the coverage API makes); resolve its area and mode."""
    check_circle(scope.minutes, scope.mode, scope.kind)
    place = resolve_scope(conn, scope.area)
    network = network_computed(conn, scope.minutes)
    if scope.mode == "network" and not network:
        raise GeogridError(
            t("no walking-network service areas for {minutes} minutes: run `geogrid compute`", minutes=scope.minutes)
        )
    mode = scope.mode if scope.mode != "auto" else ("network" if network else "circle")
    return Scope(scope.area, mode, scope.minutes, scope.kind, place)


def _stored(conn: Connection, scope: Scope) -> bool:
    """True when ``geogrid compute`` has stored service areas for this circle and mode."""
    return bool(
        conn.scalar(
            text("SELECT EXISTS (SELECT 1 FROM service_areas WHERE mode = :mode AND minutes = :m)"),
            {"mode": scope.mode, "m": scope.minutes},
        )
    )


GRIDS_SQL = f"""
SELECT f.grid_id AS id, f.code, f.name, f.kind, f.community_code, f.community_name,
       coalesce(wk.worker, '') AS worker, f.party_members, f.buildings, f.households,
       {", ".join(f"f.{g}" for g in SPECIAL_GROUPS)}, ST_AsBinary(g.geom) AS geom
FROM ({{figures}}) f JOIN grids g ON g.id = f.grid_id
LEFT JOIN (SELECT sa.grid_id, string_agg(DISTINCT st.name, '、') AS worker
             FROM staff_assignments sa JOIN staff st ON st.id = sa.staff_id
            WHERE sa.role = 'full_time_worker' AND sa.end_date IS NULL GROUP BY sa.grid_id) wk ON wk.grid_id = f.grid_id
ORDER BY f.code
"""

BUILDINGS_SQL = """
SELECT b.id, ST_X(b.geom), ST_Y(b.geom), b.households, a.grid_id, {address}
FROM building_assignments a JOIN buildings b ON b.id = a.building_id
WHERE a.grid_id IN (SELECT id FROM ({scoped}) sg) {where}
"""


COLUMN_TYPES = {
    "id": "int64",
    "x": "float64",
    "y": "float64",
    "households": "int64",
    "grid_id": "float64",
    "address": "object",
}


def _copy_out(conn: Connection, sql: str, params: dict, names: list[str]) -> pd.DataFrame:
    """Stream a query with COPY (CSV) into a DataFrame: many times faster than row fetching at 1M rows."""
    import io

    from psycopg import sql as psql

    raw = conn.connection.driver_connection
    assert raw is not None  # a live psycopg connection (SQLAlchemy types it Optional)
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


PACKED_FROM = """
FROM building_assignments a JOIN buildings b ON b.id = a.building_id
WHERE a.grid_id IN (SELECT id FROM ({scoped}) sg) {where}
"""
PACKED_FIELDS = {
    "id": ("int8send(b.id)", ">i8"),
    "x": ("float8send(ST_X(b.geom))", ">f8"),
    "y": ("float8send(ST_Y(b.geom))", ">f8"),
    "households": ("int4send(coalesce(b.households, 0))", ">i4"),
    "grid_id": ("int4send(a.grid_id)", ">i4"),
}
POINT_FIELDS = ("id", "x", "y", "households", "grid_id")
COUNT_FIELDS = ("id", "households", "grid_id")  # no coordinates: a third less work for PostgreSQL


def _packed_points(
    conn: Connection, scope: Scope, where: str, params: dict, fields: tuple[str, ...] = POINT_FIELDS
) -> pd.DataFrame:
    """Buildings as one packed binary value (:func:`geogrid.db.bulk.fetch_packed`)."""
    return fetch_packed(
        conn,
        {f: PACKED_FIELDS[f] for f in fields},
        PACKED_FROM.format(scoped=SCOPED_GRIDS, where=where),
        {**scope.place.params(), **params},
    )


def building_points(
    conn: Connection, scope: Scope, *, grid: str | None = None, with_address: bool = False
) -> pd.DataFrame:
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
        frame = _copy_out(
            conn, sql, {**scope.place.params(), **params}, ["id", "x", "y", "households", "grid_id", "address"]
        )
    else:
        frame = _packed_points(conn, scope, where, params)
    frame["covered"] = covered_column(
        conn,
        frame,
        scope.mode,
        scope.minutes,
        scope.kind,
        lambda: service_areas(conn, scope)["geom"].to_numpy(),
        use_stored=_stored(conn, scope),
    )
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
    return (
        len(scope.place.grid_ids)
        if scope.place.grid_ids is not None
        else int(conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL")))
    )


def grids(conn: Connection, scope: Scope) -> pd.DataFrame:
    """One row per grid in force in the scope, with its figures (:mod:`geogrid.figures`), coverage share and worker."""
    figures = grid_figures_sql(f"g.valid_to IS NULL AND {scope.place.where()}")
    frame = fetch_geoms(conn, GRIDS_SQL.format(figures=figures), scope.params())
    if frame.empty:
        return frame
    covered = coverage_by_grid(_grid_measure_rows(conn, scope))["households_covered"]
    frame["covered_households"] = frame["id"].map(covered).fillna(0).astype("int64")
    frame["coverage"] = share(frame["covered_households"], frame["households"])
    frame["special"] = special_counts(frame)
    return frame


def special_counts(frame: pd.DataFrame) -> list[dict[str, int | None]]:
    """Each grid's ledger counts per special group, as a map popup may show them: counts only (no names), the
    groups present, and a count from 1 to ``GEOGRID_SUPPRESS_BELOW`` - 1 None (maps are public and cached for
    everyone, so they take the public form of :func:`geogrid.accounts.privacy.suppress`)."""
    rows = frame[list(SPECIAL_GROUPS)].to_dict("records")
    below = get_settings().suppress_below
    for row in rows:
        suppress(row, below)
        row.pop("suppressed", None)
    return [{g: n for g, n in row.items() if n != 0} for row in rows]


def _extent_filter(column: str) -> str:
    """Keep rows near the scope's grids (a facility just outside still serves residents inside)."""
    return (
        f"(CAST(:scope_all AS boolean) OR ST_DWithin({column}, "
        f"(SELECT ST_Collect(ST_Envelope(sg.geom)) FROM ({SCOPED_GRIDS}) sg), :near))"
    )


def facilities(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Facilities in or near the scope: the stations whose circles the map draws."""
    sql = (
        f"SELECT f.id, f.name, f.kind, f.circle_minutes, f.candidate, coalesce(f.address, '') AS address, "
        f"ST_AsBinary(f.geom) FROM facilities f WHERE {_extent_filter('f.geom')} ORDER BY f.id"
    )
    return fetch_geoms(conn, sql, {**scope.params(), "near": _near_degrees()})


def service_areas(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The service areas that define coverage: stored ones, else straight-line circles of the setting radius."""
    near = _extent_filter("f.geom")
    if _stored(conn, scope):
        sql = (
            f"SELECT f.id, f.name, f.kind, sa.minutes, sa.mode, ST_AsBinary(sa.geom) FROM service_areas sa "
            f"JOIN facilities f ON f.id = sa.facility_id WHERE sa.mode = :mode AND sa.minutes = :minutes "
            f"AND NOT f.candidate AND {KIND} AND {near} ORDER BY f.id"
        )
        params: dict[str, object] = {"mode": scope.mode}
    else:
        sql = (
            f"SELECT f.id, f.name, f.kind, :minutes AS minutes, 'circle' AS mode, "
            f"ST_AsBinary(ST_Buffer(f.geom::geography, :radius, 'quad_segs=8')::geometry) FROM facilities f "
            f"WHERE NOT f.candidate AND f.circle_minutes <= :minutes AND {KIND} AND {near} ORDER BY f.id"
        )
        params = {"radius": get_settings().circle_radius_m[scope.minutes]}
    return fetch_geoms(conn, sql, {**scope.params(), **params, "near": _near_degrees()})


def buildings(
    conn: Connection,
    scope: Scope,
    *,
    uncovered_only: bool = True,
    grid: str | None = None,
) -> pd.DataFrame:
    """Buildings of the scope (or one grid) with coverage, grid code and a point; by default the uncovered."""
    import shapely

    frame = building_points(conn, scope, grid=grid, with_address=True)
    if uncovered_only:
        frame = frame[~frame["covered"] & (frame["households"] > 0)]
    codes = codes_by_id(conn, list(frame["grid_id"].unique()))
    frame = frame.assign(grid_code=frame["grid_id"].map(codes), geom=shapely.points(frame["x"], frame["y"]))
    return frame.sort_values("id").reset_index(drop=True)


def grid_info(conn: Connection, code: str) -> dict:
    """The grid in force with this code and its community code, or :class:`NotFound`."""
    row = (
        conn.execute(
            text(
                "SELECT g.code, g.name, c.code AS community FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id "
                "WHERE g.code = :code AND g.valid_to IS NULL"
            ),
            {"code": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(t("no grid in force with code '{code}'", code=code))

    return dict(row)


def areas(conn: Connection) -> pd.DataFrame:
    """Streets and communities with their grid counts, for the index of maps."""
    return query_frame(
        conn,
        "SELECT a.code, a.name, a.level, p.code AS parent_code, "
        "(SELECT count(*) FROM grids g WHERE g.community_id = a.id AND g.valid_to IS NULL) AS grids "
        "FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id ORDER BY a.code",
    )


def grid_list(conn: Connection) -> pd.DataFrame:
    return query_frame(
        conn,
        "SELECT g.code, g.name, c.code AS community_code FROM grids g "
        "LEFT JOIN admin_areas c ON c.id = g.community_id WHERE g.valid_to IS NULL ORDER BY g.code",
    )


def _near_degrees() -> float:
    return max(get_settings().circle_radius_m.values()) / 50_000.0
