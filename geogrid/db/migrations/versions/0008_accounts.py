"""accounts: users, API keys, browser sessions, planners' granted areas and the append-only audit log

Revision ID: 0008_accounts
Revises: 0006_address_norms
Create Date: 2026-11-25 21:00:00

The audit log refuses UPDATE, DELETE and TRUNCATE by trigger (whatever role connects), and in the embedded
cluster it is owned by the superuser with only SELECT and INSERT granted to the application's role
(``geogrid.db.roles``), so the application cannot rewrite what it recorded.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008_accounts"
down_revision = "0007_trust"
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    now = sa.text("now()")
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now),
    )
    op.create_table(
        "account_scopes",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("area_code", sa.String(32), primary_key=True),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("rate_per_minute", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32)),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("address", sa.String(100)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("area", sa.String(32)),
        sa.Column("target", sa.String(200)),
        sa.Column("details", JSONB),
    )
    op.create_index("audit_log_at", "audit_log", ["at"])
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for name in ("sessions", "api_keys", "account_scopes", "accounts"):
        op.drop_table(name)
