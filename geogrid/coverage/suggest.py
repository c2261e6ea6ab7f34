"""Siting suggestions: k new sites that cover the most uncovered households (maximal covering location).

Candidates are proposed facilities (``facilities.candidate``) and uncovered buildings (thinned to the
best-populated building per cell of half a radius). Each candidate's service area is computed the same
way as for existing facilities (circle or along the network). The exact maximal covering location problem
(Church & ReVelle 1974) is solved with PuLP/CBC; the greedy heuristic runs alongside as a check and a
fallback when the solver is unavailable or times out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pulp
import shapely
from scipy.sparse import csr_matrix
from sqlalchemy import Connection

from geogrid.coverage.compute import areas_for, load_facilities, radius_m, to_metric, to_storage
from geogrid.coverage.gaps import uncovered
from geogrid.coverage.stats import Query, coverage
from geogrid.crs import metric_epsg
from geogrid.errors import GeogridError
from geogrid.i18n import t

SOLVER_SECONDS = 30


def candidate_sites(conn: Connection, q: Query, gaps: pd.DataFrame, max_buildings: int) -> pd.DataFrame:
    """Candidate facilities of the kind plus thinned uncovered buildings: ``source, ref_id, lon, lat``."""
    where = "candidate" + (f" AND kind = '{q.kind}'" if q.kind else "")
    facilities = load_facilities(conn, where)
    sites = [
        pd.DataFrame(
            {"source": "facility", "ref_id": facilities["id"], "lon": facilities["lon"], "lat": facilities["lat"]}
        )
    ]
    if max_buildings > 0 and not gaps.empty:
        epsg = metric_epsg(float(gaps["x"].mean()), float(gaps["y"].mean()))
        xy = to_metric(gaps["x"].to_numpy(), gaps["y"].to_numpy(), epsg)
        cell = np.floor(xy / (radius_m(q.minutes) / 2)).astype(np.int64)
        frame = gaps.assign(cx=cell[:, 0], cy=cell[:, 1])
        cell_households = frame.groupby(["cx", "cy"])["households"].transform("sum")
        best = (
            frame.assign(cell_households=cell_households)
            .sort_values(["households", "id"], ascending=[False, True])
            .drop_duplicates(["cx", "cy"])
            .sort_values("cell_households", ascending=False)
            .head(max_buildings)
        )
        sites.append(pd.DataFrame({"source": "building", "ref_id": best["id"], "lon": best["x"], "lat": best["y"]}))
    return pd.concat(sites, ignore_index=True)


def cover_matrix(areas: np.ndarray, x: np.ndarray, y: np.ndarray) -> csr_matrix:
    """Sparse candidates × buildings matrix: 1 where a candidate's area holds the building's point."""
    tree = shapely.STRtree(shapely.points(x, y))
    cand, bldg = tree.query(areas, predicate="intersects")
    return csr_matrix((np.ones(len(cand)), (cand, bldg)), shape=(len(areas), len(x)))


def greedy(cover: csr_matrix, households: np.ndarray, k: int) -> list[tuple[int, int]]:
    """Greedy maximal covering: repeatedly take the site adding the most households; (site, gain) pairs."""
    remaining = households.astype(float).copy()
    chosen: list[tuple[int, int]] = []
    for _ in range(min(k, cover.shape[0])):
        gains = cover @ remaining
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append((best, int(gains[best])))
        remaining[cover[best].indices] = 0
    return chosen


def exact(cover: csr_matrix, households: np.ndarray, k: int) -> list[int] | None:
    """Sites of an optimal MCLP solution (PuLP/CBC), or ``None`` when the solver finds no optimum in time."""
    col = cover.tocsc()
    useful = np.flatnonzero((np.diff(col.indptr) > 0) & (households > 0))
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x{j}", cat="Binary") for j in range(cover.shape[0])]
    y = {i: problem.add_variable(f"y{i}", lowBound=0, upBound=1) for i in useful}
    problem += pulp.lpSum(float(households[i]) * y[i] for i in useful)
    problem += pulp.lpSum(x) <= k
    for i in useful:
        problem += y[i] <= pulp.lpSum(x[j] for j in col.indices[col.indptr[i] : col.indptr[i + 1]])
    with warnings.catch_warnings():  # PuLP 3 warns that its bundled CBC moves to an extra in PuLP 4
        warnings.simplefilter("ignore", DeprecationWarning)
        status = problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=SOLVER_SECONDS))
    if pulp.LpStatus[status] != "Optimal":
        return None
    return [j for j, var in enumerate(x) if (var.value() or 0) > 0.5]


def _order_by_gain(cover: csr_matrix, households: np.ndarray, sites: list[int]) -> list[tuple[int, int]]:
    """The chosen sites in the order that adds the most households first, with each one's gain."""
    sub = cover[sites]
    picks = greedy(sub, households, len(sites))
    return [(sites[i], gain) for i, gain in picks]


def suggest(conn: Connection, q: Query, k: int = 3, max_buildings: int = 300) -> dict:
    """k new sites with their gain and the coverage after, by exact MCLP checked against greedy."""
    if not 1 <= k <= 50:
        raise GeogridError(t("k must be between 1 and 50, not {k}", k=k))

    q = q.resolved(conn)
    before = coverage(conn, q)["summary"]
    gaps = uncovered(conn, q)
    sites = candidate_sites(conn, q, gaps, max_buildings)
    if sites.empty or gaps.empty:
        return _answer(q, before, sites, [], "none: nothing uncovered or no candidate sites", None)
    frame = sites.assign(circle_minutes=q.minutes)
    areas, epsg = areas_for(conn, frame, q.mode)
    h = gaps["households"].to_numpy(dtype=float)
    cover = cover_matrix(to_storage(areas, epsg), gaps["x"].to_numpy(), gaps["y"].to_numpy())
    quick = greedy(cover, h, k)
    best = exact(cover, h, k)
    greedy_total = sum(g for _, g in quick)
    if best is None:
        return _answer(q, before, sites, quick, "greedy maximal covering (MCLP solver did not finish)", greedy_total)
    return _answer(
        q,
        before,
        sites,
        _order_by_gain(cover, h, best),
        "maximal covering location problem (MCLP), solved exactly with PuLP/CBC; greedy heuristic as check",
        greedy_total,
    )


def _answer(
    q: Query, before: dict, sites: pd.DataFrame, picks: list[tuple[int, int]], method: str, greedy_total: int | None
) -> dict:
    covered, total = before["households_covered"], before["households"]
    out = []
    for site, gain in picks:
        covered += gain
        row = sites.iloc[site]
        out.append(
            {
                "source": row["source"],
                "ref_id": int(row["ref_id"]),
                "lon": round(float(row["lon"]), 6),
                "lat": round(float(row["lat"]), 6),
                "gain_households": int(gain),
                "households_covered_after": int(covered),
                "share_after": round(covered / total, 4) if total else None,
            }
        )
    return {
        "query": {"minutes": q.minutes, "mode": q.mode, "kind": q.kind, "community": q.community},
        "method": method,
        "candidates": len(sites),
        "before": {"households": total, "households_covered": before["households_covered"], "share": before["share"]},
        "sites": out,
        "greedy_households": greedy_total,
        "gain_households": int(sum(g for _, g in picks)),
    }
