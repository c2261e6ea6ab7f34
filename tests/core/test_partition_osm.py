"""Partition on real OpenStreetMap data: the CAU / east Xueyuan Road extract (学院路街道, Haidian) inside its real
sub-district polygon, cut to the extract's box as one community. Households are estimates from footprints."""

from __future__ import annotations

import json

import shapely
from shapely.geometry import shape
from sqlalchemy import text

from geogrid.importers.osm import import_osm
from geogrid.partition.propose import propose
from geogrid.planning.apply import apply_plan
from geogrid.planning.validate import validate
from tests.conftest import shared_data

STREET = "110108010"
COMMUNITY = STREET + "901"
BOX = (116.3440, 39.9977, 116.3597, 40.0089)  # the extract's bbox


def load_cau(conn) -> None:
    """Import the extract (no walking network: not needed here) and the street and sample community."""
    pbf = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    streets = json.loads(shared_data("beijing-subdistricts/haidian-all.geojson").read_text(encoding="utf-8"))
    street = next(f for f in streets["features"] if str(f["properties"]["code"]).startswith(STREET))
    geom = shape(street["geometry"])
    import_osm(conn, pbf, network=False)
    conn.execute(
        text(
            "INSERT INTO admin_areas (code, name, level, geom) VALUES (:c, :n, 'street', "
            "ST_Multi(ST_GeomFromText(:w, 4326)))"
        ),
        {"c": STREET, "n": street["properties"]["Name"], "w": geom.wkt},
    )
    sample = shapely.intersection(geom, shapely.box(*BOX))
    conn.execute(
        text(
            "INSERT INTO admin_areas (code, name, level, parent_id, geom) VALUES (:c, '抽样社区', "
            "'community', (SELECT id FROM admin_areas WHERE code = :s), ST_Multi(ST_GeomFromText(:w, 4326)))"
        ),
        {"c": COMMUNITY, "s": STREET, "w": sample.wkt},
    )


def test_partition_real_haidian_extract(empty_db):
    with empty_db.connect() as conn:
        load_cau(conn)
        # OSM buildings carry estimates, marked as such; roads and compounds came with the extract
        est = conn.execute(
            text("SELECT count(*) FILTER (WHERE households_estimated), sum(households) FROM buildings")
        ).first()
        assert est[0] > 200 and est[1] > 0
        assert conn.scalar(text("SELECT count(*) FROM barrier_lines WHERE kind = 'road'")) > 50
        plan = propose(conn, community=COMMUNITY, seed=1)
        report = plan["preview"]["partition"]
        assert report["summary"]["estimated_households"] == report["summary"]["households"] > 0
        assert all(g["households_estimated"] for g in report["grids"] if g["households"])
        # a grid outside the band says why
        assert all(g["reason"] for g in report["grids"] if not g["in_band"])
        apply_plan(conn, plan["plan"], "test")
        inside = conn.execute(
            text(
                "SELECT b.id, count(g.id) AS n, min(g.id) AS grid FROM buildings b "
                "JOIN admin_areas a ON a.code = :c AND ST_Intersects(a.geom, b.geom) "
                "LEFT JOIN grids g ON g.valid_to IS NULL AND ST_Intersects(g.geom, b.geom) GROUP BY b.id"
            ),
            {"c": COMMUNITY},
        ).all()
        assert inside and all(r.n >= 1 for r in inside)  # every building of the community is in a grid
        assigned = conn.execute(
            text(
                "SELECT count(*) FROM buildings b JOIN admin_areas a ON a.code = :c AND ST_Intersects(a.geom, b.geom) "
                "JOIN building_assignments s ON s.building_id = b.id WHERE s.grid_id IS NOT NULL"
            ),
            {"c": COMMUNITY},
        ).scalar()
        assert assigned == len(inside)
        # no compound split: buildings inside one compound polygon are all in one grid
        split = conn.execute(
            text(
                "SELECT c.id FROM compounds c JOIN buildings b ON ST_Within(b.geom, c.geom) "
                "JOIN building_assignments s ON s.building_id = b.id JOIN admin_areas a ON a.code = :c "
                "AND ST_Within(c.geom, a.geom) GROUP BY c.id HAVING count(DISTINCT s.grid_id) > 1"
            ),
            {"c": COMMUNITY},
        ).all()
        assert split == []
        problems = validate(conn, COMMUNITY)
        errors = {p["rule"] for p in problems if p["severity"] == "error"}
        assert not errors & {"gap", "overlap", "outside_community", "building_in_no_grid"}, [
            (p["rule"], p["message"], str(p["location"])[:600]) for p in problems if p["severity"] == "error"
        ]
        # band errors only where a single unit is above the band (its reason says so)
        band = [p for p in problems if p["rule"] == "household_band"]
        assert len(band) == sum(not g["in_band"] for g in report["grids"] if g["kind"] == "basic")
        conn.rollback()


def test_real_figures_replace_estimates(empty_db):
    with empty_db.connect() as conn:
        load_cau(conn)
        bid = conn.scalar(text("SELECT id FROM buildings WHERE households_estimated ORDER BY id LIMIT 1"))
        conn.execute(text("UPDATE buildings SET households = 42 WHERE id = :b"), {"b": bid})
        assert conn.execute(
            text("SELECT households, households_estimated FROM buildings WHERE id = :b"), {"b": bid}
        ).first() == (42, False)
        # re-estimating (a re-import) leaves the real figure alone
        import pandas as pd

        from geogrid.partition.households import store_estimates

        source = conn.scalar(text("SELECT source_id FROM buildings WHERE id = :b"), {"b": bid})
        store_estimates(conn, pd.DataFrame({"source_id": [source], "building": ["apartments"]}))
        assert conn.scalar(text("SELECT households FROM buildings WHERE id = :b"), {"b": bid}) == 42
        conn.rollback()
