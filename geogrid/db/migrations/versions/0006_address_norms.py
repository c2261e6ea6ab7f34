"""address norms: each gazetteer name's normal form, kept between rebuilds

Revision ID: 0006_address_norms
Revises: 0001
Create Date: 2026-11-24 08:20:00

Normalising names (jionlp, OpenCC) was most of a gazetteer rebuild: 45 s for a million buildings. The forms
are kept here, keyed by the text, so ``geogrid compute`` normalises only names it has not seen; the table's
comment says which normaliser made them, and another one starts afresh.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_address_norms"
down_revision = "0005_station_walks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_norms",
        sa.Column("text", sa.String(300), primary_key=True),
        sa.Column("norm", sa.String(300), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("address_norms")
