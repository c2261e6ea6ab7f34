"""Drawing grids: ``geogrid.partition`` against spopt ``MaxPHeuristic`` and GerryChain ReCom, same units, same run.

Cases: the three real Haidian OpenStreetMap extracts (each its sub-district polygon cut to the extract's box,
one community, households estimated from footprints) and demo cities of 10,000 and 100,000 buildings (every
community). For each community the units are built once (:func:`geogrid.partition.units.build_units`); units
above the band or dedicated sites are their own grids for every contender. Then on the remaining units:

- ``geogrid``: :func:`geogrid.partition.propose.group_units` (seeded growth + band repair,
  ``GEOGRID_PARTITION_TRIES``, and a second pass cutting blocks beside a grid outside the band; every contender
  then works on the units that pass settled on);
- ``maxp``: spopt ``MaxPHeuristic``, threshold = band minimum (as many regions as possible, each at least it),
  ``MAXP_CONSTRUCTIONS`` random constructions (the same budget as geogrid's restarts);
- ``recom``: GerryChain — ``recursive_tree_part`` into k = households / band middle districts within ±25 %
  of the middle (that is the band), then ``RECOM_STEPS`` ReCom steps under the same constraint, same seed
  (at most ``RECOM_BUDGET_S`` seconds of steps per community; the state reached is measured).

A peer that has spent ``PEER_CASE_BUDGET_S`` on one case stops there and is reported as "did not finish in N s"
(its figures cover the communities it finished; its time is then a lower bound).

Measured per contender over all communities: share of basic grids within the band (for geogrid also where the
units allow it: grids proved impossible by :func:`geogrid.partition.propose.why_out` left out), mean Polsby–Popper of
the grid polygons (metres), share of grid boundary (community outline excluded) along a barrier line,
compounds split, seconds of grouping (units excluded, shared), and failures (a peer that raised: its
community is counted as one grid). ``geogrid_total_s`` adds unit building (what ``geogrid partition`` pays
before the preview). Goal: 100 % in band where units allow, 0 compounds split, compactness and road share at
least the best peer's, faster than both.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.common import ROOT, goal, load_city

if TYPE_CHECKING:  # types only: the bench imports geogrid inside functions, as every bench does
    from geogrid.partition.units import AreaInput, Units

HAIDIAN = [
    ("cau-east-xueyuanlu", "110108010", (116.3440, 39.9977, 116.3597, 40.0089)),
    ("bupt-beitaipingzhuang", "110108008", (116.3489, 39.9567, 116.3552, 39.9638)),
    ("tsinghua-pku-2017", "110108014", (116.3084, 39.9905, 116.3320, 40.0123)),
]
DATA = ROOT.parent / "shared" / "data"
SIZES, QUICK_SIZES = (10_000, 100_000), (10_000,)
PEER_CASE_BUDGET_S = 900.0  # a peer that has spent this long on one case stops there ("did not finish in N s")
RECOM_STEPS = 100
MAXP_CONSTRUCTIONS = 4  # random constructions: the seed budget of GEOGRID_PARTITION_TRIES (spopt's default is 99,
#                         68 s on the 165 units of the CAU extract against geogrid's 1.5 s)
RECOM_ATTEMPTS = 1000  # balanced-cut attempts per step (and per split of the start) before giving up / another pair
RECOM_BUDGET_S = 20.0  # wall-clock cap on one community's chain: a hard-to-balance graph takes minutes per step
SEED = 7
METHODS = ("geogrid", "maxp", "recom")


def _load_haidian(name: str, street: str, box: tuple) -> list[str]:
    import shapely
    from shapely.geometry import shape
    from sqlalchemy import text

    from geogrid import db
    from geogrid.importers.osm import import_osm

    feats = json.loads((DATA / "beijing-subdistricts" / "haidian-all.geojson").read_text(encoding="utf-8"))
    feat = next(f for f in feats["features"] if str(f["properties"]["code"]).startswith(street))
    geom = shape(feat["geometry"])
    sample = shapely.intersection(geom, shapely.box(*box))
    with db.ready().begin() as conn:
        db.truncate_all(conn)
        import_osm(conn, DATA / "beijing-haidian-osm" / f"{name}.osm.pbf", network=False)
        conn.execute(
            text(
                "INSERT INTO admin_areas (code, name, level, geom) VALUES (:c, :c, 'community', "
                "ST_Multi(ST_GeomFromText(:w, 4326)))"
            ),
            {"c": street + "901", "w": sample.wkt},
        )
    return [street + "901"]


def _communities() -> list[str]:
    from sqlalchemy import text

    from geogrid import db

    with db.ready().connect() as conn:
        return list(
            conn.scalars(
                text("SELECT code FROM admin_areas WHERE level = 'community' AND geom IS NOT NULL ORDER BY code")
            )
        )


def _maxp(g, units: list[int], lo: int, seed: int) -> np.ndarray:
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    index = {u: i for i, u in enumerate(units)}
    neighbours = {i: [index[w] for w in g.neighbours[u] if w in index] for u, i in index.items()}
    frame = gpd.GeoDataFrame(
        {"hh": g.households[units].astype(float)}, geometry=gpd.points_from_xy(g.x[units], g.y[units])
    )
    np.random.seed(seed)
    model = MaxPHeuristic(
        frame,
        W(neighbours, silence_warnings=True),
        ["hh"],
        "hh",
        lo,
        top_n=2,
        max_iterations_construction=MAXP_CONSTRUCTIONS,
    )
    model.solve()
    return np.asarray(model.labels_, dtype=np.int64)


def _recom(g, units: list[int], lo: int, hi: int, seed: int) -> np.ndarray:
    from functools import partial

    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.accept import always_accept
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.partition.initial_partition_generators import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    from geogrid.partition.grow import choose_k

    nxg = nx.Graph()
    index = {u: i for i, u in enumerate(units)}
    for u, i in index.items():
        nxg.add_node(i, hh=float(g.households[u]))
        for w in g.neighbours[u]:
            if w in index:
                nxg.add_edge(i, index[w])
    graph = Graph.from_networkx(nxg)
    mid, eps = (lo + hi) / 2, (hi - lo) / (lo + hi)
    total = float(g.households[units].sum())
    k = choose_k(total, lo, hi)
    if k == 1:
        return np.zeros(len(units), dtype=np.int64)
    target = total / k
    start = recursive_tree_part(
        graph,
        range(k),
        target,
        "hh",
        eps,
        rng=seed,
        bipartition_tree_fn=partial(bipartition_tree, max_attempts=RECOM_ATTEMPTS),
    )
    part = Partition(graph, start, updaters={"population": Tally("hh", alias="population")})
    cut = partial(bipartition_tree, max_attempts=RECOM_ATTEMPTS, allow_pair_reselection=True)
    chain = MarkovChain(
        partial(recom, pop_col="hh", pop_target=target, epsilon=eps, node_repeats=2, bipartition_tree_fn=cut),
        [within_percent_of_ideal_population(part, eps)],
        always_accept,
        part,
        total_steps=RECOM_STEPS,
        rng=seed,
    )
    last, started = part, time.perf_counter()
    for last in chain:  # noqa: B007
        if time.perf_counter() - started > RECOM_BUDGET_S:
            break
    del mid
    return np.asarray([last.assignment[i] for i in range(len(units))], dtype=np.int64)


@dataclass
class Measures:
    """One contender's grids in one community (summed over communities by :func:`_aggregate`)."""

    basic: int = 0  # basic grids
    in_band: int = 0  # of which within the band
    pp: list[float] = field(default_factory=list)  # Polsby–Popper per grid
    roads: list[float] = field(default_factory=list)  # road share per grid (None, a whole community, left out)
    compounds_split: int = 0


