"""Residents from a table: each row references its building by source id or address.

Rows are grouped into households by a household key (``--household-field``; else building + unit + room,
else one household per resident). Names, ID numbers and phones go only to ``resident_personal``.
Re-importing replaces the residents with the same source ids and reuses their households.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_frame, next_ids
from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, check_fits
from geogrid.model import REGISTRATION_TYPES, SPECIAL_GROUPS

TRUE = {"1", "true", "t", "yes", "y", "是", "党员", "中共党员", "预备党员"}
FALSE = {"0", "false", "f", "no", "n", "否", "群众", "非党员"}
REGISTRATION = {
    "户籍": "registered",
    "常住": "registered",
    "户籍人口": "registered",
    "流动": "floating",
    "流动人口": "floating",
    "外来": "floating",
    "境外": "foreign",
    "境外人员": "foreign",
}
GROUPS = {
    "独居老人": "elderly_alone",
    "残疾人": "disabled",
    "残疾": "disabled",
    "困难家庭": "hardship",
    "低保": "hardship",
    "留守儿童": "left_behind_child",
    "留守老人": "left_behind_elderly",
    "失独家庭": "bereaved_parents",
    "居家隔离": "home_isolation",
}
SPLIT = re.compile(r"[;,，、|/；]+")


def import_residents(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    building_field: str | None = None,
    address_field: str | None = None,
    household_field: str | None = None,
    **fields: str | None,
) -> ImportReport:
    """Write households and residents (personal fields apart); the first bad row fails the whole import."""
    buildings = building_ids(conn, source, building_field, address_field)
    keys = household_keys(source, household_field, buildings)
    f = lambda key: source.column(fields.get(f"{key}_field"), key)  # noqa: E731
    residents = pd.DataFrame(
        {
            "source_id": source.source_ids(id_field),
            "building_id": buildings,
            "party_member": flags(source, f("party")),
            "special_groups": groups(source, f("special")),
            "registration_type": registrations(source, f("registration")),
            "birth_year": pd.array(source.integers(f("birth_year")), dtype="Int64"),
        }
    )
    conn.execute(text("DELETE FROM residents WHERE source_id = ANY(:s)"), {"s": list(residents["source_id"])})
    residents["household_id"], new_households = households(conn, source, residents, keys)
    residents.insert(0, "id", next_ids(conn, "residents", len(residents)))
    check_fits(residents, "residents", source)
    copy_frame(conn, "residents", residents, geometry=())
    personal = pd.DataFrame(
        {
            "resident_id": residents["id"],
            "name": source.text(f("person")),
            "id_number": source.text(f("id_number")),
            "phone": source.text(f("phone")),
        }
    )
    personal = personal[personal[["name", "id_number", "phone"]].notna().any(axis=1)]
    check_fits(personal, "resident_personal", source)
    copy_frame(conn, "resident_personal", personal, geometry=())
    source.tick(len(residents))
    return ImportReport(
        t("residents"),
        len(residents),
        inserted=len(residents),
        new_households=new_households,
        with_personal_data=len(personal),
    )


def building_ids(conn: Connection, source: Source, building_field: str | None, address_field: str | None) -> np.ndarray:
    """The building of each row, by source id (preferred) or by exact address."""
    column = source.column(building_field, "building")
    if column is None:
        column = source.column(address_field, "address")
        if column is None:
            raise InputError(
                t(
                    "no building column found (name it with --building-field for a building source id, "
                    "or --address-field); the file has: {columns}",
                    columns=list(map(str, source.frame.columns)),
                ),
                file=source.file,
                field="building_id",
            )
        sql = (
            "SELECT address AS ref, min(id) AS id, count(*) AS n FROM buildings WHERE address = ANY(:v) "
            "GROUP BY address"
        )
    else:
        sql = (
            "SELECT source_id AS ref, min(id) AS id, count(*) AS n FROM buildings WHERE source_id = ANY(:v) "
            "GROUP BY source_id"
        )
    values = source.text(column)
    source.first_bad(values == None, lambda i: t("building reference is missing"), column)  # noqa: E711
    found = {r.ref: (r.id, r.n) for r in conn.execute(text(sql), {"v": list(set(values))})}
    source.first_bad(
        np.asarray([v not in found for v in values]),
        lambda i: t("no building '{building}' (import buildings first)", building=values[i]),
        column,
    )
    source.first_bad(
        np.asarray([found[v][1] > 1 for v in values]),
        lambda i: t(
            "'{building}' matches {n} buildings: use --building-field", building=values[i], n=found[values[i]][1]
        ),
        column,
    )
    return np.asarray([found[v][0] for v in values], dtype=np.int64)


def household_keys(source: Source, household_field: str | None, buildings: np.ndarray) -> np.ndarray:
    column = source.column(household_field, "household")
    if column:
        keys = source.text(column)
        source.first_bad(keys == None, lambda i: t("household is missing"), column)  # noqa: E711
        return keys
    unit, room = source.text(source.column(None, "unit")), source.text(source.column(None, "room"))
    if (room != None).all():  # noqa: E711
        return np.asarray([f"{b}/{u or ''}/{r}" for b, u, r in zip(buildings, unit, room, strict=True)], dtype=object)
    return source.source_ids(None)


def households(conn: Connection, source: Source, residents: pd.DataFrame, keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Household id of each row: an existing household with the same key in the same building, else a new one."""
    pairs = pd.DataFrame(
        {
            "building_id": residents["building_id"],
            "source_id": keys,
            "registration_type": residents["registration_type"],
        }
    )
    existing = pd.DataFrame(
        conn.execute(
            text("SELECT building_id, source_id, id FROM households WHERE source_id = ANY(:k)"), {"k": list(set(keys))}
        )
        .mappings()
        .all(),
        columns=["building_id", "source_id", "id"],
    ).astype({"building_id": "int64", "id": "int64"})
    new = pairs.drop_duplicates(["building_id", "source_id"]).merge(existing, how="left")
    new = new[new["id"].isna()].drop(columns="id")
    new.insert(0, "id", next_ids(conn, "households", len(new)))
    copy_frame(conn, "households", new, geometry=())
    ids = pairs.merge(pd.concat([existing, new[existing.columns]]), how="left", on=["building_id", "source_id"])
    return ids["id"].to_numpy(dtype=np.int64), len(new)


