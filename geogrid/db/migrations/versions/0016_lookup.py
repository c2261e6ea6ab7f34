"""lookup: a change log of the tables a point lookup reads, so answers can come from memory and stay current

Revision ID: 0016_lookup
Revises: 0010_rosters
Create Date: 2026-11-26 00:10:00

A point lookup read grids, grid cards, the walking network, station walks, facilities and service areas in
one SQL statement per point: most of ``/lookup``'s cost. The API now keeps them in memory
(:mod:`geogrid.point_index`) and asks the database one cheap question per request: the newest row of
``lookup_changes`` (and whether a transaction that was running when the memory copy was read has since
written, or the caller's own transaction has). Statement triggers insert a row on any write to those tables:
writers only insert, so they never wait on each other; the row carries the writer's transaction id.
``TRUNCATE`` gives the table a new file node, which is part of the key too.
"""

from alembic import op

revision = "0016_lookup"
down_revision = "0010_rosters"
branch_labels = None
depends_on = None

TABLES = (
    "grids",
    "grid_cards",
    "admin_areas",
    "facilities",
    "service_areas",
    "walk_edges",
    "walk_nodes",
    "station_walks",
)


def upgrade() -> None:
    op.execute(
        "CREATE TABLE lookup_changes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), changed_at timestamptz NOT NULL DEFAULT now())"
    )
    op.execute("CREATE INDEX ix_lookup_changes_xid ON lookup_changes (xid)")
    op.execute(
        "CREATE FUNCTION lookup_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO lookup_changes DEFAULT VALUES; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_lookup_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lookup_changed()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_lookup_changed_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lookup_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lookup_changed ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lookup_changed_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS lookup_changed()")
    op.execute("DROP TABLE IF EXISTS lookup_changes")
