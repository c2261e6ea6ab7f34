"""Lookup on the demo city, every answer recomputed independently: Shapely for grids and coverage, NetworkX
on the walking network for the nearest service station, the buildings' own addresses written the ways people
write them."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from api.schemas import AddressAnswer, PointAnswer
from geogrid.coverage.compute import to_metric
from geogrid.db.bulk import fetch_geoms
from geogrid.lookup import grids_at, lookup_address, lookup_point
from geogrid.network import load_graph
from geogrid.settings import get_settings

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def demo(demo_city, database):
    with database.connect() as conn:
        grids = fetch_geoms(conn, "SELECT code, ST_AsBinary(geom) FROM grids WHERE valid_to IS NULL ORDER BY code")
        stations = fetch_geoms(
            conn, "SELECT name, ST_AsBinary(geom) FROM facilities WHERE kind = 'service_station' AND NOT candidate"
        )
        areas = fetch_geoms(
            conn,
            "SELECT mode, ST_AsBinary(s.geom) FROM service_areas s JOIN facilities f "
            "ON f.id = s.facility_id WHERE s.minutes = 5 AND NOT f.candidate",
        )
    return database, grids, stations, areas


def shapely_codes(grids: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    tree = shapely.STRtree(grids["geom"].to_numpy())
    pts, idx = tree.query(shapely.points(lon, lat), predicate="intersects")
    out: list[str | None] = [None] * len(lon)
    for p, g in sorted(zip(pts.tolist(), idx.tolist(), strict=True), key=lambda t: (t[0], -t[1])):
        out[p] = grids["code"].iloc[g]
    return out


def random_points(grids: pd.DataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(grids["geom"].to_numpy())
    coords = shapely.get_coordinates(grids["geom"].to_numpy())
    on_edges = coords[rng.choice(len(coords), n // 5)]
    return (
        np.concatenate([rng.uniform(x0 - 0.002, x1 + 0.002, n), on_edges[:, 0]]),
        np.concatenate([rng.uniform(y0 - 0.002, y1 + 0.002, n), on_edges[:, 1]]),
    )


def test_every_building_and_random_point_matches_shapely(demo):
    engine, grids, *_ = demo
    with engine.connect() as conn:
        b = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM buildings ORDER BY id")).all()
        lon, lat = random_points(grids, 3000, seed=1)
        lon, lat = np.concatenate([lon, [r[0] for r in b]]), np.concatenate([lat, [r[1] for r in b]])
        got = [g["code"] if g else None for g in grids_at(conn, lon, lat)]
    assert got == shapely_codes(grids, lon, lat)
    assert len(b) > 100


def _walks_to_stations(conn, stations: pd.DataFrame):
    """A function (lon, lat) → (station name, metres walked), computed apart from geogrid's SQL and SciPy:
    NetworkX Dijkstra from every station (a leaf at its snap distance from its nearest node) to every node;
    a point steps onto its nearest street (Shapely, metric CRS) and walks to the better end of it."""
    graph = load_graph(conn)
    g = nx.Graph()
    g.add_weighted_edges_from(zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True))
    s_node, s_snap = graph.snap(to_metric(shapely.get_x(stations["geom"]), shapely.get_y(stations["geom"]), graph.epsg))
    for k, (node, snap) in enumerate(zip(s_node.tolist(), s_snap.tolist(), strict=True)):
        g.add_edge(("station", k), node, weight=max(snap, 1e-3))
    dist, paths = nx.multi_source_dijkstra(g, {("station", k) for k in range(len(stations))})
    lines = shapely.linestrings(np.stack([graph.xy[graph.u], graph.xy[graph.v]], axis=1))  # demo streets are straight
    tree = shapely.STRtree(lines)

    def walk(lon: float, lat: float) -> tuple[str, float]:
        point = shapely.Point(to_metric(np.array([lon]), np.array([lat]), graph.epsg)[0])
        e = int(tree.query_nearest(point)[0])
        t = lines[e].project(point, normalized=True)
        ends = ((int(graph.u[e]), t), (int(graph.v[e]), 1 - t))
        total, node = min((lines[e].distance(point) + along * graph.length[e] + dist[n], n) for n, along in ends)
        return stations["name"].iloc[paths[node][0][1]], total

    return walk


def test_single_answers_match_independent_computation(demo):
    engine, grids, stations, areas = demo
    geod, settings = Geod(ellps="WGS84"), get_settings()
    lon, lat = random_points(grids, 150, seed=2)
    want = shapely_codes(grids, lon, lat)
    network = areas[areas["mode"] == "network"]
    areas = network if len(network) else areas
    with engine.connect() as conn:
        walk = _walks_to_stations(conn, stations)
        for x, y, code in zip(lon, lat, want, strict=True):
            if code is None:
                continue
            got = lookup_point(conn, float(x), float(y))
            PointAnswer.model_validate(got)  # the documented shape (/docs) is the real one
            assert got["grid"]["code"] == code
            assert got["community"]["code"] == code[:12] and got["district"]["code"] == code[:6]
            station = got["nearest_station"]
            name, metres = walk(float(x), float(y))
            assert station["walk_basis"] == "network" and station["name"] == name
            # The lookup steps onto the street in geodesic metres, the check in a projected CRS (scale ±0.04%).
            assert station["walk_m"] == pytest.approx(metres, rel=1e-3, abs=0.5)
            assert station["walk_minutes"] == pytest.approx(metres / settings.walk_speed_m_per_min, rel=1e-3, abs=0.06)
            mine = stations["geom"][stations["name"] == name].iloc[0]
            assert station["distance_m"] == pytest.approx(geod.inv(x, y, mine.x, mine.y)[2], abs=1.0)
            assert station["walk_m"] >= station["distance_m"] - 1.0  # no walk is shorter than the crow flies
            if len(areas):
                assert got["covered"] == bool(shapely.intersects(areas["geom"], shapely.Point(x, y)).any())


def test_a_proposed_site_does_not_count_as_coverage(demo):
    """Where only a candidate site's area reaches (a proposal, not a station), a lookup says not covered."""
    engine, *_ = demo
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(b.geom), ST_Y(b.geom) FROM buildings b "
                "WHERE EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = s.facility_id "
                "              WHERE f.candidate AND s.minutes = 5 AND ST_Intersects(s.geom, b.geom)) "
                "AND NOT EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = s.facility_id "
                "                WHERE NOT f.candidate AND s.minutes = 5 AND ST_Intersects(s.geom, b.geom))"
            )
        ).all()
        assert rows, "the demo city has buildings only a candidate site would serve"
        assert not any(lookup_point(conn, x, y)["covered"] for x, y in rows)