def _grid_measures(inp: AreaInput, units: Units, labels: np.ndarray, basic: set[int], lo: int, hi: int) -> Measures:
    """In band, Polsby–Popper, road share of each region; compounds split (buildings of one compound key)."""
    import shapely

    from geogrid.partition.propose import ROAD_BUFFER_M, polsby_popper, road_share
    from geogrid.partition.units import PRECISION_M, compound_keys

    roads = shapely.buffer(shapely.union_all(inp.lines), ROAD_BUFFER_M) if len(inp.lines) else shapely.Polygon()
    out = Measures()
    for r in np.unique(labels):
        members = np.flatnonzero(labels == r)
        geom = shapely.union_all(units.geoms[members], grid_size=PRECISION_M)
        hh = units.households[members].sum()
        if r in basic:
            out.basic += 1
            out.in_band += int(lo <= hh <= hi)
        out.pp.append(polsby_popper(geom))
        share = road_share(geom, inp.polygon, roads)
        if share is not None:
            out.roads.append(share)
    b = inp.buildings
    if len(b):
        keys = compound_keys(inp, shapely.points(b["x"].to_numpy(float), b["y"].to_numpy(float)))
        unit_of = {int(bid): u for u, ids in enumerate(units.buildings) for bid in ids}
        grid = np.asarray([labels[unit_of[int(i)]] for i in b["id"]])
        per: dict[str, set[int]] = {}
        for k, gr in zip(keys, grid, strict=True):
            if k is not None and k == k:  # k == k: not NaN
                per.setdefault(k, set()).add(int(gr))
        out.compounds_split = sum(len(v) > 1 for v in per.values())
    return out


