"""Point, address and batch lookup on real PostGIS, checked against Shapely on the same polygons."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from api.schemas import PointAnswer
from geogrid import crs
from geogrid.errors import GeogridError, NotFound
from geogrid.i18n import t
from geogrid.lookup import BatchTooLarge, grids_at, lookup_address, lookup_batch, lookup_point
from tests.fixtures.lookup_city import expected_code


def test_every_answer_matches_shapely_including_edges(lookup_city):
    rng = np.random.default_rng(7)
    lon = np.concatenate(
        [rng.uniform(116.295, 116.345, 400), [116.31, 116.315, 116.31, 116.33, 116.318, 116.35]]
    )  # edges, corners, hole edge, outside
    lat = np.concatenate([rng.uniform(39.895, 39.925, 400), [39.905, 39.903, 39.91, 39.905, 39.905, 39.905]])
    with lookup_city.connect() as conn:
        batch = grids_at(conn, lon, lat)
        for i in range(len(lon)):
            want = expected_code(lon[i], lat[i])
            assert (batch[i] or {}).get("code") == want, (lon[i], lat[i])
            if want is None:
                with pytest.raises(NotFound):
                    lookup_point(conn, lon[i], lat[i])
            else:
                assert lookup_point(conn, lon[i], lat[i])["grid"]["code"] == want


def test_point_answer_has_areas_staff_party_station_and_no_phone(lookup_city):
    with lookup_city.connect() as conn:
        got = lookup_point(conn, 116.312, 39.9055)
    assert got["grid"] == {"code": "110108600001001", "name": "巴蜀第一网格", "kind": "basic"}
    assert got["community"] == {"code": "110108600001", "name": "巴蜀社区"}
    assert got["street"] == {"code": "110108600", "name": "长湖街道"}
    assert got["district"] == {"code": "110108", "name": "海淀区"}
    assert {s["role"]: s["name"] for s in got["staff"]} == {
        "grid_leader": "王建国",
        "full_time_worker": "李梅",
        "part_time_worker": "赵强",
    }
    assert all(set(s) == {"role", "name"} for s in got["staff"])
    assert [s["role"] for s in got["staff"]] == ["grid_leader", "full_time_worker", "part_time_worker"]
    assert got["party_org"] == {"name": "巴蜀第一网格党支部", "level": "grid_branch"}
    station = got["nearest_station"]
    assert station["name"] == "巴蜀党群服务站"
    # ~7 × 85 m east, 0.0005° north: about 600 m, so 10 minutes at 60 m/min and not covered by the 300 m circle
    assert 580 < station["distance_m"] < 640
    assert station["walk_minutes"] == pytest.approx(station["distance_m"] / 60, abs=0.1)
    assert station["walk_basis"] == "straight_line" and station["walk_m"] is None  # no walking network here
    PointAnswer.model_validate(got)  # the documented shape (/docs) holds without a network too
    assert got["covered"] is False and got["covered_basis"] == "radius"
    with lookup_city.connect() as conn:  # closed at once: a dropped connection keeps its transaction until GC
        assert lookup_point(conn, 116.3051, 39.9051)["covered"] is True


def test_dedicated_grid_in_the_hole_and_boundary_tie(lookup_city):
    with lookup_city.connect() as conn:
        assert lookup_point(conn, 116.316, 39.903)["grid"]["kind"] == "dedicated"
        # on the hole's edge both cover it: the lowest code wins
        assert lookup_point(conn, 116.315, 39.903)["grid"]["code"] == "110108600001001"


def test_outside_answers_404_with_the_nearest_grid(lookup_city):
    with lookup_city.connect() as conn, pytest.raises(NotFound) as err:
        lookup_point(conn, 116.36, 39.905)
    near = err.value.extra["nearest_grid"]
    assert near["code"] == "110108600002001"
    assert 1650 < near["distance_m"] < 1750  # 0.02° of longitude at 39.9°N


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_offset_input_lands_in_the_same_grid(lookup_city, system):
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(116.30, 116.34, 50), rng.uniform(39.90, 39.92, 50)
    shifted = crs.FROM_WGS84[system](lon, lat)
    with lookup_city.connect() as conn:
        assert grids_at(conn, *shifted, crs=system) == grids_at(conn, lon, lat)
        x, y = float(shifted[0][0]), float(shifted[1][0])
        want = expected_code(lon[0], lat[0])
        if want:
            assert lookup_point(conn, x, y, crs=system)["grid"]["code"] == want


def test_service_area_rows_decide_coverage(lookup_city):
    with lookup_city.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO service_areas (facility_id, minutes, mode, geom) "
                "SELECT id, 5, 'network', ST_Multi(ST_Buffer(geom, 0.01)) FROM facilities WHERE name = '巴蜀党群服务站'"
            )
        )
        got = lookup_point(conn, 116.312, 39.9055)
        assert got["covered"] is True and got["covered_basis"] == "network"
        conn.execute(text("DELETE FROM service_areas"))


@pytest.mark.parametrize("bad", [(float("nan"), 39.9), (116.3, float("inf")), (200.0, 39.9), (116.3, -91.0)])
def test_bad_coordinates_are_user_errors(lookup_city, bad):
    with lookup_city.connect() as conn, pytest.raises(GeogridError) as err:
        lookup_point(conn, *bad)
    assert err.value.status_code == 400


@pytest.mark.parametrize(
    "query, address",
    [
        ("巴蜀花园3栋", "巴蜀花园3栋"),
        ("巴蜀花園３號樓", "巴蜀花园3栋"),
        ("巴蜀花园三幢", "巴蜀花园3栋"),
        ("北京市海淀区巴蜀花园 3 座", "巴蜀花园3栋"),
        ("巴蜀花园十三号楼", "巴蜀花园13栋"),
        ("长湖街十二号", "长湖街12号"),
        ("北京市海淀区长湖街12号", "长湖街12号"),
        ("長湖街１２號", "长湖街12号"),
        ("长湖街，12号", "长湖街12号"),
        ("巴蜀花园3栋2单元301室", "巴蜀花园3栋"),
    ],
)
def test_address_variants(lookup_city, query, address):
    with lookup_city.connect() as conn:
        got = lookup_address(conn, query)
    assert got["match"]["address"] == address
    assert got["match"]["score"] == 1.0 and not got["ambiguous"]
    assert got["grid"]["code"] == expected_code(got["point"]["lon"], got["point"]["lat"])


def test_extra_words_around_a_known_name(lookup_city):
    with lookup_city.connect() as conn:
        got = lookup_address(conn, "长湖街道巴蜀花园13号楼")
    assert got["match"]["address"] == "巴蜀花园13栋" and got["match"]["score"] >= 0.6


def test_ambiguous_address_lists_candidates(lookup_city):
    with lookup_city.connect() as conn:
        got = lookup_address(conn, "长湖街1号")
    assert got["ambiguous"] is True
    assert 2 <= len(got["candidates"]) <= 5
    assert {c["address"] for c in got["candidates"]} >= {"长湖街12号", "长湖街14号"}
    assert all(c["grid"]["code"] for c in got["candidates"])


@pytest.mark.parametrize("query", ["完全不存在的地方", "'; DROP TABLE grids; --", "zzzz"])
def test_unknown_address_is_404(lookup_city, query):
    with lookup_city.connect() as conn, pytest.raises(NotFound):
        lookup_address(conn, query)
    with lookup_city.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM grids")) == 4


def test_batch_keeps_order_and_reports_errors(lookup_city):
    items = [
        {"id": "a", "lon": 116.305, "lat": 39.905},
        {"id": 2, "address": "巴蜀花园3栋"},
        {"id": "out", "lon": 116.36, "lat": 39.905},
        {"id": "nan", "lon": "nan", "lat": 39.9},
        {"id": "none", "address": "完全不存在的地方"},
        {"id": "str", "lon": "x", "lat": None},
        {"id": "empty"},
        {"id": "both", "lon": 116.335, "lat": 39.905, "address": "巴蜀花园3栋"},
    ]
    with lookup_city.connect() as conn:
        got = lookup_batch(conn, items)
    assert [r["id"] for r in got] == ["a", 2, "out", "nan", "none", "str", "empty", "both"]
    assert got[6]["error"] == t("needs lon and lat, or address") and "needs lon and lat, or address" in got[6]["error"]
    assert got[7]["grid"]["code"] == "110108600002001"  # coordinates win over the address
    assert got[0]["grid"]["code"] == "110108600001002" and "error" not in got[0]
    assert got[1]["grid"]["code"] == "110108600001002" and got[1]["match"]["address"] == "巴蜀花园3栋"
    assert got[2]["grid"] is None and "no grid" in got[2]["error"]
    assert all(got[i]["grid"] is None and got[i]["error"] for i in (3, 4, 5))


def test_batch_over_the_limit(lookup_city, monkeypatch):
    from geogrid.settings import get_settings

    monkeypatch.setenv("GEOGRID_BATCH_LIMIT", "3")
    get_settings.cache_clear()
    try:
        with lookup_city.connect() as conn, pytest.raises(BatchTooLarge) as err:
            lookup_batch(conn, [{"id": i, "lon": 116.3, "lat": 39.9} for i in range(4)])
        assert err.value.status_code == 413 and err.value.extra == {"limit": 3}
    finally:
        monkeypatch.delenv("GEOGRID_BATCH_LIMIT")
        get_settings.cache_clear()
