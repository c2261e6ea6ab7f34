"""Re-imports lose nothing (issue 11, item 2): only the columns a file carries change, ``--replace`` says so, OSM
keeps households and names others imported, OSM networks of several extracts merge, candidates can be promoted."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geogrid.importers import import_buildings, import_osm
from geogrid.importers.promote import parse_tag_kinds, promote
from geogrid.importers.read import read_source
from geogrid.network import read_osm_walking
from tests.conftest import shared_data

FULL = (
    "source_id,lon,lat,name,address,households\n"
    "b1,116.30,39.90,一号楼,长湖街1号,100\nb2,116.31,39.91,二号楼,长湖街2号,80\n"
)


def _import(engine, tmp_path, content: str, **kwargs):
    path = tmp_path / "buildings.csv"
    path.write_text(content, encoding="utf-8")
    with engine.begin() as conn:
        return import_buildings(conn, read_source(path), **kwargs)


def _rows(engine) -> dict:
    with engine.connect() as conn:
        return {
            r[0]: tuple(r[1:])
            for r in conn.execute(text("SELECT source_id, name, address, households FROM buildings ORDER BY source_id"))
        }


def test_a_reimport_updates_only_the_columns_the_file_carries(empty_db, tmp_path, settings_env):
    settings_env("GEOGRID_LANG", "en")
    _import(empty_db, tmp_path, FULL)
    report = _import(empty_db, tmp_path, "source_id,lon,lat,households\nb1,116.30,39.90,120\n")
    assert _rows(empty_db) == {"b1": ("一号楼", "长湖街1号", 120), "b2": ("二号楼", "长湖街2号", 80)}
    said = str(report)
    assert "1 updated" in said and "updated columns: households, geom" in said and "1 kept" in said


def test_replace_is_a_full_replace_and_says_so(empty_db, tmp_path, settings_env):
    settings_env("GEOGRID_LANG", "en")
    _import(empty_db, tmp_path, FULL)
    report = _import(empty_db, tmp_path, "source_id,lon,lat,households\nb1,116.30,39.90,120\n", replace=True)
    assert _rows(empty_db)["b1"] == (None, None, 120)
    assert "all columns replaced (--replace)" in str(report)


def test_a_file_without_coordinates_updates_the_stored_buildings(empty_db, tmp_path, settings_env):
    """The issue's file: source ids and households only (how a community adds its figures to OSM buildings)."""
    settings_env("GEOGRID_LANG", "en")
    _import(empty_db, tmp_path, FULL)
    report = _import(empty_db, tmp_path, "source_id,households\nb2,85\n")
    assert _rows(empty_db) == {"b1": ("一号楼", "长湖街1号", 100), "b2": ("二号楼", "长湖街2号", 85)}
    said = str(report)
    assert "1 updated" in said and "updated columns: households" in said and "1 kept" in said, said
    with empty_db.connect() as conn:  # the point stays where it was
        assert (
            conn.scalar(text("SELECT ST_AsText(geom) FROM buildings WHERE source_id = 'b2'")) == "POINT(116.31 39.91)"
        )


@pytest.mark.parametrize(
    "content, field, words",
    [
        ("source_id,households\nb1,90\nb9,70\n", "source_id", "no stored building"),  # row 3: unknown id
        ("households\n90\n", "lon", "no lon column found"),  # nothing to match by
    ],
)
def test_a_file_without_coordinates_only_updates_and_says_why_not(empty_db, tmp_path, content, field, words):
    from geogrid.errors import InputError

    _import(empty_db, tmp_path, FULL)
    with pytest.raises(InputError) as err:
        _import(empty_db, tmp_path, content)
    assert err.value.field == field and words in str(err.value)
    assert _rows(empty_db)["b1"] == ("一号楼", "长湖街1号", 100)  # nothing written
    with pytest.raises(InputError, match="--replace"):
        _import(empty_db, tmp_path, "source_id,households\nb1,90\n", replace=True)


def test_other_layers_still_need_coordinates(empty_db, tmp_path):
    from geogrid.errors import InputError
    from geogrid.importers import import_facilities

    path = tmp_path / "facilities.csv"
    path.write_text("source_id,name,kind\nf1,站,service_station\n", encoding="utf-8")
    with pytest.raises(InputError, match="no lon column found"), empty_db.begin() as conn:
        import_facilities(conn, read_source(path))


def test_households_and_names_survive_import_osm(empty_db):
    pbf = shared_data("beijing-haidian-osm/bupt-beitaipingzhuang.osm.pbf")
    with empty_db.begin() as conn:
        import_osm(conn, pbf, network=False)
        some = conn.execute(text("SELECT source_id FROM buildings WHERE name IS NULL ORDER BY source_id LIMIT 3"))
        ids = [r[0] for r in some]
    with empty_db.begin() as conn:  # the figures a community adds to OSM buildings (no geometry in the file)
        conn.execute(
            text(
                "UPDATE buildings SET households = v.h, name = v.n FROM (VALUES "
                + ", ".join(f"('{sid}', 300 + {i}, '测试楼{i}')" for i, sid in enumerate(ids))
                + ") v(s, h, n) WHERE source_id = v.s"
            )
        )
        total = conn.scalar(text("SELECT count(*) FROM buildings"))
        import_osm(conn, pbf, network=False)
    with empty_db.connect() as conn:
        kept = conn.execute(
            text("SELECT source_id, name, households FROM buildings WHERE source_id = ANY(:i) ORDER BY source_id"),
            {"i": ids},
        ).all()
        assert conn.scalar(text("SELECT count(*) FROM buildings")) == total
    assert [(n, h) for _, n, h in kept] == [(f"测试楼{i}", 300 + i) for i in range(len(ids))]


