"""Rebalancing a community's grids: fix those outside the band with the fewest buildings moved.

Units are the partition units cut along the current grid boundaries, so every unit starts in exactly one
grid. Only band-improving moves are made (no moves for shape's sake): first units pass between neighbouring
grids outside the band (an oversized grid gives to an undersized one), then a grid still above the band is
grown again inside itself into several (the part with most buildings keeps the code, the rest are new
grids), then undersized ones merge. With ``keep_in_band`` (the default) grids within the band neither give
nor take; without it they may, as long as they stay within it. Dedicated grids are never touched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.partition.area import Community, find_area, load_input
from geogrid.partition.grow import _grow, repair, violation
from geogrid.partition.report import RebalanceReport, RebalanceSummary, add_report
from geogrid.partition.units import Units, build_units
from geogrid.planning.edits import polygonal
from geogrid.settings import get_settings

GRIDS_SQL = """
SELECT g.id, g.code, g.name, g.kind, ST_AsBinary(g.geom) AS geom,
       coalesce(array_agg(a.building_id) FILTER (WHERE a.building_id IS NOT NULL), '{}') AS buildings
FROM grids g LEFT JOIN building_assignments a ON a.grid_id = g.id
WHERE g.valid_to IS NULL AND g.community_id = :c GROUP BY g.id ORDER BY g.code
"""


@dataclass
class CurrentGrid:
    id: int
    code: str
    name: str
    kind: str
    geom: shapely.Geometry  # metres


def _current(conn: Connection, comm: Community) -> tuple[list[CurrentGrid], dict[int, int]]:
    rows = conn.execute(text(GRIDS_SQL), {"c": comm.saved_id}).all()
    grids = [CurrentGrid(r.id, r.code, r.name, r.kind, comm.to_metric(shapely.from_wkb(bytes(r.geom)))) for r in rows]
    held = {int(b): i for i, r in enumerate(rows) for b in r.buildings}
    return grids, held


def cut_units(
    units: Units, grids: list[CurrentGrid], held: dict[int, int], hh: dict[int, float]
) -> tuple[Units, np.ndarray]:
    """Units cut along the current grid boundaries, and the grid (index) each piece starts in."""
    geoms, kinds, blocks, members, names, start = [], [], [], [], [], []
    grid_geoms = np.asarray([g.geom for g in grids], dtype=object)
    for u, geom in enumerate(units.geoms):
        ids = units.buildings[u]
        owner = np.asarray([held.get(int(b), -1) for b in ids], dtype=np.int64)
        for gi in np.flatnonzero(shapely.intersects(grid_geoms, geom)):
            piece = polygonal(shapely.intersection(geom, grid_geoms[gi]))
            if piece.area < 1.0:
                continue
            geoms.append(piece)
            kinds.append(units.kind[u])
            blocks.append(units.block[u])
            members.append(ids[owner == gi])
            names.append(units.compound[u])
            start.append(gi)
    cut = Units(
        geoms=np.asarray(geoms, dtype=object),
        kind=kinds,
        block=np.asarray(blocks, dtype=np.int64),
        buildings=members,
        households=np.asarray([sum(hh.get(int(b), 0) for b in m) for m in members], dtype=float),
        estimated=np.zeros(len(geoms)),
        compound=names,
        dedicated=[None] * len(geoms),
    )
    return cut, np.asarray(start, dtype=np.int64)


def _rebalance_labels(
    cut: Units, start: np.ndarray, grids: list[CurrentGrid], lo: int, hi: int, keep_in_band: bool
) -> np.ndarray:
    g = cut.graph
    labels = start.copy()
    totals = {i: float(g.households[labels == i].sum()) for i in range(len(grids))}
    frozen = {i for i, gr in enumerate(grids) if gr.kind != "basic"}
    if keep_in_band:
        frozen |= {i for i, h in totals.items() if violation(h, lo, hi) == 0}
    labels = repair(g, labels, lo, hi, frozen=frozen, compact=False)
    next_label = len(grids)
    for r in range(len(grids)):
        units = [int(u) for u in np.flatnonzero(labels == r)]
        if r in frozen or g.households[units].sum() <= hi or len(units) < 2:
            continue
        sub = _grow(g, units, lo, hi, None)
        parts = sorted({int(sub[u]) for u in units})
        keep = max(parts, key=lambda p: (sum(len(cut.buildings[u]) for u in units if sub[u] == p), -p))
        for p in parts:
            if p != keep:
                labels[[u for u in units if sub[u] == p]] = next_label
                next_label += 1
    return repair(g, labels, lo, hi, frozen=frozen, compact=False)


def rebalance(conn: Connection, community: str, *, keep_in_band: bool = True, author: str | None = None) -> dict:
    """A draft plan fixing the community's grids outside the band; ``preview.partition`` says who moved."""
    from geogrid.planning.preview import create_plan

    started = time.perf_counter()
    cfg = get_settings()
    lo, hi = cfg.household_bands["basic"]
    comm = find_area(conn, community, "community")
    grids, held = _current(conn, comm)
    if not grids:
        raise InputError(
            t("community {community} has no grids to rebalance: propose grids instead", community=comm.code),
            field="community",
        )
    inp = load_input(conn, comm)
    units = build_units(inp, hi, cfg.dedicated_min_m2)
    hh = dict(zip(inp.buildings["id"].astype(int), inp.buildings["households"].astype(float), strict=True))
    cut, start = cut_units(units, grids, held, hh)
    labels = _rebalance_labels(cut, start, grids, lo, hi, keep_in_band)
    moved = labels != start
    edits = _edits(comm, cut, labels, start, grids)
    report = RebalanceReport(
        summary=RebalanceSummary(
            grids_out_of_band_before=_out(cut, start, grids, lo, hi),
            grids_out_of_band_after=_out(cut, labels, grids, lo, hi),
            buildings_moved=int(sum(len(cut.buildings[u]) for u in np.flatnonzero(moved))),
            households_moved=int(cut.households[moved].sum()),
            keep_in_band=keep_in_band,
            seconds=round(time.perf_counter() - started, 2),
        )
    )
    if not edits:
        raise InputError(
            t(
                "nothing to rebalance: every grid of {community} is within the band or its units allow no better",
                community=comm.code,
            ),
            field="community",
        )
    plan = create_plan(conn, edits, author=author)
    return add_report(conn, plan["plan"], report)


