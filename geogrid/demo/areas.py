"""Codes and names of the demo's street offices, communities and grids (NBS structure, reading order)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geogrid.codes import grid_code, reading_order
from geogrid.demo.geometry import CELL_M, dissolve
from geogrid.demo.names import ROADS_EW, community_names, numbered

DISTRICT_CODE, DISTRICT_NAME = "110108", "海淀区"
STREET_BASE = 600  # street office codes 600+ are not in the NBS list for 海淀区: clearly fictional
HOSPITAL_NAME, SCHOOL_NAME = "长湖医院", "学府路小学"


def street_name(k: int) -> str:
    road = numbered(ROADS_EW[k % len(ROADS_EW)], k // len(ROADS_EW))
    return road + ("道" if road.endswith("街") else "街道")


def _ordered(frame: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Rank of each row in reading order (north→south rows, then west→east) of its nominal position."""
    order = reading_order(frame[x].to_numpy(float), frame[y].to_numpy(float), row_height=1.0)
    rank = np.empty(len(frame), dtype=np.int64)
    rank[order] = np.arange(len(frame))
    return rank


def area_frames(cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Streets and communities: code, name, nominal block position, dissolved polygon (metres)."""
    streets = cells.groupby(["si", "sj"]).size().reset_index()[["si", "sj"]]
    streets = streets.iloc[np.argsort(_ordered(streets, "si", "sj"), kind="stable")].reset_index(drop=True)
    streets["code"] = [f"{DISTRICT_CODE}{STREET_BASE + k:03d}" for k in range(len(streets))]
    streets["name"] = [street_name(k) for k in range(len(streets))]
    streets["geom"] = (
        dissolve(cells["geom"], cells["si"].astype(str) + "," + cells["sj"].astype(str))
        .loc[streets["si"].astype(str) + "," + streets["sj"].astype(str)]
        .to_numpy()
    )

    comms = cells.groupby(["ci", "cj", "si", "sj"]).size().reset_index()[["ci", "cj", "si", "sj"]]
    comms = comms.merge(streets[["si", "sj", "code"]].rename(columns={"code": "street_code"}), on=["si", "sj"])
    comms["rank"] = 0
    for _, g in comms.groupby("street_code"):
        comms.loc[g.index, "rank"] = _ordered(g, "ci", "cj")
    comms = comms.sort_values(["street_code", "rank"]).reset_index(drop=True)
    comms["code"] = comms["street_code"] + (comms["rank"] + 1).map("{:03d}".format)
    comms["name"] = community_names(len(comms))
    key = cells["ci"].astype(str) + "," + cells["cj"].astype(str)
    comms["geom"] = dissolve(cells["geom"], key).loc[comms["ci"].astype(str) + "," + comms["cj"].astype(str)].to_numpy()
    return streets, comms.drop(columns="rank")


def code_grids(grids: pd.DataFrame, comms: pd.DataFrame) -> pd.DataFrame:
    """Give each grid its community, sequence number (reading order in the community), code and name."""
    grids = grids.merge(
        comms[["ci", "cj", "code", "name"]].rename(columns={"code": "community_code", "name": "community_name"}),
        on=["ci", "cj"],
        how="left",
    )
    grids["x"], grids["y"] = (grids["i"] + 0.5) * CELL_M, (grids["j"] + 0.5) * CELL_M
    grids["seq"] = 0
    for _, g in grids.groupby("community_code"):
        order = reading_order(g["x"].to_numpy(), g["y"].to_numpy(), row_height=CELL_M)
        grids.loc[g.index[order], "seq"] = np.arange(1, len(g) + 1)
    grids["code"] = [grid_code(c, int(s)) for c, s in zip(grids["community_code"], grids["seq"], strict=True)]
    names = grids["community_name"] + "第" + grids["seq"].astype(str) + "网格"
    names[grids["special"] == "hospital"] = HOSPITAL_NAME + "专属网格"
    names[grids["special"] == "school"] = SCHOOL_NAME + "专属网格"
    grids["name"] = names
    return grids.sort_values("code").reset_index(drop=True)
