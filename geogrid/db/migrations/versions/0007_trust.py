"""trust: a forced apply's reason, and which plan undid which

Revision ID: 0007_trust
Revises: 0006_address_norms
Create Date: 2026-11-25 21:10:00

A plan whose preview adds validation errors is applied only with ``force`` and a reason, kept in
``plans.force_reason``. ``POST /plans/{id}/undo`` stores the undo as a plan of its own (``undoes``) and marks the
original ``undone`` (``undone_by``), so history says who undid what and when.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_trust"
down_revision = "0006_address_norms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("force_reason", sa.String(500)))
    op.add_column("plans", sa.Column("undoes", sa.Integer, sa.ForeignKey("plans.id")))
    op.add_column("plans", sa.Column("undone_by", sa.Integer, sa.ForeignKey("plans.id")))


def downgrade() -> None:
    op.drop_column("plans", "undone_by")
    op.drop_column("plans", "undoes")
    op.drop_column("plans", "force_reason")
