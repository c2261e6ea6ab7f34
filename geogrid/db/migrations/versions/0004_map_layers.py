"""map layers: prepared (gzipped) GeoJSON of the maps, keyed by the state of the data they were built from

Revision ID: 0004_map_layers
Revises: 0001
Create Date: 2026-11-24 06:30:00

A city's layers take seconds to build but change only with the data. ``maps.cache`` keeps one row per layer
(layer, scope, datum) with the fingerprint of the write counters it was built at, so every API worker and a
restarted one serve the prepared bytes instead of rebuilding them on a viewer's first request.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_map_layers"
down_revision = "0003_grid_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "map_layers",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_gzip", sa.LargeBinary(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("map_layers")