def flags(source: Source, column: str | None) -> np.ndarray:
    values = source.text(column)
    out = np.asarray(
        [None if v is None else (True if v.lower() in TRUE else False if v.lower() in FALSE else None) for v in values],
        dtype=object,
    )
    source.first_bad(
        (out == None) & (values != None),  # noqa: E711
        lambda i: t("'{value}' is not yes or no", value=values[i]),
        column,
    )
    return np.asarray([bool(v) for v in out])


def groups(source: Source, column: str | None) -> list[list[str]]:
    values, out = source.text(column), []
    for i, value in enumerate(values):
        tags = [GROUPS.get(tag.strip(), tag.strip().lower()) for tag in SPLIT.split(value or "") if tag.strip()]
        unknown = [tag for tag in tags if tag not in SPECIAL_GROUPS]
        if unknown:
            source.fail(
                i, t("unknown special group '{group}': use {groups}", group=unknown[0], groups=SPECIAL_GROUPS), column
            )
        out.append(tags)
    return out


def registrations(source: Source, column: str | None) -> np.ndarray:
    values = source.text(column)
    out = np.asarray([REGISTRATION.get(v, v.lower()) if v else "registered" for v in values], dtype=object)
    source.first_bad(
        ~np.isin(out, REGISTRATION_TYPES), lambda i: t("unknown registration type '{value}'", value=values[i]), column
    )

    return out
