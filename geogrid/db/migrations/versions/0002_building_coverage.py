"""building coverage: which service circles cover each building, stored once per computation

Revision ID: 0002_building_coverage
Revises: 0001
Create Date: 2026-11-24 05:50:00

``building_coverage_sets`` numbers every (mode, minutes, facility kind) that had service areas when
coverage was last stored; ``building_coverage`` holds, per 63-bit word of those numbers, blocks of packed
(building id, bits) records of the covered buildings sorted by id: a million buildings read as one value
in a tenth of a second, where a million rows take most of a second. Statement triggers add a row to
``building_coverage_changes`` whenever buildings move, service areas change or facilities change kind or
candidacy; stored coverage counts only while that table is empty (a reader computes on the fly otherwise),
so no reader trusts coverage older than the data. Writers only insert there, so concurrent writers never
wait on each other's marker; storing coverage empties it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_building_coverage"
down_revision = "0001"
branch_labels = None
depends_on = None

TRIGGERS = {
    "buildings": "AFTER INSERT OR DELETE OR UPDATE OF geom",
    "service_areas": "AFTER INSERT OR DELETE OR UPDATE",
    "facilities": "AFTER DELETE OR UPDATE OF kind, candidate",
}


def upgrade() -> None:
    op.create_table(
        "building_coverage_sets",
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("word", sa.Integer(), nullable=False),
        sa.Column("bit", sa.SmallInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("mode", "minutes", "kind"),
        sa.CheckConstraint("bit BETWEEN 0 AND 62", name="ck_building_coverage_sets_bit"),
    )
    op.create_table(
        "building_coverage",
        sa.Column("word", sa.Integer(), nullable=False),
        sa.Column("lo", sa.BigInteger(), nullable=False),
        sa.Column("hi", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("word", "lo"),
    )
    op.execute("ALTER TABLE building_coverage ALTER COLUMN data SET STORAGE EXTERNAL")  # no compression
    op.create_table(
        "building_coverage_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.execute(
        "CREATE FUNCTION building_coverage_stale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO building_coverage_changes DEFAULT VALUES; RETURN NULL; END $$"
    )
    for table, events in TRIGGERS.items():
        for when in (events, "AFTER TRUNCATE"):
            name = f"{table}_coverage_stale" + ("_truncate" if when == "AFTER TRUNCATE" else "")
            op.execute(
                f"CREATE TRIGGER {name} {when} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION building_coverage_stale()"
            )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_coverage_stale ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_coverage_stale_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS building_coverage_stale()")
    for table in ("building_coverage_changes", "building_coverage", "building_coverage_sets"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
