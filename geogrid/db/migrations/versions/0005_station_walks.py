"""station walks: the nearest service station along the walking network from every walk node

Revision ID: 0005_station_walks
Revises: 0001
Create Date: 2026-11-24 08:00:00

Lookups answered "walking minutes" from the straight-line distance; with a walking network they now take the
walk along it. One row per node (derived by ``geogrid compute``); a lookup adds the few metres from the point
to its nearest node.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_station_walks"
down_revision = "0004_map_layers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_walks",
        sa.Column("node_id", sa.BigInteger(), primary_key=True),
        sa.Column("station_id", sa.Integer(), sa.ForeignKey("facilities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("walk_m", sa.Float(), nullable=False),
    )
    op.create_index("ix_station_walks_station_id", "station_walks", ["station_id"])


def downgrade() -> None:
    op.drop_table("station_walks")
