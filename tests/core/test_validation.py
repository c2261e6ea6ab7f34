"""Validation rules on real PostGIS: each broken on purpose in the planning city, each located for a map."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box, shape
from sqlalchemy import text

from geogrid.assign import assign_all
from geogrid.errors import NotFound
from geogrid.planning.validate import validate
from tests.fixtures.planning_city import C1, C2, A, B, D, M


def _set_geom(conn, code: str, geom) -> None:
    conn.execute(
        text("UPDATE grids SET geom = ST_Multi(ST_GeomFromText(:w, 4326)) WHERE code = :c"), {"w": geom.wkt, "c": code}
    )


def _by_rule(problems: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for p in problems:
        out.setdefault(p["rule"], []).append(p)
    return out


def test_clean_city_has_only_staffing_and_multipart_warnings(planning_city):
    with planning_city.connect() as conn:
        problems = _by_rule(validate(conn))
    assert set(problems) == {"no_full_time_worker", "no_party_org", "several_parts"}
    assert {p["grids"][0] for p in problems["no_full_time_worker"]} == {B, D, M}
    assert {p["grids"][0] for p in problems["no_party_org"]} == {B, D, M}
    (multi,) = problems["several_parts"]
    assert multi["grids"] == [M] and multi["severity"] == "warning" and multi["location"]["type"] == "MultiPolygon"


def test_overlap_gap_outside_and_buildings_in_no_grid(planning_city):
    with planning_city.begin() as conn:
        # B grows 0.001° west over A (overlap) and east outside the community; A loses its northern strip (gap).
        _set_geom(conn, B, box(116.309, 39.90, 116.321, 39.91))
        _set_geom(
            conn, A, shapely.difference(box(116.30, 39.90, 116.31, 39.908), box(116.303, 39.903, 116.305, 39.905))
        )
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, households, geom) VALUES "
                "('lost', 20, ST_SetSRID(ST_MakePoint(116.305, 39.909), 4326))"
            )
        )
        assign_all(conn)
        problems = _by_rule(validate(conn, C1))
    overlap, across = problems["overlap"]  # with A, and with M of the next community, which B now reaches
    assert overlap["grids"] == [A, B] and overlap["severity"] == "error" and across["grids"] == [B, M]
    assert overlap["value"] == pytest.approx(85.3 * 888.6, rel=0.02)  # 0.001° × 0.008° at 39.9°N, in m²
    assert shape(overlap["location"]).bounds == pytest.approx((116.309, 39.90, 116.31, 39.908))
    (outside,) = problems["outside_community"]
    assert outside["grids"] == [B] and outside["value"] == pytest.approx(85.3 * 1110.7, rel=0.02)
    (gap,) = problems["gap"]
    assert (
        gap["community"] == C1
        and set(gap["grids"]) >= {A}
        and gap["value"] == pytest.approx(0.009 * 85_300 * 222.1, rel=0.03)
    )  # the strip x 116.30–116.309 (B still covers 116.309–116.31)
    (lost,) = problems["building_in_no_grid"]
    assert (
        lost["value"] == 1
        and lost["grids"] == [A]
        and shape(lost["location"]).equals(shapely.MultiPoint([(116.305, 39.909)]))
    )


def test_coverage_prefilter_finds_the_same_overlaps(planning_city, monkeypatch):
    """The fast Shapely coverage check (used above 1,000 grids) must not lose an overlap the exact query finds."""
    from geogrid.planning import suspects

    with planning_city.begin() as conn:
        _set_geom(conn, B, box(116.309, 39.90, 116.321, 39.91))  # overlaps A and M
        conn.execute(
            text(
                "INSERT INTO grids (code, name, kind, geom) SELECT code || 'x', name, kind, geom "
                "FROM grids WHERE code = :c"
            ),
            {"c": D},
        )  # an exact duplicate of D
        exact = [p for p in validate(conn) if p["rule"] == "overlap"]
        monkeypatch.setattr(suspects, "MIN_GRIDS", 1)
        fast = [p for p in validate(conn) if p["rule"] == "overlap"]
    assert fast == exact and {tuple(p["grids"]) for p in exact} == {(A, B), (B, M), (D, D + "x")}


def test_invalid_geometry_band_and_compactness(planning_city, settings_env):
    settings_env("GEOGRID_MIN_COMPACTNESS", "0.6")
    with planning_city.begin() as conn:
        conn.execute(
            text(
                "UPDATE grids SET geom = ST_GeomFromText('MULTIPOLYGON(((116.32 39.90, 116.33 39.91, "
                "116.33 39.90, 116.32 39.91, 116.32 39.90)))', 4326) WHERE code = :c"
            ),
            {"c": M},
        )
        conn.execute(text("UPDATE buildings SET households = 900 WHERE source_id = 'b4'"))
        problems = _by_rule(validate(conn))
    (invalid,) = problems["invalid_geometry"]
    assert invalid["grids"] == [M] and "Self-intersection" in invalid["message"]
    assert shape(invalid["location"]).equals(shapely.Point(116.325, 39.905))
    (band,) = problems["household_band"]
    assert band["grids"] == [B] and band["value"] == 1160 and "300–500" in band["message"]
    assert {p["grids"][0] for p in problems["non_compact"]} == {A}  # the hole makes A's perimeter long


def test_problems_read_in_the_users_language(planning_city, settings_env):
    """Chinese for city staff (GEOGRID_LANG=zh), English on request; the numbers are the same in both."""
    with planning_city.begin() as conn:
        conn.execute(text("UPDATE buildings SET households = 900 WHERE source_id = 'b4'"))
        settings_env("GEOGRID_LANG", "zh")
        zh = {p["rule"]: p["message"] for p in validate(conn)}
        settings_env("GEOGRID_LANG", "en")
        en = {p["rule"]: p["message"] for p in validate(conn)}
    assert zh["household_band"] == f"网格 {B} 有 1160 户，超出基础网格的 300–500 户范围"
    assert en["household_band"] == f"grid {B} has 1160 households, outside the basic grid band 300–500"
    assert zh["no_party_org"].endswith("未建立党组织（支部建在网格上）") and "grid" not in zh["no_party_org"]


def test_community_filter_and_unknown_community(planning_city):
    with planning_city.connect() as conn:
        only_c2 = validate(conn, C2)
        with pytest.raises(NotFound):
            validate(conn, "999999999999")
    assert {g for p in only_c2 for g in p["grids"]} == {M}


def test_community_without_grids_is_all_gap(planning_city):
    with planning_city.begin() as conn:
        conn.execute(text("UPDATE grids SET valid_to = now() WHERE code = :c"), {"c": M})
        problems = _by_rule(validate(conn, C2))
    assert [p["grids"] for p in problems["gap"]] == [[], []]  # both parts of the community, no grid at all
    assert sum(p["value"] for p in problems["gap"]) == pytest.approx(853 * 1110.7 + 426.5 * 555.3, rel=0.02)
    assert D not in {g for p in problems.get("gap", []) for g in p["grids"]}