def test_osm_networks_of_several_extracts_merge(empty_db):
    first = shared_data("beijing-haidian-osm/bupt-beitaipingzhuang.osm.pbf")
    second = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    expected = set()
    for pbf in (first, second):
        nodes, _ = read_osm_walking(pbf)
        expected |= set(nodes["id"])
    with empty_db.begin() as conn:
        import_osm(conn, first)
        edges_first = conn.scalar(text("SELECT count(*) FROM walk_edges"))
        import_osm(conn, second)
        nodes = set(conn.scalars(text("SELECT id FROM walk_nodes")))
        edges_both = conn.scalar(text("SELECT count(*) FROM walk_edges"))
        import_osm(conn, first)  # again: nothing doubles, the shared nodes stitch the pieces
        again = conn.scalar(text("SELECT count(*) FROM walk_edges"))
        dup = conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT least(source, target), greatest(source, target) "
                "FROM walk_edges GROUP BY 1, 2 HAVING count(*) > 1) d"
            )
        )
    assert nodes == expected and edges_both > edges_first and again == edges_both and dup == 0


def test_promote_candidates_and_map_tags(empty_db):
    pbf = shared_data("liechtenstein-osm/liechtenstein-2015.osm.pbf")
    with empty_db.begin() as conn:
        import_osm(conn, pbf, network=False, tag_kind=parse_tag_kinds(["amenity=library:service_center"]))
        libraries = conn.scalar(text("SELECT count(*) FROM facilities WHERE kind = 'service_center' AND candidate"))
        schools = conn.scalar(text("SELECT count(*) FROM facilities WHERE kind = 'school' AND candidate"))
        assert libraries > 0 and schools > 0
        assert promote(conn, kinds=["school"]) == schools
        assert conn.scalar(text("SELECT count(*) FROM facilities WHERE NOT candidate")) == schools
        import_osm(conn, pbf, network=False)  # a re-import leaves promoted facilities promoted
        assert conn.scalar(text("SELECT count(*) FROM facilities WHERE NOT candidate")) == schools
    with pytest.raises(Exception, match="KIND"):
        parse_tag_kinds(["amenity=library"])


def _components(conn) -> int:
    """Connected pieces of the stored walking network."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = conn.scalars(text("SELECT id FROM walk_nodes ORDER BY id")).all()
    index = {node: i for i, node in enumerate(ids)}
    edges = conn.execute(text("SELECT source, target FROM walk_edges")).all()
    rows = [index[e.source] for e in edges]
    cols = [index[e.target] for e in edges]
    graph = coo_matrix(([1] * len(rows), (rows, cols)), shape=(len(ids), len(ids)))
    return connected_components(graph, directed=False)[0]


def test_adjacent_extracts_are_stitched_at_the_nodes_they_share(empty_db):
    """Two adjacent exports of one real extract (west and east of its middle, as OSM's export gives them: every
    way that reaches into the box, complete, so ways across the border are in both with the same node ids) merge
    into the network of the whole extract: same nodes, same edges, as few pieces, nothing doubled."""
    from geogrid.network import merge_network, replace_network

    nodes, edges = read_osm_walking(shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf"))
    lon = nodes.set_index("id")["lon"]
    middle = float(lon.median())
    west_lon = edges["source"].map(lon).combine(edges["target"].map(lon), min)
    east_lon = edges["source"].map(lon).combine(edges["target"].map(lon), max)
    halves = [edges[west_lon < middle + 0.001], edges[east_lon > middle - 0.001]]  # ~85 m of shared border
    shared = set(halves[0].index) & set(halves[1].index)
    assert len(shared) > 10 and all(len(h) < len(edges) for h in halves)

    def used(half):
        return nodes[nodes["id"].isin(set(half["source"]) | set(half["target"]))]

    with empty_db.begin() as conn:
        replace_network(conn, nodes, edges)
        whole = (_components(conn), conn.scalar(text("SELECT count(*) FROM walk_edges")))
        pieces = []
        for half in halves:  # each half alone
            replace_network(conn, used(half), half.reset_index(drop=True))
            pieces.append(_components(conn))
        conn.execute(text("TRUNCATE walk_edges, walk_nodes"))
        for half in halves:  # one after the other, as two `geogrid import osm` runs
            merge_network(conn, used(half), half.reset_index(drop=True))
        merged = (_components(conn), conn.scalar(text("SELECT count(*) FROM walk_edges")))
        stored = set(conn.scalars(text("SELECT id FROM walk_nodes")))
    print(f"\nstitch: whole {whole}, halves alone {pieces} pieces, merged {merged}, shared edges {len(shared)}")
    assert stored == set(nodes["id"]) and merged == whole
    assert merged[0] < sum(pieces)  # the halves are joined, not side by side
