"""Roles and the permissions each grants.

A permission names a kind of operation, not a route: the API's authorization table maps every route to one.
``public`` operations (health, sign-in, docs) need nobody; the ``GEOGRID_PUBLIC`` setting lists the
permissions anyone has without signing in (default maps, read feeds and point lookups).
"""

from __future__ import annotations

from geogrid.model import ROLES

PUBLIC = "public"
PERMISSIONS = ("maps", "read", "lookup", "batch", "plan_read", "plan", "personal", "admin")

_VIEWER = frozenset({"maps", "read", "lookup"})
GRANTS: dict[str, frozenset[str]] = {
    "viewer": _VIEWER,
    "api_client": _VIEWER | {"batch"},
    "grid_staff": _VIEWER | {"batch", "personal"},
    "community_staff": _VIEWER | {"batch", "personal", "plan_read"},
    "planner": _VIEWER | {"batch", "plan_read", "plan"},
    "admin": frozenset(PERMISSIONS),
}
# Roles that see personal data and unsuppressed small counts of special groups (for their own places).
STAFF = frozenset({"grid_staff", "community_staff", "admin"})
assert set(GRANTS) == set(ROLES)


def allowed(role: str | None, permission: str, public: tuple[str, ...]) -> bool:
    """True when ``role`` (None: not signed in) may use an operation needing ``permission``."""
    if permission == PUBLIC or permission in public:
        return True
    return role is not None and permission in GRANTS.get(role, frozenset())
