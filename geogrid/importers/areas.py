"""Administrative areas: districts (6-digit code), street offices (9) and communities (12).

Statistical codes are often padded to 12 digits (``110108014000`` is a street): the level comes from
``--level``, else from the significant digits. The parent is found by code prefix, so areas can be
imported top-down or bottom-up. Re-importing updates the areas by code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.i18n import t
from geogrid.importers.geometry import polygons
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, merge, stage
from geogrid.model import AREA_LEVELS

LEVEL_DIGITS = {"district": 6, "street": 9, "community": 12}
LEVEL_ALIASES = {
    "区": "district",
    "县": "district",
    "街道": "street",
    "乡镇": "street",
    "镇": "street",
    "社区": "community",
    "村": "community",
}


def code_level(code: str) -> str | None:
    """Level of a statistical code by its significant digits, None if it is not such a code."""
    if not code.isdigit() or len(code) not in (6, 9, 12):
        return None
    if len(code) == 12 and code.endswith("000"):
        return "district" if code.endswith("000000") else "street"
    return {6: "district", 9: "street", 12: "community"}[len(code)]


def parse_level(level: str | None) -> str | None:
    if level is None:
        return None
    name = LEVEL_ALIASES.get(level.strip(), level.strip().lower())
    if name not in AREA_LEVELS:
        from geogrid.errors import GeogridError

        raise GeogridError(t("unknown level '{level}': use {levels}", level=level, levels=AREA_LEVELS))
    return name


def import_areas(
    conn: Connection,
    source: Source,
    *,
    level: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    id_field: str | None = None,
) -> ImportReport:
    """Upsert the file's areas by code and link every area to its parent by code prefix."""
    level = parse_level(level)
    code_col = source.column(code_field, "code", required=True, option="--code-field")
    name_col = source.column(name_field, "name", required=True, option="--name-field")
    codes, names = source.text(code_col), source.text(name_col)
    source.first_bad(codes == None, lambda i: t("code is missing"), code_col)  # noqa: E711
    levels = np.asarray([code_level(c) for c in codes], dtype=object)
    source.first_bad(
        levels == None,  # noqa: E711
        lambda i: t("'{code}' is not a 6, 9 or 12-digit area code", code=codes[i]),
        code_col,
    )
    if level:
        levels[:] = level
    source.first_bad(names == None, lambda i: t("name is missing"), name_col)  # noqa: E711
    source.first_bad(
        pd.Series(codes).duplicated().to_numpy(), lambda i: t("code '{code}' appears twice", code=codes[i]), code_col
    )
    frame = pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "level": levels,
            "source_id": source.source_ids(id_field) if id_field else codes,
            "geom": polygons(source),
        }
    )
    temp = stage(conn, "admin_areas", frame, tick=source.tick, source=source)
    updated, inserted = merge(conn, "admin_areas", temp, "code", list(frame.columns))
    linked = link_parents(conn)
    return ImportReport(t("areas"), len(frame), updated, inserted, linked_to_parent=linked)


def link_parents(conn: Connection) -> int:
    """Set ``parent_id`` of every street and community from the code prefix of the level above."""
    return conn.execute(
        text(
            "UPDATE admin_areas a SET parent_id = p.id FROM admin_areas p "
            "WHERE p.level = CASE a.level WHEN 'street' THEN 'district' WHEN 'community' THEN 'street' END "
            "AND left(p.code, CASE p.level WHEN 'district' THEN 6 ELSE 9 END) "
            "  = left(a.code, CASE p.level WHEN 'district' THEN 6 ELSE 9 END) "
            "AND a.parent_id IS DISTINCT FROM p.id"
        )
    ).rowcount
