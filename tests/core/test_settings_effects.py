"""Each setting the README lists, changed once, with its effect checked on the planning city."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from geogrid.coverage.compute import compute_service_areas
from geogrid.crs import metric_epsg
from geogrid.lookup import lookup_point
from geogrid.planning.apply import apply_plan
from geogrid.planning.preview import create_plan
from geogrid.planning.validate import validate
from tests.fixtures.planning_city import C1, A, B, D, M


def _band_grids(conn) -> set[str]:
    return {p["grids"][0] for p in validate(conn) if p["rule"] == "household_band"}


def test_household_bands_decide_which_grids_are_out_of_band(planning_city, settings_env):
    with planning_city.connect() as conn:
        assert _band_grids(conn) == set()  # A 435, B 460, M 420 households: inside 300–500
        settings_env("GEOGRID_HOUSEHOLD_BANDS", "basic:440-500,dedicated:0-5")
        assert _band_grids(conn) == {A, M, D}  # 435 and 420 under 440; the dedicated grid's 10 over 5


def test_grid_code_template_of_14_digits_numbers_new_grids(planning_city, settings_env):
    settings_env("GEOGRID_GRID_CODE_TEMPLATE", "{community_code}{seq:02d}")
    line = {"type": "LineString", "coordinates": [[116.315, 39.899], [116.315, 39.911]]}
    with planning_city.begin() as conn:
        plan = create_plan(conn, [{"op": "split", "grid": B, "line": line}], author="test")
        apply_plan(conn, plan["plan"], "test", True, "test: split into two halves")
    with planning_city.connect() as conn:
        codes = sorted(
            conn.scalars(text("SELECT code FROM grids WHERE valid_to IS NULL AND code LIKE :p"), {"p": f"{C1}%"})
        )
    fresh = [c for c in codes if c not in (A, B, D)]
    assert len(fresh) == 2 and all(len(c) == 14 and c.startswith(C1) for c in fresh), codes


def test_walk_speed_scales_walking_minutes(planning_city, settings_env):
    with planning_city.connect() as conn:
        settings_env("GEOGRID_WALK_SPEED", "60")
        fast = lookup_point(conn, 116.312, 39.903)["nearest_station"]
        settings_env("GEOGRID_WALK_SPEED", "30")
        slow = lookup_point(conn, 116.312, 39.903)["nearest_station"]
    assert fast is not None and fast["walk_minutes"] > 0
    assert slow["walk_minutes"] == pytest.approx(2 * fast["walk_minutes"], abs=0.11)


def test_circle_radii_set_the_size_of_service_circles(planning_city, settings_env):
    def area(conn) -> float:
        compute_service_areas(conn, ("circle",))
        return conn.scalar(
            text("SELECT sum(ST_Area(geom::geography)) FROM service_areas WHERE mode = 'circle' AND minutes = 5")
        )

    with planning_city.begin() as conn:
        settings_env("GEOGRID_CIRCLE_RADII", "5:300,10:500,15:1000")
        wide = area(conn)
        settings_env("GEOGRID_CIRCLE_RADII", "5:150,10:500,15:1000")
        narrow = area(conn)
        conn.rollback()
    assert narrow > 0
    assert wide / narrow == pytest.approx(4.0, rel=0.02)


def test_metric_crs_names_the_projection_for_metres(demo_city, database, settings_env):
    """The walking network is measured in the CRS set: its node spacing there is the geodesic one (pyproj)."""
    import numpy as np
    from pyproj import Geod

    from geogrid.network import load_graph

    assert metric_epsg(116.3, 39.9) == 32650  # UTM zone 50N by default
    settings_env("GEOGRID_METRIC_CRS", "EPSG:4547")  # CGCS2000 3-degree Gauss–Krüger CM 114E
    assert metric_epsg(116.3, 39.9) == 4547
    with database.connect() as conn:
        graph = load_graph(conn)
        lonlat = np.array(conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM walk_nodes ORDER BY id")).all())
    assert graph.epsg == 4547 and 400_000 < graph.xy[:, 0].mean() < 800_000  # Gauss–Krüger eastings
    a, b = graph.u, graph.v
    drawn = np.hypot(*(graph.xy[a] - graph.xy[b]).T)
    geodesic = Geod(ellps="GRS80").inv(lonlat[a, 0], lonlat[a, 1], lonlat[b, 0], lonlat[b, 1])[2]
    assert len(a) > 0 and np.allclose(drawn, geodesic, rtol=2e-3)


def test_min_compactness_flags_long_thin_grids(planning_city, settings_env):
    """B is 0.01° × 0.01° (about 855 m × 1,111 m): Polsby–Popper about 0.78, flagged only above that floor."""
    with planning_city.connect() as conn:
        settings_env("GEOGRID_MIN_COMPACTNESS", "0.5")
        low = {p["grids"][0] for p in validate(conn) if p["rule"] == "non_compact"}
        settings_env("GEOGRID_MIN_COMPACTNESS", "0.8")
        high = {p["grids"][0] for p in validate(conn) if p["rule"] == "non_compact"}
    assert B not in low and B in high


def test_max_grids_per_worker_decides_who_covers_too_many(street, settings_env):
    from geogrid.rosters import NewAssignment, NewStaff, assign, create_staff

    with street.begin() as conn:
        worker = create_staff(conn, NewStaff(name="张三")).id
        for code in ("G1", "G2"):
            assign(conn, worker, NewAssignment(grid_code=code, role="full_time_worker"))

        def flagged() -> list[list[str]]:
            return [p["grids"] for p in validate(conn) if p["rule"] == "worker_too_many_grids"]

        assert flagged() == [["G1", "G2"]]  # default: one grid per full-time worker (一人一格)
        settings_env("GEOGRID_MAX_GRIDS_PER_WORKER", "2")
        assert flagged() == []


def test_household_estimate_settings(empty_db, settings_env):
    """Footprint × storeys × residential share ÷ dwelling size, each factor a setting; the footprint's area is
    measured here with pyproj's geodesic area, not PostGIS."""
    import pandas as pd
    import shapely
    from pyproj import Geod

    from geogrid.partition.households import store_estimates

    square = shapely.box(116.3000, 39.9000, 116.3004, 39.9003)  # about 34 m × 33 m
    m2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(square)[0])
    with empty_db.begin() as conn:
        for sid in ("flats", "tagged_yes"):
            conn.execute(
                text(
                    "INSERT INTO buildings (source_id, households, geom, footprint) VALUES (:s, 0, "
                    "ST_Centroid(ST_GeomFromText(:w, 4326)), ST_Multi(ST_GeomFromText(:w, 4326)))"
                ),
                {"s": sid, "w": square.wkt},
            )
    frame = pd.DataFrame({"source_id": ["flats", "tagged_yes"], "building": ["apartments", "yes"]})

    def estimates() -> dict[str, int]:
        with empty_db.begin() as conn:
            store_estimates(conn, frame)
            return dict(conn.execute(text("SELECT source_id, households FROM buildings")).all())

    assert estimates() == {"flats": round(m2 * 6 / 90), "tagged_yes": round(m2 * 6 * 0.6 / 90)}  # the defaults
    settings_env("GEOGRID_DWELLING_M2", "60")
    settings_env("GEOGRID_DEFAULT_LEVELS", "10")
    settings_env("GEOGRID_RESIDENTIAL_SHARE", "apartments:0.5,yes:0,*:0")
    assert estimates() == {"flats": round(m2 * 10 * 0.5 / 60), "tagged_yes": 0}


