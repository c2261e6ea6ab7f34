"""Network service areas for every facility: geogrid (all facilities in one compiled pass) against per-facility peers.

Contenders, on the same network and facilities in the same run:

- ``geogrid``: :func:`geogrid.coverage.compute.network_areas`, all facilities at once, polygons included;
  ``geogrid_reach`` is its graph search alone (bounded Dijkstra per facility, compiled with Numba; the
  kernels are built ahead of time at install into an extension module, :mod:`geogrid.coverage.compiled`,
  which the first call loads; ``geogrid_warmup_s`` is a second small call);
- ``ego_graph`` (the peer): the OSMnx isochrone recipe on every facility, searched once: the bounded Dijkstra
  ``networkx.single_source_dijkstra_path_length(G, n, cutoff=radius)`` that ``ego_graph`` runs inside
  (``ego_reach``), then the same polygon as ours drawn the plain way (every reached edge,
  cut at the remaining distance, buffered with 3 segments a quarter circle, unioned, clipped to the circle);
  ``ego_vs_geogrid_area_diff_pct`` is the symmetric difference of the two sets of areas over the peer's total
  area (ours are traced from distance fields in 10 m cells; the peer's arcs are chords);
- ``pgr_drivingDistance``: pgRouting per facility (reach only, no polygon; a sample, extrapolated:
  ``pgr_sampled``), and its many-start form in one call.

geogrid and ego_graph are timed in CPU seconds of this process (the machine is shared), pgRouting in wall
seconds (its work runs in the server). ``geogrid_wall_s`` is geogrid's elapsed time. Cold and warm are both
reported: ``geogrid_cold_s`` is the first call in a fresh process (it loads the kernels built at install;
imports are done before the clock starts, as for the peer; ``geogrid_cold_import_s`` is that import), ``geogrid_s`` a later call; the peer has no
such first-call cost, so its one timing is both. The goal counts the cold call: ≥10× the ego_graph peer.
Networks: Liechtenstein (OSM 2015, 53k walking nodes, POIs as facilities) and a large demo city.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.common import goal

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench"))
os.environ.setdefault("GEOGRID_DB_PORT", "54359")

LIECHTENSTEIN = ROOT.parent / "shared" / "data" / "liechtenstein-osm" / "liechtenstein-2015.osm.pbf"
RADIUS_M = 300.0
PEER_QUAD_SEGS = 3  # the peer's buffers: the cheapest round joins GEOS offers, so the strictest peer


def _timed(fn) -> tuple[float, object]:
    """CPU seconds of this process: the 2-core machine is shared, so wall time of in-process work is noise."""
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def _wall(fn) -> tuple[float, object]:
    """Wall seconds, for pgRouting (its work runs in the database server, not in this process)."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _reset(conn) -> None:
    from geogrid import db

    db.truncate_all(conn)  # every table of ours but the append-only audit log


def _liechtenstein_sites(conn):
    """Import the network; every POI (point on surface) is a facility site. Returns lon/lat arrays."""
    import pyrosm
    import shapely

    from geogrid.network import import_osm_network

    import_osm_network(conn, LIECHTENSTEIN)
    pois = pyrosm.OSM(str(LIECHTENSTEIN)).get_pois()
    pts = shapely.point_on_surface(pois.geometry.to_numpy())
    return shapely.get_x(pts), shapely.get_y(pts)


def _demo_sites(conn, buildings: int):
    from sqlalchemy import text

    from geogrid.demo import load_demo

    load_demo(conn, buildings=buildings)
    rows = conn.execute(text("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM facilities")).all()
    return [r.x for r in rows], [r.y for r in rows]


