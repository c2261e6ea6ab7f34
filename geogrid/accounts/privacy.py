"""Privacy by default: small counts of special groups are suppressed in aggregates non-staff roles see.

A grid with one or two elderly people living alone identifies them to a neighbour; a count from 1 to
``GEOGRID_SUPPRESS_BELOW`` - 1 becomes None (0 stays 0: it discloses nobody), and so do the covered count
and share derived from it, which would give it back.
"""

from __future__ import annotations

from typing import Any

from geogrid.model import SPECIAL_GROUPS


def _suppress_row(row: dict, below: int) -> int:
    hidden = 0
    for group in SPECIAL_GROUPS:
        counts = [row.get(k) for k in (group, f"{group}_covered")]
        if any(isinstance(c, int | float) and 0 < c < below for c in counts):
            for key in (group, f"{group}_covered", f"{group}_share"):
                if key in row:
                    row[key] = None
                    hidden += 1
    if hidden:
        row["suppressed"] = True
    return hidden


def suppress(value: Any, below: int) -> int:
    """Suppress small special-group counts in place, in every dict nested in ``value``; returns how many."""
    if below <= 1:
        return 0
    if isinstance(value, dict):
        return _suppress_row(value, below) + sum(suppress(v, below) for v in value.values())
    if isinstance(value, list):
        return sum(suppress(v, below) for v in value)
    return 0
