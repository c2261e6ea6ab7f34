"""Coverage on a real network: Liechtenstein (OSM 2015), municipalities as grids, real buildings and POIs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from geogrid.assign import assign_all
from geogrid.coverage.compute import compute_service_areas, load_facilities, radius_m, to_metric
from geogrid.coverage.stats import Query, coverage
from geogrid.db.bulk import copy_frame
from geogrid.errors import GeogridError, NotFound
from geogrid.network import import_osm_network, load_graph
from tests.conftest import shared_data, truncate_all

MUNICIPALITIES = ("Vaduz", "Schaan", "Triesen", "Balzers", "Eschen", "Mauren", "Triesenberg", "Ruggell",
                  "Gamprin", "Schellenberg", "Planken")
STREET = "990100001"


def _multi(geoms) -> np.ndarray:
    parts, index = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    return shapely.multipolygons(parts, indices=index)


def load_liechtenstein(conn, path) -> None:
    """Municipalities → one community and one grid each; buildings, households, residents, facilities."""
    osm = pyrosm.OSM(str(path))
    import_osm_network(conn, path)
    bounds = osm.get_boundaries()
    bounds = bounds[bounds["name"].isin(MUNICIPALITIES) & (bounds["admin_level"] == "8")].sort_values("name")
    n = len(bounds)
    conn.execute(text("INSERT INTO admin_areas (id, code, name, level) VALUES (1, '990100', 'Liechtenstein', "
                      "'district'), (2, :s, 'Oberland', 'street')"), {"s": STREET})
    seq = np.arange(1, n + 1)
    copy_frame(conn, "admin_areas", pd.DataFrame({
        "id": seq + 10, "code": [f"{STREET}{i:03d}" for i in seq], "name": bounds["name"].to_numpy(),
        "level": "community", "parent_id": 2, "geom": _multi(bounds.geometry.to_numpy()),
    }))
    copy_frame(conn, "grids", pd.DataFrame({
        "id": seq, "code": [f"{STREET}{i:03d}001" for i in seq], "name": bounds["name"].to_numpy(),
        "kind": "basic", "community_id": seq + 10, "geom": _multi(bounds.geometry.to_numpy()),
    }))
    # An empty grid (a field with no buildings) at the Rhine: it must report no households and a null share.
    conn.execute(text("INSERT INTO grids (id, code, name, community_id, geom) VALUES (99, :c, 'empty', 11, "
                      "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(9.40, 47.30), 4326), 0.001)))"),
                 {"c": f"{STREET}001999"})
    buildings = osm.get_buildings()
    levels = pd.to_numeric(buildings["building:levels"], errors="coerce").fillna(1).clip(1, 10).astype(int)
    ids = np.arange(1, len(buildings) + 1)
    copy_frame(conn, "buildings", pd.DataFrame({
        "id": ids, "households": levels.to_numpy(),
        "geom": shapely.point_on_surface(buildings.geometry.to_numpy()),
    }))
    households = np.repeat(ids, levels.to_numpy())
    hh_ids = np.arange(1, len(households) + 1)
    copy_frame(conn, "households", pd.DataFrame({"id": hh_ids, "building_id": households}), geometry=())
    groups = [["elderly_alone"] if i % 7 == 0 else ["disabled", "hardship"] if i % 11 == 0 else [] for i in hh_ids]
    copy_frame(conn, "residents", pd.DataFrame({
        "id": hh_ids, "household_id": hh_ids, "building_id": households, "special_groups": groups,
    }), geometry=())
    _load_facilities(conn, osm)
    assign_all(conn)
    compute_service_areas(conn)


def _load_facilities(conn, osm) -> None:
    pois = osm.get_pois(custom_filter={"amenity": ["post_office", "public_building", "kindergarten", "school",
                                                   "restaurant"]})
    kinds = {"post_office": ("service_station", 5, False), "public_building": ("service_station", 5, False),
             "kindergarten": ("kindergarten", 5, False), "school": ("school", 10, False),
             "restaurant": ("service_station", 5, True)}
    rows = [(*kinds[a], g) for a, g in zip(pois["amenity"], pois.geometry, strict=True) if a in kinds]
    copy_frame(conn, "facilities", pd.DataFrame({
        "name": [f"{k} {i}" for i, (k, *_rest) in enumerate(rows)], "kind": [r[0] for r in rows],
        "circle_minutes": [r[1] for r in rows], "candidate": [r[2] for r in rows],
        "geom": shapely.point_on_surface(np.asarray([r[3] for r in rows], dtype=object)),
    }))


@pytest.fixture(scope="module")
def liechtenstein(database):
    path = shared_data("liechtenstein-osm/liechtenstein-2015.osm.pbf")
    truncate_all(database)
    with database.begin() as conn:
        load_liechtenstein(conn, path)
    return database


def test_network_import_counts(liechtenstein):
    with liechtenstein.connect() as conn:
        nodes = conn.scalar(text("SELECT count(*) FROM walk_nodes"))
        km = conn.scalar(text("SELECT sum(length_m) / 1000 FROM walk_edges"))
    assert nodes == 53_294
    assert 1_000 < km < 1_200  # README: 1,090 km


def test_every_facility_has_both_areas(liechtenstein):
    with liechtenstein.connect() as conn:
        facilities = conn.scalar(text("SELECT count(*) FROM facilities"))
        per_mode = dict(conn.execute(text("SELECT mode, count(*) FROM service_areas GROUP BY mode")).all())
        bad = conn.scalar(text("SELECT count(*) FROM service_areas WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)"))
    assert per_mode == {"circle": facilities, "network": facilities}
    assert bad == 0


def test_network_coverage_never_exceeds_circle(liechtenstein):
    with liechtenstein.connect() as conn:
        circle = coverage(conn, Query(minutes=5, mode="circle"))
        network = coverage(conn, Query(minutes=5, mode="network"))
    assert 0 < network["summary"]["households_covered"] < circle["summary"]["households_covered"]
    for c, n in zip(circle["grids"], network["grids"], strict=True):
        assert c["code"] == n["code"]
        for field in ("households", "residents", "elderly_alone"):
            assert n[f"{field}_covered" if field != "households" else "households_covered"] <= \
                c[f"{field}_covered" if field != "households" else "households_covered"]


def test_counts_match_postgis(liechtenstein):
    """The in-memory STRtree count equals an independent ST_Intersects count in PostGIS."""
    with liechtenstein.connect() as conn:
        got = coverage(conn, Query(minutes=5, mode="network", kind="service_station"))
        expected = conn.execute(text(
            "SELECT g.code, sum(b.households) FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
            "JOIN grids g ON g.id = a.grid_id WHERE EXISTS (SELECT 1 FROM service_areas s JOIN facilities f "
            "ON f.id = s.facility_id WHERE s.mode = 'network' AND s.minutes = 5 AND f.kind = 'service_station' "
            "AND NOT f.candidate AND ST_Intersects(s.geom, b.geom)) GROUP BY g.code"
        )).all()
        elderly = conn.scalar(text(
            "SELECT count(*) FROM residents r JOIN buildings b ON b.id = r.building_id WHERE 'elderly_alone' = "
            "ANY(r.special_groups) AND EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = "
            "s.facility_id WHERE s.mode = 'network' AND s.minutes = 5 AND f.kind = 'service_station' "
            "AND NOT f.candidate AND ST_Intersects(s.geom, b.geom))"
        ))
    by_code = {g["code"]: g["households_covered"] for g in got["grids"] if g["households_covered"]}
    assert by_code == {code: int(h) for code, h in expected}
    assert got["summary"]["elderly_alone_covered"] == elderly
    s = got["summary"]
    assert s["share"] == pytest.approx(s["households_covered"] / s["households"], abs=1e-4)


def test_network_area_matches_networkx_dijkstra(liechtenstein):
    """Nodes that networkx finds within the radius lie inside the stored network area."""
    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn, "kind = 'kindergarten'")
        areas = conn.execute(text(
            "SELECT facility_id, ST_AsBinary(ST_Transform(geom, :e)) FROM service_areas WHERE mode = 'network'"
        ), {"e": graph.epsg}).all()
    area = {fid: shapely.from_wkb(bytes(w)) for fid, w in areas}
    g = nx.Graph()
    edges = zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True)
    g.add_weighted_edges_from(edges, weight="length")
    radius = radius_m(5)
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    snap, d0 = graph.snap(xy)
    for fid, node, start in zip(facilities["id"], snap, d0, strict=True):
        reached = nx.single_source_dijkstra_path_length(g, int(node), cutoff=radius - start, weight="length")
        pts = shapely.points(graph.xy[list(reached)])
        assert shapely.covers(shapely.buffer(area[fid], 0.01), pts).all()
        far = [n for n, d in nx.single_source_dijkstra_path_length(g, int(node), weight="length",
                                                                    cutoff=radius + 400).items()
               if d + start > radius + 300]
        # Nodes much further along the network than the radius (+ offset slack) are mostly outside.
        if far:
            assert shapely.covers(area[fid], shapely.points(graph.xy[far])).mean() < 0.5


def test_empty_grid_and_rollups(liechtenstein):
    with liechtenstein.connect() as conn:
        result = coverage(conn, Query(minutes=5, mode="network"))
    empty = next(g for g in result["grids"] if g["code"].endswith("999"))
    assert empty["households"] == 0 and empty["share"] is None
    assert sum(c["households"] for c in result["communities"]) == result["summary"]["households"]
    assert result["streets"][0]["households_covered"] == result["summary"]["households_covered"]


def test_bad_queries_are_clear(liechtenstein):
    with pytest.raises(GeogridError, match="mode"):
        Query(mode="drive")
    with pytest.raises(GeogridError, match="kind"):
        Query(kind="casino")
    with liechtenstein.connect() as conn, pytest.raises(NotFound, match="Atlantis"):
        coverage(conn, Query(community="Atlantis"))


def test_api_coverage(liechtenstein):
    from api.app import create_app

    client = TestClient(create_app())
    ok = client.get("/coverage", params={"minutes": 5, "mode": "network", "community": "Vaduz"})
    assert ok.status_code == 200
    body = ok.json()
    assert {"households", "households_covered", "share"} <= set(body["summary"])
    assert len(body["grids"]) == 1 and body["grids"][0]["name"] == "Vaduz"
    bad = client.get("/coverage", params={"mode": "flying"})
    assert bad.status_code == 400 and "mode" in bad.json()["error"]
    assert client.get("/coverage", params={"community": "Atlantis"}).status_code == 404
    assert client.get("/coverage", params={"minutes": "five"}).status_code == 422
    seven = client.get("/coverage", params={"minutes": 7})  # no 7-minute circle in GB 50180: not a silent 0%
    assert seven.status_code == 400 and "choose one of 5, 10, 15" in seven.json()["error"]


def test_cli_coverage_json_matches_api(liechtenstein):
    """``geogrid coverage --json`` prints what GET /coverage answers; a bad mode is one line, exit 1."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "geogrid")
    out = subprocess.run([exe, "coverage", "--minutes", "5", "--mode", "circle", "--community", "Vaduz", "--json"],
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    with liechtenstein.connect() as conn:
        expected = coverage(conn, Query(minutes=5, mode="circle", community="Vaduz"))
    assert data["summary"] == expected["summary"] and data["grids"] == expected["grids"]
    bad = subprocess.run([exe, "coverage", "--mode", "teleport"], capture_output=True, text=True)
    assert bad.returncode == 1 and "teleport" in bad.stderr and "Traceback" not in bad.stderr


def _recipe_area(g: nx.Graph, node_xy: np.ndarray, door: np.ndarray, node: int, start: float, radius: float,
                 offset: float) -> shapely.Geometry:
    """One facility at a time, the plain way: every reached edge (cut at the remaining distance) buffered."""
    left = radius - start
    dist = nx.single_source_dijkstra_path_length(g, node, cutoff=left, weight="length")
    segs = [(door, door + min(radius / max(start, 1e-9), 1.0) * (node_xy[node] - door))]
    for a, da in dist.items():
        for b, attrs in g[a].items():
            length = max(attrs["length"], 1e-9)
            ta = min(max((left - da) / length, 0.0), 1.0)
            tb = min(max((left - dist[b]) / length, 0.0), 1.0) if b in dist else 0.0
            t = 1.0 if ta + tb >= 1.0 else ta  # a whole edge, or the part reached from this end
            if t > 0:
                segs.append((node_xy[a], node_xy[a] + t * (node_xy[b] - node_xy[a])))
    area = shapely.union_all(shapely.buffer(shapely.linestrings(np.asarray(segs)), offset, quad_segs=3))
    return shapely.intersection(area, shapely.buffer(shapely.Point(door), radius, quad_segs=16))


@pytest.mark.parametrize("tolerance", ["0", "1"])
def test_network_areas_equal_the_per_facility_recipe(liechtenstein, monkeypatch, tolerance):
    """Strokes, simplification and threads change the work, not the area: within the tolerance of the plain way."""
    from geogrid.coverage.compute import network_areas
    from geogrid.settings import get_settings

    monkeypatch.setenv("GEOGRID_AREA_SIMPLIFY", tolerance)
    get_settings.cache_clear()
    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn).iloc[::7]
    get_settings.cache_clear()
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    ours = network_areas(graph, xy, 300.0)
    get_settings.cache_clear()
    g = nx.Graph()
    g.add_weighted_edges_from(zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True),
                              weight="length")
    snap, d0 = graph.snap(xy)
    for k in range(len(xy)):
        ref = _recipe_area(g, graph.xy, xy[k], int(snap[k]), float(d0[k]), 300.0, 50.0)
        # Arcs have 3 segments a quarter, but GEOS rounds the count of a join: a chord spans up to 45°.
        assert shapely.hausdorff_distance(ours[k], ref) <= float(tolerance) + 50.0 * (1 - np.cos(np.pi / 8)) + 0.05
        assert abs(ours[k].area - ref.area) <= 0.01 * ref.area


