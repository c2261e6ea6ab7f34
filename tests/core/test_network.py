"""The walking network importer (OSM .pbf → walk_nodes/walk_edges) and the stored graph."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components
from sqlalchemy import text

from geogrid.errors import GeogridError, InputError
from geogrid.network import import_osm_network, load_graph
from tests.conftest import shared_data


def test_haidian_network_imported_twice_keeps_one_copy(empty_db):
    """Importing twice (merged, then replaced) leaves one copy; counts match the data README (pyrosm 0.25)."""
    path = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    results = []
    for replace in (False, False, True):
        with empty_db.begin() as conn:
            results.append(import_osm_network(conn, path, replace=replace))
    assert (results[0]["new_nodes"], results[0]["new_edges"]) == (1_369, 1_500)
    assert (results[1]["new_nodes"], results[1]["new_edges"]) == (0, 0)  # the same extract again adds nothing
    assert all((r["network_nodes"], r["network_edges"]) == (1_369, 1_500) for r in results)
    with empty_db.connect() as conn:
        km = conn.scalar(text("SELECT sum(length_m) / 1000 FROM walk_edges"))
        orphan = conn.scalar(
            text(
                "SELECT count(*) FROM walk_edges e WHERE NOT EXISTS (SELECT 1 FROM walk_nodes n WHERE n.id = e.source) "
                "OR NOT EXISTS (SELECT 1 FROM walk_nodes n WHERE n.id = e.target)"
            )
        )
        graph = load_graph(conn)
    assert km == pytest.approx(58.7, abs=0.5)
    assert orphan == 0
    assert graph.epsg == 32650  # UTM 50N for Beijing: lengths are metres
    seg = np.hypot(*(graph.xy[graph.u] - graph.xy[graph.v]).T)
    assert np.all(seg <= graph.length * 1.001 + 0.5)  # a straight line is never longer than the way
    assert connected_components(graph.matrix(), directed=False)[0] < 50


def test_a_new_network_drops_walks_measured_on_the_old_one(empty_db):
    """Station walks are per node of the network they were measured on: a re-import must not keep them."""
    from geogrid.stations import store_station_walks

    path = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    with empty_db.begin() as conn:
        import_osm_network(conn, path)
        conn.execute(
            text(
                "INSERT INTO facilities (name, kind, geom) VALUES ('学院路党群服务站', 'service_station', "
                "(SELECT geom FROM walk_nodes ORDER BY id LIMIT 1))"
            )
        )
        assert store_station_walks(conn) > 1_000
        import_osm_network(conn, path)
        assert conn.scalar(text("SELECT count(*) FROM station_walks")) == 0


def test_missing_and_broken_files_name_the_file(empty_db, tmp_path):
    with empty_db.begin() as conn, pytest.raises(InputError, match="nowhere.osm.pbf"):
        import_osm_network(conn, tmp_path / "nowhere.osm.pbf")
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protobuf at all")
    with empty_db.begin() as conn, pytest.raises(InputError, match="broken.osm.pbf"):
        import_osm_network(conn, broken)


def test_failed_import_keeps_the_old_network(empty_db, tmp_path):
    path = shared_data("beijing-haidian-osm/bupt-beitaipingzhuang.osm.pbf")
    with empty_db.begin() as conn:
        import_osm_network(conn, path)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError), empty_db.begin() as conn:
        import_osm_network(conn, broken)
    with empty_db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM walk_nodes")) == 556


def test_no_network_is_a_clear_error(empty_db):
    with empty_db.connect() as conn, pytest.raises(GeogridError, match="no walking network"):
        load_graph(conn)