def _ego_peer(graph, xy, areas) -> dict:
    """The OSMnx isochrone recipe for every facility, timed whole, and how far its polygons are from ours.

    Per facility: ``nx.ego_graph(G, n, radius, distance="length")`` (reach), then the polygon: distances
    inside that subgraph, its edges and the edges leaving it cut at the remaining distance plus the walk
    from the door, each buffered by the access offset, their union, clipped to the straight-line circle.
    The same polygon as ours, one facility at a time; ``ego_vs_geogrid_area_diff_pct`` checks that it is.
    """
    import networkx as nx
    import numpy as np
    import shapely

    from geogrid.coverage.compute import circle_areas
    from geogrid.settings import get_settings

    g = nx.Graph()
    g.add_weighted_edges_from(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True), weight="length"
    )
    offset = get_settings().access_offset_m
    snap, d0 = graph.snap(xy)
    circles = circle_areas(xy, RADIUS_M)
    reach_s = poly_s = 0.0
    peer = np.empty(len(xy), dtype=object)
    for i, (node, start) in enumerate(zip(snap.tolist(), d0.tolist(), strict=True)):
        t, dist = _timed(
            lambda n=node, s=start: nx.single_source_dijkstra_path_length(
                g, n, cutoff=max(RADIUS_M - s, 0), weight="length"
            )
        )
        reach_s += t
        t, peer[i] = _timed(
            lambda d=dist, k=i, s=start, n=node: _ego_polygon(g, d, graph.xy, xy[k], s, n, offset, circles[k])
        )
        poly_s += t
    shapely.prepare(peer)
    gap = shapely.area(shapely.symmetric_difference(peer, areas)).sum() / shapely.area(peer).sum()
    return {
        "ego_reach_s": reach_s,
        "ego_graph_s": reach_s + poly_s,
        "ego_facilities": len(xy),
        "ego_vs_geogrid_area_diff_pct": float(100 * gap),
    }


def _ego_polygon(g, dist: dict, node_xy, door, start: float, node: int, offset: float, circle):
    """One facility's area from its reached nodes, as an OSMnx user would draw it (buffer + union per edge)."""
    import numpy as np
    import shapely

    left = RADIUS_M - start
    segs, seen = [], set()
    for a, da in dist.items():
        for b, attrs in g[a].items():
            if (b, a) in seen:
                continue
            seen.add((a, b))
            length = max(attrs["length"], 1e-9)
            ta = min(max((left - da) / length, 0.0), 1.0)
            tb = min(max((left - dist[b]) / length, 0.0), 1.0) if b in dist else 0.0
            pa, pb = node_xy[a], node_xy[b]
            if ta + tb >= 1.0:
                segs.append((pa, pb))
                continue
            for t, p, q in ((ta, pa, pb), (tb, pb, pa)):
                if t > 0:
                    segs.append((p, p + t * (q - p)))
    reach = min(RADIUS_M / max(start, 1e-9), 1.0)
    segs.append((door, door + reach * (node_xy[node] - door)))
    lines = shapely.linestrings(np.asarray(segs))
    area = shapely.union_all(shapely.buffer(lines, offset, quad_segs=PEER_QUAD_SEGS))
    return shapely.intersection(area, circle)


def _pgr_peer(conn, graph, xy, sample: int) -> dict:
    """pgRouting ``pgr_drivingDistance`` per facility (extrapolated) and with all starts in one call."""
    import numpy as np
    from sqlalchemy import text

    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
    edges = "SELECT id, source, target, length_m AS cost FROM walk_edges"
    snap, _ = graph.snap(xy)
    starts = graph.node_ids[snap]
    pick = np.random.default_rng(0).choice(len(starts), size=min(sample, len(starts)), replace=False)
    one = text("SELECT count(*) FROM pgr_drivingDistance(:e, CAST(:s AS bigint), :r, directed => false)")
    t, _ = _wall(lambda: [conn.execute(one, {"e": edges, "s": int(starts[i]), "r": RADIUS_M}).scalar() for i in pick])
    many = text(
        "SELECT count(*) FROM pgr_drivingDistance(:e, CAST(:s AS bigint[]), :r, directed => false, equicost => false)"
    )
    t_many, _ = _wall(lambda: conn.execute(many, {"e": edges, "s": [int(s) for s in starts], "r": RADIUS_M}).scalar())
    return {"pgr_per_facility_s": t * len(starts) / len(pick), "pgr_sampled": len(pick), "pgr_many_starts_s": t_many}


