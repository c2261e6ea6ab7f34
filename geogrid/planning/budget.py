"""Bounded work for plans: a size and a time budget on previews, and draft plans that expire.

A 100k-vertex plan took 35–39 s to preview and stored 4.4 MB, and drafts never expired: cheap to send,
expensive to run. Each refusal is an :class:`OverBudget` (413) or :class:`Expired` (422) naming the setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.settings import get_settings

QUERY_CANCELED = "57014"


class OverBudget(GeogridError):
    """Over a size or time budget (a setting): answered 413 with the limit."""

    status_code = 413


class Expired(GeogridError):
    status_code = 422


def check_plan_size(stored_edits: str) -> None:
    """Refuse edits whose stored JSON is over ``GEOGRID_PLAN_MAX_BYTES``."""
    limit = get_settings().plan_max_bytes
    size = len(stored_edits.encode())
    if size > limit:
        raise OverBudget(
            t(
                "plan edits of {size} bytes are over the limit of {limit} bytes (GEOGRID_PLAN_MAX_BYTES); "
                "split the plan",
                size=size,
                limit=limit,
            )
        )


@contextmanager
def preview_budget(conn: Connection) -> Iterator[None]:
    """Run a preview under ``GEOGRID_PREVIEW_TIMEOUT``: every statement of the caller's transaction is cancelled
    past it, and the cancellation becomes a 413 naming the budget."""
    seconds = get_settings().preview_timeout_s
    conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": f"{max(1, int(seconds * 1000))}ms"})
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
            raise OverBudget(
                t(
                    "the preview took over its budget of {seconds} s (GEOGRID_PREVIEW_TIMEOUT); split "
                    "the plan into smaller ones",
                    seconds=seconds,
                )
            ) from None
        raise


# Drafts past their time to live (``:ttl_s`` seconds) become ``expired``; also run inside the statement that stores
# a new plan (:func:`geogrid.planning.preview.create_plan`), one round trip fewer per preview.
EXPIRE_SQL = (
    "UPDATE plans SET status = 'expired' WHERE status = 'draft' AND created_at < now() - make_interval(secs => :ttl_s)"
)


def ttl_seconds() -> float:
    """``GEOGRID_DRAFT_TTL_HOURS`` in seconds, as :data:`EXPIRE_SQL` takes it."""
    return get_settings().draft_ttl_hours * 3600


def expire_drafts(conn: Connection) -> int:
    """Mark drafts older than ``GEOGRID_DRAFT_TTL_HOURS`` as ``expired``; returns how many."""
    return conn.execute(text(EXPIRE_SQL), {"ttl_s": ttl_seconds()}).rowcount


def check_fresh(conn: Connection, plan_id: int) -> None:
    """Refuse to apply a draft older than ``GEOGRID_DRAFT_TTL_HOURS`` (the refusal rolls the caller back, so the
    draft is marked ``expired`` by the next :func:`expire_drafts`, when a plan is made)."""
    hours = get_settings().draft_ttl_hours
    stale = conn.scalar(
        text(
            "SELECT id FROM plans WHERE id = :i AND status = 'draft' AND created_at < now() - make_interval(secs => :s)"
        ),
        {"i": plan_id, "s": hours * 3600},
    )
    if stale is not None:
        raise Expired(
            t(
                "plan {plan} expired: drafts expire after {hours} hours (GEOGRID_DRAFT_TTL_HOURS); preview it again",
                plan=plan_id,
                hours=hours,
            )
        )
