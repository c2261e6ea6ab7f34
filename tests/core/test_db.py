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
    """Every geometry column of a table (any schema) has a GiST index; views (the ``ogc`` feed) cannot have one
    and read the indexes of the tables beneath them."""
    with database.connect() as conn:
        cols = conn.execute(
            text(
                "SELECT g.f_table_schema, g.f_table_name, g.f_geometry_column FROM geometry_columns g "
                "JOIN pg_namespace n ON n.nspname = g.f_table_schema "
                "JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = g.f_table_name WHERE t.relkind = 'r'"
            )
        ).all()
        indexed = conn.execute(
            text(
                "SELECT n.nspname, t.relname, a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) WHERE am.amname = 'gist'"
            )
        ).all()
    missing = set(map(tuple, cols)) - set(map(tuple, indexed))
    assert {("public", "grids", "geom"), ("public", "buildings", "geom")} <= set(map(tuple, cols))
    assert not missing
