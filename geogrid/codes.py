"""Grid codes: the community's 12-digit statistical code plus a sequence number (settings template).

Sequence numbers run west→east, then north→south within a community (domain rule); codes of retired
grids are never reused, so a new grid takes the next number after every code the community ever had.
"""

from __future__ import annotations

import re

import numpy as np
from sqlalchemy import Connection, text

from geogrid.settings import get_settings


def codes_by_id(conn: Connection, ids: list[int]) -> dict[int, str]:
    """Codes of grids by id (retired ones too): how written changes and map rows name their grids."""
    rows = conn.execute(text("SELECT id, code FROM grids WHERE id = ANY(:ids)"), {"ids": [int(i) for i in ids]})
    return {r.id: r.code for r in rows}


def grid_code(community_code: str, seq: int, template: str | None = None) -> str:
    """Format a grid code, e.g. ``110108001001`` + ``005`` → ``110108001001005``."""
    return (template or get_settings().grid_code_template).format(community_code=community_code, seq=seq)


def sequence_of(code: str, community_code: str) -> int | None:
    """The sequence number in a grid code of this community, or None if the code is not of that form."""
    if not code.startswith(community_code):
        return None
    rest = code[len(community_code) :]
    return int(rest) if re.fullmatch(r"\d+", rest) else None


def reading_order(x: np.ndarray, y: np.ndarray, row_height: float) -> np.ndarray:
    """Indices that sort points north→south in rows of ``row_height``, then west→east within a row."""
    rows = np.floor((np.max(y) - np.asarray(y)) / row_height) if len(y) else np.asarray(y)
    return np.lexsort((np.asarray(x), rows))


def next_sequence(existing_codes: list[str], community_code: str) -> int:
    """The next free sequence number, past every code the community has had (retired ones included)."""
    seqs = [s for c in existing_codes if (s := sequence_of(c, community_code)) is not None]
    return max(seqs, default=0) + 1
