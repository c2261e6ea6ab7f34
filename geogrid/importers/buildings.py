"""Buildings: a point, or a footprint whose representative point becomes the building point.

Re-importing updates buildings by source id, so households and residents stay attached to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geogrid.i18n import t
from geogrid.importers.geometry import points_and_footprints
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, kept, merge, stage

COLUMNS = ("source_id", "name", "address", "floors", "households", "geom", "footprint")


def import_buildings(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    address_field: str | None = None,
    households_field: str | None = None,
    floors_field: str | None = None,
    replace: bool = False,
) -> ImportReport:
    """Upsert the file's buildings by source id, updating only the columns the file carries (all with ``replace``)."""
    points, footprints = points_and_footprints(source)
    floors_col = source.column(floors_field, "floors")
    floors = source.integers(floors_col)
    source.first_bad(
        np.asarray([f is not None and not 0 < f < 500 for f in floors]),
        lambda i: t("{floors} floors is not a plausible number", floors=floors[i]),
        floors_col,
    )
    households_col = source.column(households_field, "households")
    households = source.integers(households_col, default=0)
    source.first_bad(households < 0, lambda i: t("households cannot be negative"), households_col)
    name_col, address_col = source.column(name_field, "name"), source.column(address_field, "address")
    frame = pd.DataFrame(
        {
            "source_id": source.source_ids(id_field),
            "name": source.text(name_col),
            "address": source.text(address_col),
            "floors": pd.array(floors, dtype="Int64"),
            "households": households.astype(np.int64),
            "geom": points,
            "footprint": footprints,
        }
    )
    carried = {
        "name": name_col,
        "address": address_col,
        "floors": floors_col,
        "households": households_col,
        "geom": True,
        "footprint": any(f is not None for f in footprints),
    }
    update = None if replace else [c for c, present in carried.items() if present]
    return write_buildings(conn, frame, source, update=update)


def write_buildings(
    conn: Connection,
    frame: pd.DataFrame,
    source: Source | None = None,
    update: list[str] | None = None,
    keep_existing: tuple[str, ...] = (),
) -> ImportReport:
    """Stage and merge a frame of :data:`COLUMNS` (shared with the OpenStreetMap importer).

    ``update``: the columns a matched building takes from the frame (None: all of them, a full replace).
    """
    temp = stage(
        conn,
        "buildings",
        frame[list(COLUMNS)],
        geometry=("geom", "footprint"),
        tick=source.tick if source else None,
        source=source,
    )
    updated, inserted = merge(conn, "buildings", temp, "source_id", COLUMNS, update, keep_existing)
    report = ImportReport(
        t("buildings"),
        len(frame),
        updated,
        inserted,
        with_footprint=int(frame["footprint"].notna().sum()),
        kept=kept(conn, "buildings", temp, "source_id"),
    )
    report.columns = [c for c in (update or COLUMNS) if c != "source_id"]
    report.replaced = update is None
    return report