def test_session_hours_and_cors_origins(empty_db, settings_env):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_account

    settings_env("GEOGRID_SESSION_HOURS", "2")
    settings_env("GEOGRID_CORS_ORIGINS", "https://portal.example.gov.cn")
    name, _ = make_account(empty_db, "viewer", password="correct horse battery")
    with TestClient(create_app()) as client:
        signed = client.post("/login", json={"name": name, "password": "correct horse battery"})
        assert signed.status_code == 200, signed.text
        assert "Max-Age=7200" in signed.headers["set-cookie"]
        preflight = client.options(
            "/grids",
            headers={"Origin": "https://portal.example.gov.cn", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers.get("access-control-allow-origin") == "https://portal.example.gov.cn"
        other = client.get("/health", headers={"Origin": "https://elsewhere.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_area_tolerance_decides_which_overlaps_are_reported(planning_city, settings_env):
    """B grown by a sliver inside A (its area measured here with pyproj): reported above the tolerance only."""
    import shapely
    from pyproj import Geod

    sliver = shapely.box(116.3099, 39.9050, 116.3100, 39.9051)
    m2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(sliver)[0])
    with planning_city.begin() as conn:
        conn.execute(
            text("UPDATE grids SET geom = ST_Multi(ST_Union(geom, ST_GeomFromText(:w, 4326))) WHERE code = :b"),
            {"w": sliver.wkt, "b": B},
        )

        def overlaps() -> list[float]:
            return [p["value"] for p in validate(conn) if p["rule"] == "overlap"]

        settings_env("GEOGRID_AREA_TOLERANCE_M2", "1")
        found = overlaps()
        settings_env("GEOGRID_AREA_TOLERANCE_M2", str(round(m2 * 2)))
        above = overlaps()
        conn.rollback()
    assert len(found) == 1 and found[0] == pytest.approx(m2, rel=0.01)
    assert above == []


def test_cookie_secure_always_marks_cookies_secure_over_plain_http(empty_db, settings_env):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_account

    name, _ = make_account(empty_db, "viewer", password="correct horse battery")
    with TestClient(create_app()) as client:
        plain = client.post("/login", json={"name": name, "password": "correct horse battery"})
        settings_env("GEOGRID_COOKIE_SECURE", "always")
        secure = client.post("/login", json={"name": name, "password": "correct horse battery"})
    assert "secure" not in plain.headers["set-cookie"].lower()  # auto: plain http gets no Secure flag
    assert all("secure" in c.lower() for c in secure.headers.get_list("set-cookie"))


def test_move_buffer_sets_the_area_a_building_without_footprint_takes(planning_city, settings_env):
    """b4 (a point, no footprint) moved from B to A: A gains a square of twice the buffer around it (drawn and
    measured here in UTM metres with pyproj); a 300 m buffer also takes b5, 256 m east and 221 m north of it."""
    import shapely
    from pyproj import Transformer

    from tests.fixtures import planning_city as pc

    to_m = Transformer.from_crs(4326, 32650, always_xy=True)

    def metres(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))

    a_before = metres(pc.GRIDS[A][2])
    x, y = to_m.transform(116.312, 39.903)

    def expected_gain(half: float) -> float:
        return shapely.difference(shapely.box(x - half, y - half, x + half, y + half), a_before).area

    with planning_city.connect() as conn:
        b4 = conn.scalar(text("SELECT id FROM buildings WHERE source_id = 'b4'"))

    def moved_and_gained() -> tuple[set[str], float]:
        with planning_city.begin() as conn:
            plan = create_plan(conn, [{"op": "move_buildings", "buildings": [b4], "to": A}], author="test")
            conn.rollback()
        after = next(f for f in plan["preview"]["geometry"]["after"]["features"] if f["properties"]["code"] == A)
        grown = metres(shapely.geometry.shape(after["geometry"])).area - a_before.area
        return {b["source_id"] for b in plan["preview"]["moved"]["buildings"]}, grown

    moved, gained = moved_and_gained()
    assert moved == {"b4"} and gained == pytest.approx(expected_gain(3), rel=0.02)  # the default: a 6 m square
    settings_env("GEOGRID_MOVE_BUFFER_M", "300")
    moved, gained = moved_and_gained()
    assert moved == {"b4", "b5"} and gained == pytest.approx(expected_gain(300), rel=0.02)


def test_problem_max_points_bounds_the_points_of_one_problem(planning_city, settings_env):
    """Five buildings east of every grid: one problem counting five, located by at most N of them."""
    from geogrid.assign import assign_all

    with planning_city.begin() as conn:
        for i in range(5):
            conn.execute(
                text(
                    "INSERT INTO buildings (source_id, households, geom) "
                    "VALUES (:s, 10, ST_SetSRID(ST_MakePoint(:x, 39.905), 4326))"
                ),
                {"s": f"lost{i}", "x": 116.345 + i * 0.001},
            )
        assign_all(conn)

        def lost() -> tuple[float, int]:
            (problem,) = [p for p in validate(conn) if p["rule"] == "building_in_no_grid"]
            return problem["value"], len(problem["location"]["coordinates"])

        assert lost() == (5, 5)  # the default 500
        settings_env("GEOGRID_PROBLEM_MAX_POINTS", "2")
        assert lost() == (5, 2)
        conn.rollback()
