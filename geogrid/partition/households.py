"""Household estimates for buildings without figures (OpenStreetMap): footprint × storeys × residential share
÷ dwelling size, each a setting; ``building:levels`` when tagged.

An estimate is stored in ``buildings.households`` (so bands, stats and validation see it) with
``households_estimated`` set; a trigger (revision ``0009_partition``) clears the mark whenever the figure
is later changed by anything but this module, so real figures replace estimates wherever they come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.settings import get_settings

ESTIMATE_SQL = """
UPDATE buildings b SET households_estimated = true,
       households = greatest(0, round(ST_Area(b.footprint::geography) * coalesce(b.floors, :levels) * v.share
                                      / :dwelling))::int
FROM unnest(CAST(:ids AS text[]), CAST(:shares AS float8[])) AS v(source_id, share)
WHERE b.source_id = v.source_id AND b.footprint IS NOT NULL AND (b.households = 0 OR b.households_estimated)
"""


def residential_share(tags: pd.Series) -> np.ndarray:
    """Share of floor area that is homes, by the OSM ``building`` tag (``*`` for any other tag)."""
    shares = get_settings().residential_share
    other = shares.get("*", 0.0)
    return tags.map(lambda v: shares.get(v, other) if isinstance(v, str) else shares.get("yes", other)).to_numpy(
        dtype=float
    )


def store_estimates(conn: Connection, frame: pd.DataFrame) -> int:
    """Estimate households of the buildings in ``frame`` (``source_id``, ``building`` tag) that have no real
    figure (0, or an earlier estimate). Returns how many buildings now carry an estimate."""
    if not len(frame):
        return 0
    cfg = get_settings()
    tags = frame["building"] if "building" in frame else pd.Series(None, index=frame.index, dtype=object)
    conn.execute(text("SELECT set_config('geogrid.estimating', 'on', true)"))
    try:
        result = conn.execute(
            text(ESTIMATE_SQL),
            {
                "ids": frame["source_id"].astype(str).tolist(),
                "shares": residential_share(tags).tolist(),
                "levels": cfg.default_levels,
                "dwelling": cfg.dwelling_m2,
            },
        )
    finally:
        conn.execute(text("SELECT set_config('geogrid.estimating', 'off', true)"))
    return result.rowcount
