"""The account roles, lightest first (no SQLAlchemy here: the CLI's help lists them at start-up)."""

from __future__ import annotations

ROLES = ("viewer", "api_client", "grid_staff", "community_staff", "planner", "admin")