def _variants(address: str) -> list[str]:
    return [address, address.translate(FULL_WIDTH), f"北京市海淀区{address}", " ".join(address)]


def test_building_addresses_as_people_write_them(demo):
    engine, grids, *_ = demo
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT b.address, ST_X(b.geom), ST_Y(b.geom) FROM buildings b WHERE b.address IS NOT NULL "
                "ORDER BY b.id"
            )
        ).all()
        assert rows, "the demo city has addresses"
        sample = [rows[i] for i in np.random.default_rng(3).choice(len(rows), min(40, len(rows)), replace=False)]
        for address, x, y in sample:
            want = shapely_codes(grids, np.array([x]), np.array([y]))[0]
            for query in _variants(address):
                got = lookup_address(conn, query)
                AddressAnswer.model_validate(got)
                assert got["match"]["score"] == 1.0, query
                assert got["grid"]["code"] == want or got["ambiguous"], query


def test_compound_and_building_number(demo):
    engine, grids, *_ = demo
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.name, b.number, ST_X(b.geom), ST_Y(b.geom) FROM buildings b "
                "JOIN compounds c ON c.id = b.compound_id WHERE b.number ~ '^[0-9]+$' ORDER BY b.id LIMIT 30"
            )
        ).all()
        assert rows
        for name, number, x, y in rows:
            want = shapely_codes(grids, np.array([x]), np.array([y]))[0]
            for query in (f"{name}{number}号楼", f"{name}{number}幢", f"{name} {number} 栋"):
                got = lookup_address(conn, query)
                AddressAnswer.model_validate(got)
                assert got["match"]["score"] == 1.0, query
                codes = {want} | {c["grid"]["code"] for c in got["candidates"] if c["grid"]}
                assert got["grid"]["code"] == want or (got["ambiguous"] and want in codes), query
