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
from geogrid.importers.upsert import ImportReport, merge, stage

COLUMNS = ("source_id", "name", "address", "floors", "households", "geom", "footprint")


def import_buildings(conn: Connection, source: Source, *, id_field: str | None = None, name_field: str | None = None,
                     address_field: str | None = None, households_field: str | None = None,
                     floors_field: str | None = None) -> ImportReport:
    """Upsert the file's buildings by source id."""
    points, footprints = points_and_footprints(source)
    floors = source.integers(source.column(floors_field, "floors"))
    floors_col = source.column(floors_field, "floors")
    source.first_bad(np.asarray([f is not None and not 0 < f < 500 for f in floors]),
                     lambda i: t("{floors} floors is not a plausible number", floors=floors[i]), floors_col)
    households_col = source.column(households_field, "households")
    households = source.integers(households_col, default=0)
    source.first_bad(households < 0, lambda i: t("households cannot be negative"), households_col)
    frame = pd.DataFrame({
        "source_id": source.source_ids(id_field),
        "name": source.text(source.column(name_field, "name")),
        "address": source.text(source.column(address_field, "address")),
        "floors": pd.array(floors, dtype="Int64"),
        "households": households.astype(np.int64),
        "geom": points, "footprint": footprints,
    })
    return write_buildings(conn, frame, source)


def write_buildings(conn: Connection, frame: pd.DataFrame, source: Source | None = None) -> ImportReport:
    """Stage and merge a frame of :data:`COLUMNS` (shared with the OpenStreetMap importer)."""
    temp = stage(conn, "buildings", frame[list(COLUMNS)], geometry=("geom", "footprint"),
                 tick=source.tick if source else None, source=source)
    updated, inserted = merge(conn, "buildings", temp, "source_id", COLUMNS)
    return ImportReport(t("buildings"), len(frame),
 updated, inserted,
                        with_footprint=int(frame["footprint"].notna().sum()))