def _community(code: str, lo: int, hi: int, skip: set[str]) -> dict:
    from geogrid import db
    from geogrid.partition.area import find_area, load_input
    from geogrid.partition.propose import group_units, why_out
    from geogrid.partition.units import build_units
    from geogrid.settings import get_settings

    cfg = get_settings()
    with db.ready().connect() as conn:
        comm = find_area(conn, code, "community")
        inp = load_input(conn, comm)
    t0 = time.perf_counter()
    build_units(inp, hi, cfg.dedicated_min_m2)  # what every contender shares: the units, built once
    unit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    units, fixed, ours = group_units(inp, lo, hi, SEED)  # grouping, with the second pass cutting blocks
    ours_s = max(time.perf_counter() - t0 - unit_s, 0.0)
    if not len(units.geoms):
        return {}
    rest = [u for u in range(len(units.geoms)) if u not in fixed]
    result = {}
    for method in METHODS:
        if method in skip:
            continue
        t0 = time.perf_counter()
        failed = 0
        try:
            if method == "geogrid":
                labels = ours
            else:
                sub = (
                    _maxp(units.graph, rest, lo, SEED) if method == "maxp" else _recom(units.graph, rest, lo, hi, SEED)
                )
                labels = np.empty(len(units.geoms), dtype=np.int64)
                labels[rest] = sub + len(fixed)
                labels[sorted(fixed)] = np.arange(len(fixed))
        except Exception as exc:  # a peer that cannot partition this community: one grid, counted as failed
            failed, labels = 1, np.zeros(len(units.geoms), dtype=np.int64)
            labels[sorted(fixed)] = np.arange(1, len(fixed) + 1)
            print(f"  {method} failed on {code}: {type(exc).__name__}: {str(exc)[:120]}")
        seconds = ours_s if method == "geogrid" else time.perf_counter() - t0
        basic = {int(labels[u]) for u in rest}
        result[method] = {
            **asdict(_grid_measures(inp, units, labels, basic, lo, hi)),
            "seconds": seconds,
            "failed": failed,
        }
    hh = np.bincount(ours, weights=units.households)
    proved = 0
    for r in {int(ours[u]) for u in rest}:
        if not lo <= hh[r] <= hi:
            proved += not why_out(units, np.flatnonzero(ours == r), set(fixed), lo, hi)[1]
    result["geogrid"]["unit_seconds"] = unit_s
    result["geogrid"]["proved_out"] = proved
    return result


