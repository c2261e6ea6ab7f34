"""Real addresses to the right grid, honestly: door numbers as people write them, the Haidian OSM extract on
grids tiled from the real sub-district polygons, and a street office's address book."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geogrid.address import normalise, parse_door
from geogrid.errors import InputError
from geogrid.gazetteer import build_gazetteer
from geogrid.importers import import_areas, read_source
from geogrid.importers.addresses import import_addresses
from geogrid.importers.osm import import_osm
from geogrid.lookup import grids_at, lookup_address
from tests.conftest import shared_data


@pytest.mark.parametrize(
    "query, road, number, prefix, sub, last",
    [
        ("学院路丁11号", "学院路", 11, "丁", None, None),
        ("北京市海淀区學院路丁十一號", "学院路", 11, "丁", None, None),
        ("志新西路3-1号", "志新西路", 3, "", 1, None),
        ("志新西路３－１号", "志新西路", 3, "", 1, None),
        ("成府路43-45号", "成府路", 43, "", None, 45),
        ("成府路43至45号", "成府路", 43, "", None, 45),
        ("中关村东路8号院3号楼2单元301室", "中关村东路", 8, "", None, None),
        ("长湖街十二号", "长湖街", 12, "", None, None),
        ("Chengfu Road 43", "chengfulu", 43, "", None, None),
        ("Chéngfǔ Lù 43号", "chengfulu", 43, "", None, None),
    ],
)
def test_door_numbers_as_people_write_them(query, road, number, prefix, sub, last):
    door = parse_door(normalise(query))
    assert door is not None and (door.road, door.number, door.prefix, door.sub, door.last) == (
        road,
        number,
        prefix,
        sub,
        last,
    )


@pytest.mark.parametrize("query", ["巴蜀花园3栋", "10号楼", "清华大学", ""])
def test_names_and_buildings_are_not_door_numbers(query):
    assert parse_door(normalise(query)) is None


TILE_SQL = """
INSERT INTO grids (code, name, kind, geom)
SELECT left(a.code, 9) || '000' || lpad(row_number() OVER (PARTITION BY a.code ORDER BY s.i, s.j)::text, 3, '0'),
       a.name || row_number() OVER (PARTITION BY a.code ORDER BY s.i, s.j), 'basic', ST_Multi(c.g)
  FROM admin_areas a
 CROSS JOIN LATERAL ST_SquareGrid(400, ST_Transform(ST_MakeEnvelope(116.339, 39.992, 116.365, 40.014, 4326), 3857)) s
 CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Intersection(a.geom, ST_Transform(s.geom, 4326)), 3) AS g) c
 WHERE ST_Intersects(a.geom, ST_Transform(s.geom, 4326)) AND NOT ST_IsEmpty(c.g) AND ST_Area(c.g::geography) > 100
