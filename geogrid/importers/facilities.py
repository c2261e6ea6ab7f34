"""Facilities: a point, a kind and the service circle (5, 10 or 15 minutes) it serves.

Kinds are given in English (``service_station``) or Chinese (党群服务站); an unknown kind fails the
import. The circle defaults by kind after GB 50180-2018. Re-importing updates facilities by source id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geogrid.i18n import t
from geogrid.importers.geometry import points_and_footprints
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, kept, merge, stage
from geogrid.model import FACILITY_KINDS

DEFAULT_MINUTES = {
    "service_station": 5,
    "elderly_care": 5,
    "kindergarten": 5,
    "health_station": 5,
    "school": 10,
    "market": 10,
    "service_center": 15,
}
CHINESE_KINDS = {
    "党群服务站": "service_station",
    "网格服务站": "service_station",
    "服务站": "service_station",
    "社区服务站": "service_station",
    "社区服务中心": "service_center",
    "党群服务中心": "service_center",
    "服务中心": "service_center",
    "养老驿站": "elderly_care",
    "日间照料中心": "elderly_care",
    "养老服务站": "elderly_care",
    "社区食堂": "canteen",
    "食堂": "canteen",
    "长者食堂": "canteen",
    "驿站": "rest_station",
    "户外劳动者驿站": "rest_station",
    "检查点": "checkpoint",
    "值守点": "checkpoint",
    "幼儿园": "kindergarten",
    "卫生服务站": "health_station",
    "社区卫生服务站": "health_station",
    "卫生站": "health_station",
    "小学": "school",
    "学校": "school",
    "菜市场": "market",
    "农贸市场": "market",
    "其他": "other",
}
COLUMNS = ("source_id", "name", "kind", "circle_minutes", "address", "candidate", "geom")


def kind_of(value: str | None) -> str | None:
    """A facility kind from an English key (any case, spaces or hyphens) or a Chinese name."""
    if value is None:
        return None
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    return key if key in FACILITY_KINDS else CHINESE_KINDS.get(value.strip())


def import_facilities(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    kind_field: str | None = None,
    kind: str | None = None,
    address_field: str | None = None,
    minutes_field: str | None = None,
    candidate: bool = False,
    replace: bool = False,
) -> ImportReport:
    """Upsert the file's facilities by source id; a polygon stands for its representative point.

    A matched facility takes only the columns the file carries (all with ``replace``).
    """
    kind_col = source.column(kind_field, "kind", required=kind is None, option="--kind-field or --kind")
    raw = source.text(kind_col) if kind_col else np.full(len(source), kind, dtype=object)
    kinds = np.asarray([kind_of(v) if v is not None else kind_of(kind) for v in raw], dtype=object)
    source.first_bad(
        kinds == None,  # noqa: E711  (NumPy: elementwise)
        lambda i: t(
            "unknown facility kind '{kind}': use one of {kinds}",
            kind=raw[i],
            kinds=FACILITY_KINDS,
        ),
        kind_col,
    )
    minutes_col = source.column(minutes_field, "minutes")
    minutes = source.integers(minutes_col)
    minutes = np.asarray(
        [m if m is not None else DEFAULT_MINUTES.get(k, 5) for m, k in zip(minutes, kinds, strict=True)]
    )
    source.first_bad(
        ~np.isin(minutes, (5, 10, 15)),
        lambda i: t("circle of {minutes} minutes: use 5, 10 or 15", minutes=minutes[i]),
        minutes_col,
    )
    name_col, address_col = source.column(name_field, "name"), source.column(address_field, "address")
    names = source.text(name_col)
    points, _ = points_and_footprints(source)
    frame = pd.DataFrame(
        {
            "source_id": source.source_ids(id_field),
            "name": np.where(names == None, kinds, names),  # noqa: E711
            "kind": kinds,
            "circle_minutes": minutes.astype(np.int64),
            "address": source.text(address_col),
            "candidate": candidate,
            "geom": points,
        }
    )
    carried = {
        "name": name_col,
        "kind": True,
        "circle_minutes": minutes_col or kind_col,
        "address": address_col,
        "candidate": True,
        "geom": True,
    }
    return write_facilities(conn, frame, source, None if replace else [c for c, p in carried.items() if p])


def write_facilities(
    conn: Connection,
    frame: pd.DataFrame,
    source: Source | None = None,
    update: list[str] | None = None,
    keep_existing: tuple[str, ...] = (),
) -> ImportReport:
    """Stage and merge a frame of :data:`COLUMNS`; ``update`` as in :func:`geogrid.importers.upsert.merge`."""
    temp = stage(conn, "facilities", frame[list(COLUMNS)], tick=source.tick if source else None, source=source)
    updated, inserted = merge(conn, "facilities", temp, "source_id", COLUMNS, update, keep_existing)
    report = ImportReport(
        t("facilities"), len(frame), updated, inserted, kept=kept(conn, "facilities", temp, "source_id")
    )
    report.columns, report.replaced = [c for c in (update or COLUMNS) if c != "source_id"], update is None
    return report
