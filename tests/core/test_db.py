"""The embedded cluster and migrations."""

from sqlalchemy import inspect, text

from geogrid.db import cluster


def test_cluster_runs_with_postgis_and_all_tables(database):
    assert cluster.running()
    with database.connect() as conn:
        assert conn.scalar(text("SELECT postgis_version()")).startswith("3.")
    tables = set(inspect(database).get_table_names())
    assert {"grids", "buildings", "building_assignments", "residents", "facilities", "staff"} <= tables


def test_every_geometry_column_has_a_spatial_index(database):
    with database.connect() as conn:
        cols = conn.execute(text("SELECT f_table_name, f_geometry_column FROM geometry_columns")).all()
        indexed = conn.execute(text(
            "SELECT t.relname, a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) WHERE am.amname = 'gist'"
        )).all()
    missing = set(map(tuple, cols)) - set(map(tuple, indexed))
    assert cols and not missing
