"""lookup: ``lookup_changes`` pruned as it is written, never under a memory copy that still needs a row

Revision ID: 0017_lookup_prune
Revises: 0016_lookup
Create Date: 2026-11-26 03:10:00

``lookup_changes`` grew by one row per write statement and was never pruned. A memory copy of the point
answers (:mod:`geogrid.point_index`) reads two things from it: the newest id (``top``), and the rows of the
transactions that were still running when it read the data (its watch list). Each row now also records a
horizon: the oldest transaction still running when it was written (``pg_snapshot_xmin``), so every
transaction below it had ended. ``prune_lookup_changes()`` deletes the rows of transactions below the highest
horizon of a committed row, and never the newest row.

Why no copy can be fooled: a copy is fooled only if a watched transaction's rows vanish while ``top`` stays
what the copy read. To delete them the prune needs a horizon above that transaction, i.e. a row written after
it ended, hence after the copy read, with a higher id than any the copy saw; the newest row is kept, so
``max(id)`` has moved past the copy's ``top`` and the copy is stale already (it rebuilds). No clock, no
registration of copies. The table holds the rows since the oldest running transaction began, plus at most
``PRUNE_EVERY``.

The insert trigger prunes every ``PRUNE_EVERY``-th row, in READ COMMITTED transactions only (a REPEATABLE READ
writer could fail on rows another prune deleted), and only when no other prune is running (a
transaction-scoped advisory lock tried, never waited for): writers still never wait on each other.
"""

from alembic import op

revision = "0017_lookup_prune"
down_revision = "0016_lookup"
branch_labels = None
depends_on = None

PRUNE_EVERY = 256  # rows between prunes run by the insert trigger
LOCK_KEY = 0x6C6F6F6B  # 'look': one prune at a time


def upgrade() -> None:
    op.execute("ALTER TABLE lookup_changes ADD COLUMN horizon xid8 DEFAULT pg_snapshot_xmin(pg_current_snapshot())")
    op.execute(
        f"""
        CREATE FUNCTION prune_lookup_changes() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            below xid8;
            newest bigint;
            gone bigint;
        BEGIN
            IF NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN
                RETURN 0;
            END IF;
            SELECT max(horizon), max(id) INTO below, newest FROM lookup_changes;
            IF below IS NULL THEN
                RETURN 0;
            END IF;
            DELETE FROM lookup_changes WHERE xid < below AND id < newest;
            GET DIAGNOSTICS gone = ROW_COUNT;
            RETURN gone;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION lookup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            added bigint;
        BEGIN
            INSERT INTO lookup_changes DEFAULT VALUES RETURNING id INTO added;
            IF added % {PRUNE_EVERY} = 0 AND current_setting('transaction_isolation') = 'read committed' THEN
                PERFORM prune_lookup_changes();
            END IF;
            RETURN NULL;
        END $$
        """
    )


def downgrade() -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION lookup_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO lookup_changes DEFAULT VALUES; RETURN NULL; END $$"
    )
    op.execute("DROP FUNCTION IF EXISTS prune_lookup_changes()")
    op.execute("ALTER TABLE lookup_changes DROP COLUMN IF EXISTS horizon")
