"""rosters: dated staff assignments, party organisation hierarchy, and a log of every roster change

Revision ID: 0010_rosters
Revises: 0012_maps
Create Date: 2026-11-25 21:30:00

"Who was responsible for grid X on date D" is answered from ``staff_assignments`` itself: an assignment
runs from ``start_date`` (NULL: since before records) to ``end_date`` (the last day served; NULL: current).
Ending an assignment keeps its row, so the grid card, stats and validation read only the rows with no end.
``roster_changes`` records who changed what and when (imports, API edits, plan carry-overs).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_rosters"
down_revision = "0012_maps"
branch_labels = None
depends_on = None

ROLES = (
    "grid_leader",
    "full_time_worker",
    "part_time_worker",
    "specialist",
    "building_leader",
    "party_central_household",
    "party_instructor",
    "employed_party_member",
)  # order of responsibility
_ROLE_ARRAY = "ARRAY[" + ", ".join(f"'{r}'" for r in ROLES) + "]"


def _area(alias: str) -> str:
    return f"CASE WHEN {alias}.code <> '' THEN json_build_object('code', {alias}.code, 'name', {alias}.name) END"


def grid_card(current_only: bool) -> str:
    """The per-grid lookup card of 0003, reading only current assignments when ``current_only``."""
    current = " AND sa.end_date IS NULL" if current_only else ""
    return f"""
CREATE OR REPLACE FUNCTION grid_card(gid integer) RETURNS text LANGUAGE sql STABLE AS $$
SELECT json_build_object(
  'community', {_area("c")}, 'street', {_area("s")}, 'district', {_area("d")},
  'staff', COALESCE((SELECT json_agg(json_build_object('role', t.role, 'name', t.name)
                                     ORDER BY array_position({_ROLE_ARRAY}, t.role::text), t.name)
                       FROM (SELECT sa.role, st.name FROM staff_assignments sa JOIN staff st ON st.id = sa.staff_id
                              WHERE sa.grid_id = g.id AND sa.building_id IS NULL{current}) t), '[]'::json),
  'party_org', (SELECT json_build_object('name', po.name, 'level', po.level)
                  FROM party_orgs po WHERE po.grid_id = g.id AND po.building_id IS NULL
                 ORDER BY po.level <> 'grid_branch', po.id LIMIT 1))::text
  FROM grids g
  LEFT JOIN admin_areas c ON c.id = g.community_id
  LEFT JOIN admin_areas s ON s.id = c.parent_id
  LEFT JOIN admin_areas d ON d.id = s.parent_id
 WHERE g.id = gid
$$"""


def upgrade() -> None:
    op.add_column("staff_assignments", sa.Column("start_date", sa.Date()))
    op.add_column("staff_assignments", sa.Column("end_date", sa.Date()))
    op.add_column("staff_assignments", sa.Column("households", sa.Integer()))
    op.add_column("staff_assignments", sa.Column("author", sa.String(100)))
    op.add_column("staff_assignments", sa.Column("ended_by", sa.String(100)))
    op.create_check_constraint(
        "ck_staff_assignments_dates",
        "staff_assignments",
        "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
    )
    op.create_index(
        "ix_staff_assignments_current", "staff_assignments", ["grid_id"], postgresql_where=sa.text("end_date IS NULL")
    )
    op.add_column(
        "party_orgs", sa.Column("parent_id", sa.Integer(), sa.ForeignKey("party_orgs.id", ondelete="SET NULL"))
    )
    op.add_column("party_orgs", sa.Column("member_count", sa.Integer()))
    op.add_column("party_orgs", sa.Column("source_id", sa.String(200)))
    op.create_index("ix_party_orgs_source_id", "party_orgs", ["source_id"])
    op.create_index("ix_staff_source_id", "staff", ["source_id"])
    op.create_table(
        "roster_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("author", sa.String(100)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer()),
        sa.Column("grid_id", sa.Integer(), index=True),
        sa.Column("detail", sa.dialects.postgresql.JSONB()),
    )
    op.execute(grid_card(current_only=True))
    op.execute("SELECT grid_cards_refresh(NULL)")


def downgrade() -> None:
    op.execute(grid_card(current_only=False))
    op.drop_table("roster_changes")
    op.drop_index("ix_staff_source_id", "staff")
    op.drop_index("ix_party_orgs_source_id", "party_orgs")
    for column in ("source_id", "member_count", "parent_id"):
        op.drop_column("party_orgs", column)
    op.drop_index("ix_staff_assignments_current", "staff_assignments")
    op.drop_constraint("ck_staff_assignments_dates", "staff_assignments")
    for column in ("ended_by", "author", "households", "end_date", "start_date"):
        op.drop_column("staff_assignments", column)
    op.execute("SELECT grid_cards_refresh(NULL)")
