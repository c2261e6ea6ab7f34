"""Items 2 and 3 of issue 11 as a user types them: ``geogrid plan undo``, ``geogrid facilities promote``,
``geogrid import osm --tag-kind`` and ``geogrid import buildings --replace``, each in a process of its own
(exit code, one line, no traceback), checked against the database."""

from __future__ import annotations

import json

import shapely
from shapely.geometry import box, mapping
from sqlalchemy import text

from tests.conftest import shared_data
from tests.core.test_cli_trust import _last_line, geogrid
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import A, B

GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)  # A takes b4 (200 households) from B


def _grids(engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as conn:
        return {
            r.code: (r.version, r.wkb)
            for r in conn.execute(
                text("SELECT code, version, ST_AsText(ST_Normalize(geom)) AS wkb FROM grids WHERE valid_to IS NULL")
            )
        }


def _assigned(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(  # type: ignore[arg-type]
                text(
                    "SELECT b.source_id, g.code FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
                    "LEFT JOIN grids g ON g.id = a.grid_id"
                )
            ).all()
        )


def _plan(tmp_path, *edits: dict) -> int:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"edits": list(edits)}))
    created = geogrid("plan", "create", str(path), "--author", "王规划")
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)["plan"]


def test_plan_undo_restores_the_grids_and_refuses_twice(planning_city, tmp_path):
    grids, assigned = _grids(planning_city), _assigned(planning_city)
    plan = _plan(tmp_path, {"op": "redraw", "grid": A, "geometry": mapping(GROWN)})
    assert geogrid("plan", "apply", str(plan)).returncode == 0
    assert _assigned(planning_city)["b4"] == A

    undone = geogrid("plan", "undo", str(plan), "--author", "张审核")
    assert undone.returncode == 0, undone.stderr
    assert f"plan {plan} undone by plan" in undone.stdout + undone.stderr
    now = _grids(planning_city)
    assert {c: w for c, (_, w) in now.items()} == {c: w for c, (_, w) in grids.items()}  # shapes as before
    assert now[A][0] == grids[A][0] + 2  # a new version, not history rewritten
    assert _assigned(planning_city) == assigned
    with planning_city.connect() as conn:
        status = conn.execute(text("SELECT status, undone_by FROM plans WHERE id = :i"), {"i": plan}).one()
    assert status.status == "undone" and status.undone_by is not None

    again = geogrid("plan", "undo", str(plan))
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert f"plan {plan} is undone" in _last_line(again)
    assert _grids(planning_city) == now  # nothing written


def test_plan_undo_is_refused_when_a_later_plan_changed_the_grids(planning_city, tmp_path):
    first = _plan(tmp_path, {"op": "redraw", "grid": A, "geometry": mapping(GROWN)})
    assert geogrid("plan", "apply", str(first)).returncode == 0
    with planning_city.connect() as conn:
        b5 = conn.scalar(text("SELECT id FROM buildings WHERE source_id = 'b5'"))
    later = _plan(tmp_path, {"op": "move_buildings", "buildings": [b5], "to": A})
    assert geogrid("plan", "apply", str(later)).returncode == 0
    grids, assigned = _grids(planning_city), _assigned(planning_city)

    refused = geogrid("plan", "undo", str(first))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"grid {A} is now version 3" in _last_line(refused) or f"grid {B} is now version 3" in _last_line(refused)
    assert _grids(planning_city) == grids and _assigned(planning_city) == assigned
    with planning_city.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plans")) == 2  # no undo plan left behind


def test_import_osm_tag_kind_and_facilities_promote(empty_db):
    pbf = shared_data("liechtenstein-osm/liechtenstein-2015.osm.pbf")
    imported = geogrid("import", "osm", str(pbf), "--no-network", "--tag-kind", "amenity=library:service_center")
    assert imported.returncode == 0, imported.stderr[-2000:]
    with empty_db.connect() as conn:
        counts = dict(
            conn.execute(  # type: ignore[arg-type]
                text("SELECT kind, count(*) FROM facilities WHERE candidate GROUP BY kind")
            ).all()
        )
        assert conn.scalar(text("SELECT count(*) FROM facilities WHERE NOT candidate")) == 0
    assert counts.get("service_center", 0) > 0 and counts.get("school", 0) > 0

    promoted = geogrid("facilities", "promote", "--kind", "school")
    assert promoted.returncode == 0, promoted.stderr
    assert f"{counts['school']:,} candidate(s) promoted" in promoted.stdout + promoted.stderr
    with empty_db.connect() as conn:
        real = dict(
            conn.execute(  # type: ignore[arg-type]
                text("SELECT kind, count(*) FROM facilities WHERE NOT candidate GROUP BY kind")
            ).all()
        )
    assert real == {"school": counts["school"]}

    bad = geogrid("import", "osm", str(pbf), "--no-network", "--tag-kind", "amenity=library")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "KIND" in bad.stderr


def test_import_buildings_replace_from_the_shell(empty_db, tmp_path):
    full = tmp_path / "full.csv"
    full.write_text("source_id,lon,lat,name,address,households\nb1,116.30,39.90,一号楼,长湖街1号,100\n")
    part = tmp_path / "part.csv"
    part.write_text("source_id,lon,lat,households\nb1,116.30,39.90,120\n")
    assert geogrid("import", "buildings", str(full)).returncode == 0
    kept = geogrid("import", "buildings", str(part))
    assert kept.returncode == 0 and "updated columns: households" in kept.stdout + kept.stderr, kept.stderr
    with empty_db.connect() as conn:
        row = conn.execute(text("SELECT name, address, households FROM buildings")).one()
    assert tuple(row) == ("一号楼", "长湖街1号", 120)

    replaced = geogrid("import", "buildings", str(part), "--replace")
    assert replaced.returncode == 0 and "all columns replaced (--replace)" in replaced.stdout + replaced.stderr, (
        replaced.stderr
    )
    with empty_db.connect() as conn:
        row = conn.execute(text("SELECT name, address, households FROM buildings")).one()
    assert tuple(row) == (None, None, 120)


def test_import_buildings_without_coordinates_from_the_shell(empty_db, tmp_path):
    full = tmp_path / "full.csv"
    full.write_text("source_id,lon,lat,name,households\nb1,116.30,39.90,一号楼,100\nb2,116.31,39.90,二号楼,50\n")
    assert geogrid("import", "buildings", str(full)).returncode == 0
    figures = tmp_path / "figures.csv"
    figures.write_text("source_id,households\nb2,65\n")
    done = geogrid("import", "buildings", str(figures))
    assert done.returncode == 0 and "1 updated, updated columns: households, 1 kept" in done.stderr, done.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("source_id,households\nb2,70\nb3,40\n")
    refused = geogrid("import", "buildings", str(unknown))
    line = _last_line(refused)
    assert refused.returncode == 1 and "unknown.csv" in line and "row 3" in line and "'source_id'" in line, line
    with empty_db.connect() as conn:
        rows = conn.execute(text("SELECT source_id, name, households FROM buildings ORDER BY source_id")).all()
    assert [tuple(r) for r in rows] == [("b1", "一号楼", 100), ("b2", "二号楼", 65)]