def test_access_offset_is_a_setting(liechtenstein, monkeypatch):
    """GEOGRID_ACCESS_OFFSET widens or narrows every network area; never past the circle."""
    from geogrid.coverage.compute import network_areas
    from geogrid.settings import get_settings

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn).iloc[:40]
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    areas = {}
    for offset in ("20", "50"):
        monkeypatch.setenv("GEOGRID_ACCESS_OFFSET", offset)
        get_settings.cache_clear()
        areas[offset] = network_areas(graph, xy, 300.0)
    get_settings.cache_clear()
    assert np.all(shapely.area(areas["20"]) < shapely.area(areas["50"]))
    assert np.all(shapely.covers(shapely.buffer(areas["50"], 0.01), areas["20"]))
    assert np.all(shapely.area(areas["50"]) <= np.pi * 300.0**2)


def test_negative_offset_is_a_clear_error(liechtenstein, monkeypatch):
    from geogrid.coverage.compute import network_areas
    from geogrid.settings import get_settings

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
    monkeypatch.setenv("GEOGRID_ACCESS_OFFSET", "-5")
    get_settings.cache_clear()
    try:
        with pytest.raises(GeogridError, match="GEOGRID_ACCESS_OFFSET"):
            network_areas(graph, graph.xy[:3], 300.0)
    finally:
        get_settings.cache_clear()


