"""partition: estimated households, barrier lines, and the units a partition never splits

Revision ID: 0009_partition
Revises: 0006_address_norms
Create Date: 2026-11-25 21:00:00

``buildings.households_estimated`` marks an estimate (footprint × levels × residential share ÷ dwelling
size). Any later change of ``households`` that is not itself an estimate (the session setting
``geogrid.estimating`` unset) clears the mark: real figures replace estimates wherever they come from.
``barrier_lines`` holds the roads, rivers and railways blocks are cut by (from OpenStreetMap).
``partition_units`` keeps the last units computed per community (blocks, compounds, buildings), so that
a planner can later paint units rather than draw boundaries.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0009_partition"
down_revision = "0008_accounts"
branch_labels = None
depends_on = None

TRIGGER = """
CREATE OR REPLACE FUNCTION geogrid_households_real() RETURNS trigger AS $$
BEGIN
    IF NEW.households IS DISTINCT FROM OLD.households
       AND coalesce(current_setting('geogrid.estimating', true), '') <> 'on' THEN
        NEW.households_estimated := false;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER buildings_households_real BEFORE UPDATE OF households ON buildings
    FOR EACH ROW EXECUTE FUNCTION geogrid_households_real();
"""


def upgrade() -> None:
    op.add_column(
        "buildings", sa.Column("households_estimated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(TRIGGER)
    op.create_table(
        "barrier_lines",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(200), index=True),
        sa.Column("geom", Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False),
    )
    op.create_table(
        "partition_units",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.Integer, sa.ForeignKey("admin_areas.id", ondelete="CASCADE"), index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("households", sa.Integer, nullable=False, server_default="0"),
        sa.Column("estimated_households", sa.Integer, nullable=False, server_default="0"),
        sa.Column("building_ids", ARRAY(sa.BigInteger), nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("partition_units")
    op.drop_table("barrier_lines")
    op.execute("DROP TRIGGER IF EXISTS buildings_households_real ON buildings")
    op.execute("DROP FUNCTION IF EXISTS geogrid_households_real()")
    op.drop_column("buildings", "households_estimated")