def _case(name: str, load, sample: int) -> dict:
    import numpy as np

    from geogrid import db
    from geogrid.coverage.compute import network_areas, to_metric
    from geogrid.network import load_graph

    with db.ready().begin() as conn:
        _reset(conn)
        lon, lat = load(conn)
    with db.ready().connect() as conn:
        graph = load_graph(conn)
        xy = to_metric(np.asarray(lon), np.asarray(lat), graph.epsg)
        out: dict[str, Any] = {
            "case": name,
            "nodes": graph.n,
            "edges": len(graph.u),
            "facilities": len(xy),
            "radius_m": RADIUS_M,
        }
        out["geogrid_cold_s"], out["geogrid_cold_import_s"] = _cold_call(graph, xy)
        out["geogrid_warmup_s"], _ = _wall(lambda: network_areas(graph, xy[:2], RADIUS_M))
        wall = time.perf_counter()
        out["geogrid_s"], areas = _timed(lambda: network_areas(graph, xy, RADIUS_M))
        out["geogrid_wall_s"] = time.perf_counter() - wall
        out["geogrid_reach_s"], _ = _timed(lambda: _reach_only(graph, xy))
        out |= _ego_peer(graph, xy, areas)
        try:
            out |= _pgr_peer(conn, graph, xy, max(10, sample // 4))
        except Exception as exc:  # pgRouting missing: report it, keep the other numbers
            out["pgr_error"] = f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    out["speedup_vs_ego_graph"] = round(out["ego_graph_s"] / out["geogrid_s"], 1)
    out["speedup_cold_vs_ego_graph"] = round(out["ego_graph_s"] / out["geogrid_cold_s"], 1)
    out["speedup_reach_vs_ego_reach"] = round(out["ego_reach_s"] / out["geogrid_reach_s"], 1)
    if "pgr_per_facility_s" in out:
        out["speedup_vs_pgr_per_facility"] = round(out["pgr_per_facility_s"] / out["geogrid_reach_s"], 1)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


COLD_CALL = """
import pickle, sys, time
start = time.process_time()
from geogrid.coverage.compute import network_areas
imported = time.process_time()
graph, xy, radius = pickle.load(open(sys.argv[1], "rb"))
start_call = time.process_time()
network_areas(graph, xy, radius)
print(imported - start, time.process_time() - start_call)
"""


def _cold_call(graph, xy) -> tuple[float, float]:
    """CPU seconds of the first :func:`network_areas` call in a fresh process, and of its import before it."""
    import pickle
    import subprocess
    import sys
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pickle") as f:
        pickle.dump((graph, xy, RADIUS_M), f)
        f.flush()
        out = subprocess.run([sys.executable, "-c", COLD_CALL, f.name], capture_output=True, text=True, check=True)
    imported, call = out.stdout.strip().splitlines()[-1].split()
    return float(call), float(imported)


def _reach_only(graph, xy):
    """The graph search of :func:`network_areas` alone (bounded Dijkstra per facility and edge cutting)."""
    from geogrid.coverage.walk import reached_pieces

    return len(reached_pieces(graph, xy, RADIUS_M)[0])


def run(quick: bool) -> dict:
    """Liechtenstein (all POIs) and a demo city (10k buildings quick, 1M full)."""
    results = []
    if LIECHTENSTEIN.exists():
        results.append(_case("liechtenstein", _liechtenstein_sites, sample=50 if quick else 200))
    n = 10_000 if quick else 1_000_000
    results.append(_case(f"demo_{n}", lambda conn: _demo_sites(conn, n), sample=50 if quick else 200))
    for r in results:
        print(r)
    goals = [
        goal(f"{r['case']}: × ego_graph counting the first call", r["speedup_cold_vs_ego_graph"], 10) for r in results
    ]
    goals += [goal(f"{r['case']}: × ego_graph warm", r["speedup_vs_ego_graph"], 10) for r in results]
    return {
        "quick": quick,
        "target": "≥10× the ego_graph peer, counting geogrid's first call",
        "goals": goals,
        "results": results,
    }
