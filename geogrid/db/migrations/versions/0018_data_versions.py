"""data versions: a transactional version of the data maps and tiles draw, changed by every write in its own transaction

Revision ID: 0018_data_versions
Revises: 0017_lookup_prune
Create Date: 2026-11-26 06:00:00

Map layers and tiles were cached under PostgreSQL's per-table write counters, which PostgreSQL 15 publishes up
to about 10 s after a commit: a map could be served stale for seconds. A statement trigger on every table
maps read now appends a row to ``data_changes`` in the writer's transaction; ``data_version`` holds the count
and sum of ids of the rows pruned so far, and a random epoch (a new one after ``geogrid db reset``). The
version and the argument why it is sound are in :mod:`geogrid.db.versions`.
"""

from alembic import op

revision = "0018_data_versions"
down_revision = "0017_lookup_prune"
branch_labels = None
depends_on = None

# Every table a map layer or a tile reads (maps.cache.TABLES checks it stays so).
TABLES = (
    "grids",
    "admin_areas",
    "buildings",
    "building_assignments",
    "residents",
    "facilities",
    "service_areas",
    "staff",
    "staff_assignments",
    "party_orgs",
    "base_features",
    "compounds",
)
PRUNE_EVERY = 64  # rows between prunes run by the insert trigger: the version query scans at most about this many
LOCK_KEY = 0x64617461  # 'data': one prune at a time, tried, never waited for


def upgrade() -> None:
    op.execute("CREATE TABLE data_changes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tbl name NOT NULL)")
    op.execute(
        "CREATE TABLE data_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
        "epoch uuid NOT NULL DEFAULT gen_random_uuid(), pruned bigint NOT NULL DEFAULT 0, "
        "pruned_sum numeric NOT NULL DEFAULT 0)"
    )
    op.execute("INSERT INTO data_version DEFAULT VALUES")
    op.execute(
        f"""
        CREATE FUNCTION prune_data_changes() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            gone bigint;
        BEGIN
            IF NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN
                RETURN 0;
            END IF;
            WITH d AS (DELETE FROM data_changes RETURNING id),
                 a AS (SELECT count(*) AS n, coalesce(sum(id), 0) AS s FROM d)
            UPDATE data_version SET pruned = pruned + a.n, pruned_sum = pruned_sum + a.s FROM a
            RETURNING a.n INTO gone;
            RETURN coalesce(gone, 0);
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            added bigint;
        BEGIN
            INSERT INTO data_changes (tbl) VALUES (TG_TABLE_NAME) RETURNING id INTO added;
            IF added % {PRUNE_EVERY} = 0 AND current_setting('transaction_isolation') = 'read committed' THEN
                PERFORM prune_data_changes();
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION data_changed()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_data_changed_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION data_changed()"
        )
    op.execute("DELETE FROM map_layers")  # stored under the old fingerprints: never matched again


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_changed ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_changed_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS data_changed()")
    op.execute("DROP FUNCTION IF EXISTS prune_data_changes()")
    op.execute("DROP TABLE IF EXISTS data_changes")
    op.execute("DROP TABLE IF EXISTS data_version")
