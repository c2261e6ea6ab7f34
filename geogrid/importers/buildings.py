"""Buildings: a point, or a footprint whose representative point becomes the building point.

Re-importing updates buildings by source id, so households and residents stay attached to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_frame
from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.importers.geometry import points_and_footprints
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, check_fits, kept, merge, stage

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
    """Upsert the file's buildings by source id, updating only the columns the file carries (all with ``replace``).

    A table without coordinates (source ids and households, say) updates buildings already stored.
    """
    if source.missing_geometry is not None:
        return update_buildings(
            conn,
            source,
            id_field=id_field,
            fields={
                "name": name_field,
                "address": address_field,
                "households": households_field,
                "floors": floors_field,
            },
            replace=replace,
        )
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


def update_buildings(
    conn: Connection, source: Source, *, id_field: str | None, fields: dict[str, str | None], replace: bool
) -> ImportReport:
    """Update the columns a table without coordinates carries on the stored buildings it names by source id.

    The file can only say something about buildings already stored (OpenStreetMap's, a survey's): a row naming
    no stored building fails, naming its row; without a source id column there is nothing to match by, and
    ``--replace`` (every column, the geometry too) cannot be done. An empty cell keeps the stored value.
    """
    id_col = source.column(id_field, "id")
    if id_col is not None and replace:
        message = t("--replace needs coordinates (lon/lat or WKT): it replaces the geometry too")
        raise InputError(message, file=source.file, field="geometry")
    if id_col is None:
        raise source.missing_geometry or AssertionError("a table with geometry")
    columns = {name: source.column(given, name) for name, given in fields.items()}
    values = {"source_id": source.source_ids(id_field)}
    for name, col in columns.items():
        if col is None:
            continue
        if name in ("households", "floors"):
            values[name] = pd.array(_counts(source, name, col), dtype="Int64")
        else:
            values[name] = source.text(col)
    frame = pd.DataFrame(values)
    _stage_known(conn, source, frame, id_col)
    carried = [c for c in frame.columns if c != "source_id"]
    updated = (
        conn.execute(
            text(
                f"UPDATE buildings b SET {', '.join(f'{c} = coalesce(v.{c}, b.{c})' for c in carried)} "
                "FROM import_building_values v "
                "WHERE b.source_id = v.source_id"
            )
        ).rowcount
        if carried
        else len(frame)
    )
    report = ImportReport(
        t("buildings"), len(frame), updated, 0, kept=kept(conn, "buildings", "import_building_values", "source_id")
    )
    report.columns = carried
    return report


def _counts(source: Source, name: str, col: str) -> np.ndarray:
    """Households or floors of a column, checked as the import with coordinates checks them."""
    numbers = source.integers(col)
    if name == "households":
        source.first_bad(
            np.asarray([n is not None and n < 0 for n in numbers]), lambda i: t("households cannot be negative"), col
        )
    else:
        source.first_bad(
            np.asarray([n is not None and not 0 < n < 500 for n in numbers]),
            lambda i: t("{floors} floors is not a plausible number", floors=numbers[i]),
            col,
        )
    return numbers


def _stage_known(conn: Connection, source: Source, frame: pd.DataFrame, id_col: str) -> None:
    """COPY the values into ``import_building_values``; a row naming no stored building fails, naming its row."""
    check_fits(frame, "buildings", source)
    conn.execute(
        text(
            "DROP TABLE IF EXISTS import_building_values; CREATE TEMP TABLE import_building_values ON COMMIT DROP AS "
            f"SELECT {', '.join(frame.columns)} FROM buildings LIMIT 0"
        )
    )
    copy_frame(conn, "import_building_values", frame, geometry=())
    unknown = conn.scalars(
        text(
            "SELECT v.source_id FROM import_building_values v "
            "WHERE NOT EXISTS (SELECT 1 FROM buildings b WHERE b.source_id = v.source_id)"
        )
    ).all()
    if unknown:
        row = int(np.flatnonzero(frame["source_id"].isin(set(unknown)))[0])
        source.fail(row, t("no stored building has this source id (a file without coordinates only updates)"), id_col)