def test_street_grid_areas_equal_the_union_of_segment_buffers():
    """On a street grid (strokes through crossings, one-pass buffers) the area is the plain union of buffers."""
    from scipy.spatial import cKDTree

    from geogrid.coverage.compute import network_areas, reached_segments
    from geogrid.network import WalkGraph

    side = 12
    ij = np.array([(i, j) for i in range(side) for j in range(side)])
    xy = ij * 130.0 + np.random.default_rng(1).normal(0, 0.2, ij.shape)  # a slightly imperfect survey
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:-1].ravel(), node[:, :-1].ravel()])
    v = np.concatenate([node[1:].ravel(), node[:, 1:].ravel()])
    graph = WalkGraph(32650, np.arange(side * side), xy, u, v, np.hypot(*(xy[u] - xy[v]).T), cKDTree(xy))
    doors = np.array([[530.0, 470.0], [250.0, 600.0], [100.0, 100.0], [1400.0, 20.0]])
    ours = network_areas(graph, doors, 300.0, offset=50.0)
    rows, coords = reached_segments(graph, doors, 300.0)
    for k, door in enumerate(doors):
        plain = shapely.union_all(shapely.buffer(shapely.linestrings(coords[rows == k]), 50.0, quad_segs=3))
        ref = shapely.intersection(plain, shapely.buffer(shapely.Point(door), 300.0, quad_segs=16))
        assert shapely.hausdorff_distance(ours[k], ref) <= 1.0 + 50.0 * (1 - np.cos(np.pi / 8)) + 0.05
        assert abs(ours[k].area - ref.area) <= 0.01 * ref.area