def _out(cut: Units, labels: np.ndarray, grids: list[CurrentGrid], lo: int, hi: int) -> int:
    frame = pd.DataFrame({"r": labels, "h": cut.households}).groupby("r")["h"].sum()
    return int(sum(violation(h, lo, hi) > 0 for r, h in frame.items() if r >= len(grids) or grids[r].kind == "basic"))


def _geojson(comm: Community, geom: shapely.Geometry) -> dict:
    return json.loads(shapely.to_geojson(polygonal(comm.to_lonlat(geom))))


def _edits(comm: Community, cut: Units, labels: np.ndarray, start: np.ndarray, grids: list[CurrentGrid]) -> list[dict]:
    """Redraws of the grids that change, merges for grids that lost all their units, creates for new ones."""
    new_geom = {int(r): shapely.union_all(cut.geoms[labels == r]) for r in np.unique(labels)}
    changed = sorted({int(r) for r in np.unique(np.r_[labels[labels != start], start[labels != start]])})
    edits, merges = [], []
    for r in changed:
        if r >= len(grids):
            continue
        if r not in new_geom:  # gone: merged into the grid that took most of its units
            takers = pd.Series(cut.households[start == r] + 1, index=labels[start == r]).groupby(level=0).sum()
            merges.append((r, int(takers.idxmax())))
    into = {s for _, s in merges}
    for r in changed:
        if r < len(grids) and r in new_geom:
            geom = new_geom[r]
            for gone, s in merges:
                if s == r:
                    geom = shapely.difference(geom, grids[gone].geom)
            edits.append(
                {
                    "op": "redraw",
                    "grid": grids[r].code,
                    "trim_neighbours": False,
                    "geometry": _geojson(comm, geom if r in into else new_geom[r]),
                }
            )
    for gone, s in merges:
        part = shapely.intersection(grids[gone].geom, new_geom[s])
        edits.append(
            {"op": "redraw", "grid": grids[gone].code, "trim_neighbours": False, "geometry": _geojson(comm, part)}
        )
        edits.append({"op": "merge", "grids": [grids[s].code, grids[gone].code], "name": grids[s].name})
    for n, r in enumerate(sorted(k for k in new_geom if k >= len(grids)), start=1):
        parent = grids[int(np.bincount(start[labels == r]).argmax())]
        edits.append(
            {
                "op": "create",
                "community": comm.code,
                "name": f"{parent.name}-{n}",
                "kind": "basic",
                "from": [parent.code],
                "geometry": _geojson(comm, new_geom[r]),
            }
        )
    return edits
