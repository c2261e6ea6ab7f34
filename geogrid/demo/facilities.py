"""Facilities of the demo street: a service station at the central cell of two communities in three (so the
grids of the third and some corner grids fall outside every 5-minute circle), care, health, schools, markets,
and candidate sites for siting suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geogrid.demo.areas import SCHOOL_NAME
from geogrid.demo.geometry import CELL_M, RAIL_COLUMN, RIVER_ROW, SCHOOL_CELL, Lattice
from geogrid.demo.names import road_names

CIRCLE_MINUTES = {
    "service_station": 5,
    "elderly_care": 5,
    "kindergarten": 5,
    "health_station": 5,
    "canteen": 5,
    "rest_station": 5,
    "checkpoint": 5,
    "other": 5,
    "school": 10,
    "market": 10,
    "service_center": 15,
}
GATE_OFFSET = {
    "service_station": (0, 18),
    "elderly_care": (-30, 25),
    "health_station": (30, 25),
    "kindergarten": (30, 25),
    "market": (-30, 45),
    "canteen": (30, 45),
    "rest_station": (0, 45),
    "checkpoint": (-45, 18),
    "service_center": (0, 60),
}


def _pick(cells: pd.DataFrame, how: str) -> int:
    """Cell index (label) in a community or street: its central cell, south-west or north-east corner."""
    i, j = cells["i"].to_numpy(), cells["j"].to_numpy()
    if how == "centre":
        score = (i - i.mean()) ** 2 + (j - j.mean()) ** 2
    else:
        score = i + j if how == "sw" else -(i + j)
    return int(cells.index[np.argmin(score)])


def facility_frame(
    lat: Lattice,
    cells: pd.DataFrame,
    streets: pd.DataFrame,
    comms: pd.DataFrame,
    river: shapely.Geometry,
    rail: shapely.Geometry,
) -> pd.DataFrame:
    """Facilities (metres): kind, name, address, circle minutes, candidate flag, x, y."""
    roads = road_names(lat.ny + 1, east_west=True)
    rows: list[tuple[str, str, int, bool]] = []  # kind, name, cell, candidate
    for k, c in enumerate(comms.itertuples()):
        own = cells[(cells["ci"] == c.ci) & (cells["cj"] == c.cj)]
        if k % 3 != 2:  # every third community has no station yet: the gaps coverage analysis should find
            rows.append(("service_station", f"{c.name}党群服务站", _pick(own, "centre"), False))
        rows.append(("elderly_care", f"{c.name}养老驿站", _pick(own, "sw"), False))
        rows.append(
            (
                "health_station" if k % 2 == 0 else "kindergarten",
                f"{c.name}{'卫生服务站' if k % 2 == 0 else '幼儿园'}",
                _pick(own, "ne"),
                False,
            )
        )
        if k < 6:
            corner = own.index[np.argmin(own["i"] - own["j"])]
            rows.append(("service_station", f"{c.name}候选站点（闲置底商）", int(corner), True))
    for s in streets.itertuples():
        own = cells[(cells["si"] == s.si) & (cells["sj"] == s.sj)]
        rows.append(("service_center", f"{s.name}社区服务中心", _pick(own, "centre"), False))
        for kind, label in (
            ("market", "菜市场"),
            ("canteen", "社区食堂"),
            ("rest_station", "户外劳动者驿站"),
            ("checkpoint", "值守点"),
        ):
            rows.append(
                (kind, f"{s.name}{label}", _pick(own, "sw" if kind in ("market", "checkpoint") else "ne"), False)
            )
    frame = pd.DataFrame(rows, columns=["kind", "name", "cell", "candidate"])
    i, j = cells["i"].to_numpy()[frame["cell"]], cells["j"].to_numpy()[frame["cell"]]
    offset = np.array([GATE_OFFSET[k] for k in frame["kind"]], dtype=float)
    xy = lat.ew_mid[i, j] + offset
    frame = frame.assign(
        x=xy[:, 0], y=xy[:, 1], address=[f"{roads[b]}{8 * a + 4}号" for a, b in zip(i, j, strict=True)]
    )
    frame = pd.concat([frame, _by_barriers(lat, river, rail, roads)], ignore_index=True)
    frame["circle_minutes"] = frame["kind"].map(CIRCLE_MINUTES)
    return frame.drop(columns="cell")


def _by_barriers(lat: Lattice, river: shapely.Geometry, rail: shapely.Geometry, roads: list[str]) -> pd.DataFrame:
    """The school, a station just north of the river, a health station just west of the railway."""
    si, sj = SCHOOL_CELL
    school = lat.ew_mid[si, sj] + (0, 0.4 * CELL_M)
    rx = 4.5 * CELL_M
    ry = shapely.get_coordinates(shapely.intersection(river, shapely.linestrings([[rx, -1e5], [rx, 1e5]])))[0, 1]
    ty = (RIVER_ROW + 1.5) * CELL_M
    tx = shapely.get_coordinates(shapely.intersection(rail, shapely.linestrings([[-1e5, ty], [1e5, ty]])))[0, 0]
    return pd.DataFrame(
        {
            "kind": ["school", "service_station", "health_station"],
            "name": [SCHOOL_NAME, "滨河网格服务站", "铁路西侧卫生服务站"],
            "candidate": False,
            "x": [school[0], rx, tx - 45],
            "y": [school[1], ry + 30, ty],
            "address": ["学府路1号", f"{roads[RIVER_ROW]}36号", f"{roads[RIVER_ROW + 1]}{8 * RAIL_COLUMN + 2}号"],
        }
    )