def _aggregate(per: list[dict], unfinished: dict[str, int]) -> dict:
    out: dict = {}
    for m in METHODS:
        rows = [p[m] for p in per if p and m in p]
        basic = sum(r["basic"] for r in rows)
        pp = [v for r in rows for v in r["pp"]]
        roads = [v for r in rows for v in r["roads"]]
        out[m] = {
            "communities": len(rows),
            "basic_grids": basic,
            "in_band_share": round(sum(r["in_band"] for r in rows) / basic, 3) if basic else None,
            "mean_polsby_popper": round(float(np.mean(pp)), 3) if pp else None,
            "road_share": round(float(np.mean(roads)), 3) if roads else None,
            "compounds_split": sum(r["compounds_split"] for r in rows),
            "seconds": round(sum(r["seconds"] for r in rows), 2),
            "failures": sum(r["failed"] for r in rows),
        }
        if m in unfinished:  # stopped at the case's time cap: its figures cover the communities it finished
            out[m]["did_not_finish"] = (
                f"did not finish in {PEER_CASE_BUDGET_S:.0f} s ({unfinished[m]} communities left)"
            )
    ours = [p["geogrid"] for p in per if p]
    allow = out["geogrid"]["basic_grids"] - sum(r["proved_out"] for r in ours)
    inside = sum(r["in_band"] for r in ours)
    out["geogrid"]["proved_out_of_band"] = sum(r["proved_out"] for r in ours)
    out["geogrid"]["in_band_share_where_units_allow"] = round(inside / allow, 3) if allow else None
    out["geogrid_total_s"] = round(out["geogrid"]["seconds"] + sum(r["unit_seconds"] for r in ours), 2)
    return out


def _case(name: str, codes: list[str], lo: int, hi: int) -> dict:
    print(f"{name}: {len(codes)} communities")
    per: list[dict] = []
    spent = dict.fromkeys(METHODS, 0.0)
    unfinished: dict[str, int] = {}
    for n, code in enumerate(codes):
        skip = {m for m in ("maxp", "recom") if spent[m] > PEER_CASE_BUDGET_S}
        for m in skip:
            unfinished.setdefault(m, len(codes) - n)
        result = _community(code, lo, hi, skip)
        for m in METHODS:
            spent[m] += result.get(m, {}).get("seconds", 0.0)
        per.append(result)
    return {"case": name, "communities": len(codes), **_aggregate(per, unfinished)}


def run(quick: bool = False) -> dict:
    from geogrid.settings import get_settings

    lo, hi = get_settings().household_bands["basic"]
    cases = []
    if (DATA / "beijing-haidian-osm").exists():
        for name, street, box in HAIDIAN:
            cases.append(_case(f"haidian:{name}", _load_haidian(name, street, box), lo, hi))
            print(json.dumps(cases[-1], ensure_ascii=False))
    for n in QUICK_SIZES if quick else SIZES:
        load_city(n)
        cases.append(_case(f"demo:{n}", _communities(), lo, hi))
        print(json.dumps(cases[-1], ensure_ascii=False))
    return {
        "band": [lo, hi],
        "seed": SEED,
        "recom_steps": RECOM_STEPS,
        "maxp_constructions": MAXP_CONSTRUCTIONS,
        "cases": cases,
        "goals": _goals(cases),
        "notes": Path(__file__).name,
    }


def _goals(cases: list[dict]) -> list[dict]:
    """Worst case over the cases: in band, compounds split, compactness / road share against the best peer that
    did not fail, and the slower peer's time over geogrid's grouping time."""

    def best_peer(case: dict, key: str) -> float:
        values = [
            case[m][key]
            for m in ("maxp", "recom")
            if not case[m]["failures"] and "did_not_finish" not in case[m] and case[m][key] is not None
        ]
        return max(values) if values else 0.0

    ours = [c["geogrid"] for c in cases]
    pp = [
        c["geogrid"]["mean_polsby_popper"] / best_peer(c, "mean_polsby_popper")
        for c in cases
        if best_peer(c, "mean_polsby_popper")
    ]
    roads = [c["geogrid"]["road_share"] / best_peer(c, "road_share") for c in cases if best_peer(c, "road_share")]
    speed = [min(c["maxp"]["seconds"], c["recom"]["seconds"]) / max(c["geogrid"]["seconds"], 1e-3) for c in cases]
    return [
        goal(
            "share of basic grids in band where the units allow it (worst case)",
            min(o["in_band_share_where_units_allow"] or 0 for o in ours),
            1.0,
            unit="",
        ),
        goal("compounds split", sum(o["compounds_split"] for o in ours), 0, at_least=False, unit=""),
        goal("Polsby–Popper / best peer (worst case)", min(pp, default=0), 1.0),
        goal("road share / best peer (worst case)", min(roads, default=0), 1.0),
        goal("faster peer's time / geogrid's (worst case)", min(speed, default=0), 1.0),
    ]