"""


@pytest.fixture(scope="module")
def haidian(database):
    """The CAU/学院路 extract on ~300 m squares clipped to the real street offices."""
    from tests.conftest import truncate_all

    pbf = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    truncate_all(database)
    with database.begin() as conn:
        import_areas(
            conn,
            read_source(shared_data("beijing-subdistricts/haidian-all.geojson")),
            code_field="code",
            name_field="Name",
            level="street",
        )
        conn.execute(text(TILE_SQL))
        import_osm(conn, pbf, network=False)
        build_gazetteer(conn)
    return database


def _grid_of(conn, source_id: str) -> str:
    x, y = conn.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM address_points WHERE source_id = :s"), {"s": source_id}
    ).one()
    return grids_at(conn, [x], [y])[0]["code"]


def test_every_osm_address_is_indexed(haidian):
    with haidian.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM address_points GROUP BY kind")).all())
        doors = conn.execute(text("SELECT text FROM address_points WHERE kind = 'door' ORDER BY text")).scalars().all()
        roads = conn.execute(text("SELECT count(DISTINCT norm) FROM roads")).scalar()
    assert kinds["door"] >= 5 and kinds["entrance"] >= 4 and kinds["place"] >= 100
    assert "学院路丁11" in doors and "北京市海淀区志新西路3-1号" in doors
    assert roads >= 10


@pytest.mark.parametrize(
    "query", ["学院路丁11号", "北京市海淀区学院路丁十一号", "學院路丁１１號", "学院路丁11号3号楼2单元301室"]
)
def test_the_issues_wrong_answer_is_now_the_university(haidian, query):
    """学院路丁11号 used to match the street office 学院路街道 and a grid 617 m away."""
    with haidian.connect() as conn:
        want = _grid_of(
            conn, conn.execute(text("SELECT source_id FROM address_points WHERE text = '学院路丁11'")).scalar()
        )
        got = lookup_address(conn, query, explain=True)
    assert got["match"]["level"] == "door" and got["ambiguous"] is False
    assert got["grid"]["code"] == want and got["explain"]


def test_sub_number_is_not_the_main_number(haidian):
    with haidian.connect() as conn:
        want = _grid_of(
            conn, conn.execute(text("SELECT source_id FROM address_points WHERE text LIKE '%志新西路3-1号'")).scalar()
        )
        exact = lookup_address(conn, "志新西路3-1号")
        other = lookup_address(conn, "志新西路3号")  # 3号 itself is not mapped
    assert exact["grid"]["code"] == want and not exact["ambiguous"]
    assert other["ambiguous"] and other["match"]["level"] != "door"


def test_street_office_name_with_a_number_is_never_one_grid(haidian):
    """A street office (学院路街道 → 学院路) or a road with an unknown number answers candidates with shares."""
    with haidian.connect() as conn:
        got = lookup_address(conn, "学院路999号")
    assert got["ambiguous"] is True and got["match"]["level"] in ("road", "area")
    assert len(got["candidates"]) >= 2 and all(0 <= c["share"] <= 1 for c in got["candidates"])


def test_no_name_is_answered_confidently_wrong(haidian):
    with haidian.connect() as conn:
        rows = conn.execute(
            text("SELECT name, ST_X(geom) AS x, ST_Y(geom) AS y FROM address_points WHERE name IS NOT NULL ORDER BY id")
        ).all()
        truths = grids_at(conn, [r.x for r in rows], [r.y for r in rows])
        wrong, right = [], 0
        for row, truth in zip(rows, truths, strict=True):
            if truth is None:
                continue
            got = lookup_address(conn, row.name)
            codes = {c["grid"]["code"] for c in got["candidates"]}
            if not got["ambiguous"] and got["grid"]["code"] != truth["code"]:
                wrong.append(row.name)
            right += (not got["ambiguous"] and got["grid"]["code"] == truth["code"]) or truth["code"] in codes
    assert not wrong
    assert right >= 0.95 * sum(t is not None for t in truths)


def test_address_book_is_the_first_source(haidian, tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "编号,区,街道,社区,路,门牌号,小区,楼栋,单元,户室,经度,纬度\n"
        "1,海淀区,学院路街道,矿大社区,学院路,丁11号,,,,,116.3500,40.0010\n"
        "2,海淀区,学院路街道,,清华东路,35号,林大北路小区,3号楼,2单元,301,116.3470,40.0020\n",
        encoding="utf-8",
    )
    with haidian.begin() as conn:
        report = import_addresses(book, conn)
        assert report.rows == 2
        want = grids_at(conn, [116.3470], [40.0020])[0]["code"]
        build_gazetteer(conn)
        got = lookup_address(conn, "清华东路35号")
        composed = lookup_address(conn, "林大北路小区3号楼")
        conn.rollback()
    assert got["match"]["level"] == "address_book" and got["grid"]["code"] == want and not got["ambiguous"]
    assert composed["grid"]["code"] == want


def test_address_book_row_without_a_point_names_the_row(haidian, tmp_path):
    book = tmp_path / "bad.csv"
    book.write_text("address,building_source_id\n学院路丁11号,nope\n", encoding="utf-8")
    with haidian.connect() as conn:
        before = conn.scalar(text("SELECT count(*) FROM address_points"))
    with pytest.raises(InputError) as err, haidian.begin() as conn:
        import_addresses(book, conn)
    assert "bad.csv" in str(err.value) and "2" in str(err.value)
    with haidian.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM address_points")) == before
