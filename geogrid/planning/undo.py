"""Undo an applied plan: every grid it touched goes back to the version before it, in one transaction.

The undo is itself a plan (``plans.undoes``), applied through the same writes as any other, so history shows
new versions rather than rewritten ones; the original is marked ``undone`` (``plans.undone_by``). A grid that a
later plan changed again cannot be undone silently: that is a 409 naming the grid and what changed it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geogrid.errors import Conflict, NotFound
from geogrid.i18n import t
from geogrid.planning.apply import apply_plan
from geogrid.planning.edit_models import Revert
from geogrid.planning.preview import create_plan

# The grids a plan wrote a version of (changed, restored or created), and the grids it retired (lineage parents).
WRITTEN_SQL = """
SELECT g.code, v.version, EXISTS (SELECT 1 FROM grid_lineage l WHERE l.child_id = g.id AND l.change_id = :p)
       AS created
FROM grid_versions v JOIN grids g ON g.id = v.grid_id WHERE v.change_id = :p ORDER BY g.code
"""
RETIRED_SQL = """
SELECT DISTINCT ON (l.child_id) g.code, g.version FROM grid_lineage l JOIN grids g ON g.id = l.parent_id
WHERE l.change_id = :p ORDER BY l.child_id, g.code
"""  # one parent per child: reverting it brings back its co-parents (a merge) and retires its children


def undo_plan(conn: Connection, plan_id: int, author: str | None = None) -> dict:
    """Undo an applied plan in the caller's transaction; returns the apply result of the undoing plan."""
    plan = conn.execute(text("SELECT status, undoes FROM plans WHERE id = :i FOR UPDATE"), {"i": plan_id}).first()
    if plan is None:
        raise NotFound(t("no plan {plan}", plan=plan_id))
    if plan.status != "applied":
        raise Conflict(
            t("plan {plan} is {status}: only an applied plan can be undone", plan=plan_id, status=plan.status)
        )
    written = conn.execute(text(WRITTEN_SQL), {"p": plan_id}).all()
    retired = conn.execute(text(RETIRED_SQL), {"p": plan_id}).all()
    edits = [
        Revert(op="revert", grid=w.code, to_version=w.version - 1) for w in written if not w.created and w.version > 1
    ]
    last_retired = {r.code: r.version for r in retired}
    edits += [Revert(op="revert", grid=code, to_version=version) for code, version in last_retired.items()]
    if not edits:
        raise Conflict(t("plan {plan} changed no grid that can be restored", plan=plan_id))
    base = {w.code: w.version for w in written}  # still the versions it wrote, or 409
    undo = create_plan(conn, edits, base_versions=base, author=author)
    result = apply_plan(conn, undo["plan"], author, force=True, reason=t("undo of plan {plan}", plan=plan_id))
    conn.execute(text("UPDATE plans SET undoes = :p WHERE id = :u"), {"p": plan_id, "u": undo["plan"]})
    conn.execute(
        text("UPDATE plans SET status = 'undone', undone_by = :u WHERE id = :p"), {"p": plan_id, "u": undo["plan"]}
    )
    return {**result, "undoes": plan_id}
