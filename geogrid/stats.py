"""Per-grid figures a street office reports: households, residents, party members, special groups, staff."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from geogrid.figures import FIGURE_COLUMNS, grid_figures
from geogrid.scope import resolve_scope

COLUMNS = ["code", "name", "kind", "community_code", "community_name", *FIGURE_COLUMNS]


def grid_stats(conn: Connection, community: str | None = None) -> pd.DataFrame:
    """One row per grid in force (optionally of one place, by code or name), ordered by code.

    ``community`` may name a district, street, community or grid; an unknown one is :class:`NotFound`.
    """
    return grid_figures(conn, resolve_scope(conn, community))[COLUMNS]
