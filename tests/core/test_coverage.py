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

MUNICIPALITIES = (
    "Vaduz",
    "Schaan",
    "Triesen",
    "Balzers",
    "Eschen",
    "Mauren",
    "Triesenberg",
    "Ruggell",
    "Gamprin",
    "Schellenberg",
    "Planken",
)
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
    conn.execute(
        text(
            "INSERT INTO admin_areas (id, code, name, level) VALUES (1, '990100', 'Liechtenstein', "
            "'district'), (2, :s, 'Oberland', 'street')"
        ),
        {"s": STREET},
    )
    seq = np.arange(1, n + 1)
    copy_frame(
        conn,
        "admin_areas",
        pd.DataFrame(
            {
                "id": seq + 10,
                "code": [f"{STREET}{i:03d}" for i in seq],
                "name": bounds["name"].to_numpy(),
                "level": "community",
                "parent_id": 2,
                "geom": _multi(bounds.geometry.to_numpy()),
            }
        ),
    )
    copy_frame(
        conn,
        "grids",
        pd.DataFrame(
            {
                "id": seq,
                "code": [f"{STREET}{i:03d}001" for i in seq],
                "name": bounds["name"].to_numpy(),
                "kind": "basic",
                "community_id": seq + 10,
                "geom": _multi(bounds.geometry.to_numpy()),
            }
        ),
    )
    # An empty grid (a field with no buildings) at the Rhine: it must report no households and a null share.
    conn.execute(
        text(
            "INSERT INTO grids (id, code, name, community_id, geom) VALUES (99, :c, 'empty', 11, "
            "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(9.40, 47.30), 4326), 0.001)))"
        ),
        {"c": f"{STREET}001999"},
    )
    buildings = osm.get_buildings()
    levels = pd.to_numeric(buildings["building:levels"], errors="coerce").fillna(1).clip(1, 10).astype(int)
    ids = np.arange(1, len(buildings) + 1)
    copy_frame(
        conn,
        "buildings",
        pd.DataFrame(
            {
                "id": ids,
                "households": levels.to_numpy(),
                "geom": shapely.point_on_surface(buildings.geometry.to_numpy()),
            }
        ),
    )
    households = np.repeat(ids, levels.to_numpy())
    hh_ids = np.arange(1, len(households) + 1)
    copy_frame(conn, "households", pd.DataFrame({"id": hh_ids, "building_id": households}), geometry=())
    groups = [["elderly_alone"] if i % 7 == 0 else ["disabled", "hardship"] if i % 11 == 0 else [] for i in hh_ids]
    copy_frame(
        conn,
        "residents",
        pd.DataFrame(
            {
                "id": hh_ids,
                "household_id": hh_ids,
                "building_id": households,
                "special_groups": groups,
            }
        ),
        geometry=(),
    )
    _load_facilities(conn, osm)
    assign_all(conn)
    compute_service_areas(conn)


def _load_facilities(conn, osm) -> None:
    pois = osm.get_pois(
        custom_filter={"amenity": ["post_office", "public_building", "kindergarten", "school", "restaurant"]}
    )
    kinds = {
        "post_office": ("service_station", 5, False),
        "public_building": ("service_station", 5, False),
        "kindergarten": ("kindergarten", 5, False),
        "school": ("school", 10, False),
        "restaurant": ("service_station", 5, True),
    }
    rows = [(*kinds[a], g) for a, g in zip(pois["amenity"], pois.geometry, strict=True) if a in kinds]
    copy_frame(
        conn,
        "facilities",
        pd.DataFrame(
            {
                "name": [f"{k} {i}" for i, (k, *_rest) in enumerate(rows)],
                "kind": [r[0] for r in rows],
                "circle_minutes": [r[1] for r in rows],
                "candidate": [r[2] for r in rows],
                "geom": shapely.point_on_surface(np.asarray([r[3] for r in rows], dtype=object)),
            }
        ),
    )


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
        # each facility at its own circle and every larger one (circles nest, GB 50180)
        areas = conn.scalar(
            text("SELECT count(*) FROM facilities f CROSS JOIN unnest(ARRAY[5, 10, 15]) m WHERE m >= f.circle_minutes")
        )
        own = conn.scalar(
            text(
                "SELECT count(*) FROM facilities f WHERE EXISTS (SELECT 1 FROM service_areas s "
                "WHERE s.facility_id = f.id AND s.minutes = f.circle_minutes AND s.mode = 'network')"
            )
        )
        facilities = conn.scalar(text("SELECT count(*) FROM facilities"))
        per_mode = dict(conn.execute(text("SELECT mode, count(*) FROM service_areas GROUP BY mode")).all())
        bad = conn.scalar(text("SELECT count(*) FROM service_areas WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)"))
    assert per_mode == {"circle": areas, "network": areas} and own == facilities
    assert bad == 0


def test_network_coverage_never_exceeds_circle(liechtenstein):
    with liechtenstein.connect() as conn:
        circle = coverage(conn, Query(minutes=5, mode="circle"))
        network = coverage(conn, Query(minutes=5, mode="network"))
    assert 0 < network["summary"]["households_covered"] < circle["summary"]["households_covered"]
    for c, n in zip(circle["grids"], network["grids"], strict=True):
        assert c["code"] == n["code"]
        for field in ("households", "residents", "elderly_alone"):
            assert (
                n[f"{field}_covered" if field != "households" else "households_covered"]
                <= c[f"{field}_covered" if field != "households" else "households_covered"]
            )


def test_counts_match_postgis(liechtenstein):
    """The in-memory STRtree count equals an independent ST_Intersects count in PostGIS."""
    with liechtenstein.connect() as conn:
        got = coverage(conn, Query(minutes=5, mode="network", kind="service_station"))
        expected = conn.execute(
            text(
                "SELECT g.code, sum(b.households) FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
                "JOIN grids g ON g.id = a.grid_id WHERE EXISTS (SELECT 1 FROM service_areas s JOIN facilities f "
                "ON f.id = s.facility_id WHERE s.mode = 'network' AND s.minutes = 5 AND f.kind = 'service_station' "
                "AND NOT f.candidate AND ST_Intersects(s.geom, b.geom)) GROUP BY g.code"
            )
        ).all()
        elderly = conn.scalar(
            text(
                "SELECT count(*) FROM residents r JOIN buildings b ON b.id = r.building_id WHERE 'elderly_alone' = "
                "ANY(r.special_groups) AND EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = "
                "s.facility_id WHERE s.mode = 'network' AND s.minutes = 5 AND f.kind = 'service_station' "
                "AND NOT f.candidate AND ST_Intersects(s.geom, b.geom))"
            )
        )
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
        areas = conn.execute(
            text(
                "SELECT facility_id, ST_AsBinary(ST_Transform(geom, :e)) FROM service_areas "
                "WHERE mode = 'network' AND minutes = 5"
            ),
            {"e": graph.epsg},
        ).all()
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
        far = [
            n
            for n, d in nx.single_source_dijkstra_path_length(
                g, int(node), weight="length", cutoff=radius + 400
            ).items()
            if d + start > radius + 300
        ]
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
    out = subprocess.run(
        [exe, "coverage", "--minutes", "5", "--mode", "circle", "--community", "Vaduz", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    with liechtenstein.connect() as conn:
        expected = coverage(conn, Query(minutes=5, mode="circle", community="Vaduz"))
    assert data["summary"] == expected["summary"] and data["grids"] == expected["grids"]
    bad = subprocess.run([exe, "coverage", "--mode", "teleport"], capture_output=True, text=True)
    assert bad.returncode == 1 and "teleport" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_coverage_compute_restores_areas_and_station_walks(liechtenstein):
    """``geogrid coverage compute`` rebuilds what facilities feed: both kinds of areas and the station walks."""
    import subprocess
    import sys
    from pathlib import Path

    with liechtenstein.begin() as conn:
        areas = conn.scalar(text("SELECT count(*) FROM service_areas"))
        conn.execute(text("DELETE FROM service_areas; DELETE FROM station_walks"))
    exe = str(Path(sys.executable).parent / "geogrid")
    out = subprocess.run([exe, "coverage", "compute"], capture_output=True, text=True, check=True)
    with liechtenstein.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM service_areas")) == areas > 0
        walks = conn.scalar(text("SELECT count(*) FROM station_walks"))
    assert walks > 50_000 and f"{walks:,}" in out.stderr  # nearly every node reaches a station (report on stderr)


def _recipe_area(
    g: nx.Graph, node_xy: np.ndarray, door: np.ndarray, node: int, start: float, radius: float, offset: float
) -> shapely.Geometry:
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
    return _plain_area(np.asarray(segs), door, radius, offset)


def _plain_area(segs: np.ndarray, door: np.ndarray, radius: float, offset: float) -> shapely.Geometry:
    """Union of fine buffers of the segments, inside the circle: the true area to within 0.3 m."""
    area = shapely.union_all(shapely.buffer(shapely.linestrings(segs), offset, quad_segs=16))
    return shapely.intersection(area, shapely.buffer(shapely.Point(door), radius, quad_segs=16))


def _assert_close(ours: shapely.Geometry, ref: shapely.Geometry, cell: float) -> None:
    """Raster outlines: within a band of a cell's half-diagonal (plus the 20 cm straightening), 1% of the area.

    Holes narrower than the band (GEOS leaves zero-area ones in unions) may close; nothing else may move.
    """
    band = cell / np.sqrt(2) + 0.2 + 0.3
    assert shapely.covers(shapely.buffer(ref, band), ours)
    assert shapely.covers(ours, shapely.buffer(ref, -band))
    assert abs(ours.area - ref.area) <= 0.01 * ref.area


@pytest.mark.parametrize("cell", ["5", "10"])
def test_network_areas_equal_the_per_facility_recipe(liechtenstein, monkeypatch, cell):
    """Searching all facilities at once and tracing distance fields give the plain per-facility area."""
    from geogrid.coverage.compute import network_areas
    from geogrid.settings import get_settings

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn).iloc[::7]
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    monkeypatch.setenv("GEOGRID_AREA_CELL", cell)
    get_settings.cache_clear()
    try:
        ours = network_areas(graph, xy, 300.0)
    finally:
        get_settings.cache_clear()
    g = nx.Graph()
    g.add_weighted_edges_from(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True), weight="length"
    )
    snap, d0 = graph.snap(xy)
    assert shapely.is_valid(ours).all()
    for k in range(len(xy)):
        _assert_close(ours[k], _recipe_area(g, graph.xy, xy[k], int(snap[k]), float(d0[k]), 300.0, 50.0), float(cell))


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
    # Each outline is traced within a band of the true one (see _assert_close), so nesting holds to that band.
    assert np.all(shapely.covers(shapely.buffer(areas["50"], 10.0 / np.sqrt(2) + 0.5), areas["20"]))
    assert np.all(shapely.area(areas["50"]) <= np.pi * 300.0**2)


@pytest.mark.parametrize(
    "name, value", [("GEOGRID_ACCESS_OFFSET", "-5"), ("GEOGRID_AREA_CELL", "60"), ("GEOGRID_AREA_CELL", "0")]
)
def test_impossible_offset_or_cell_is_a_clear_error(liechtenstein, monkeypatch, name, value):
    """A negative offset, or a cell coarser than the offset (outlines could miss a door's disc), is refused."""
    from geogrid.coverage.compute import network_areas
    from geogrid.settings import get_settings

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(GeogridError, match=name) as info:
            network_areas(graph, graph.xy[:3], 300.0)
        assert f"got {float(value)}" in str(info.value)
    finally:
        get_settings.cache_clear()


def _street_grid(side: int = 12, block: float = 130.0):
    from scipy.spatial import cKDTree

    from geogrid.network import WalkGraph

    ij = np.array([(i, j) for i in range(side) for j in range(side)])
    xy = ij * block + np.random.default_rng(1).normal(0, 0.2, ij.shape)  # a slightly imperfect survey
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:-1].ravel(), node[:, :-1].ravel()])
    v = np.concatenate([node[1:].ravel(), node[:, 1:].ravel()])
    return WalkGraph(32650, np.arange(side * side), xy, u, v, np.hypot(*(xy[u] - xy[v]).T), cKDTree(xy))


@pytest.mark.parametrize("radius", [300.0, 500.0, 1000.0])  # the 5, 10 and 15-minute circles
def test_street_grid_areas_equal_the_union_of_segment_buffers(radius):
    """On a street grid (holes between blocks, a door near the edge of the network, a door outside it) the
    area is the plain one, at every circle's radius. The reference walks the streets with networkx from the
    nearest node found here, never with geogrid's own walk (``reached_pieces``) or snapping."""
    from geogrid.coverage.compute import network_areas

    graph = _street_grid()
    doors = np.array([[530.0, 470.0], [250.0, 600.0], [100.0, 100.0], [1400.0, 20.0], [715.0, 715.0], [2500.0, 2500.0]])
    ours = network_areas(graph, doors, radius, offset=50.0)
    g = nx.Graph()
    g.add_weighted_edges_from(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True), weight="length"
    )
    for k, door in enumerate(doors):
        gaps = np.hypot(*(graph.xy - door).T)
        node = int(gaps.argmin())
        _assert_close(ours[k], _recipe_area(g, graph.xy, door, node, float(gaps[node]), radius, 50.0), 10.0)
    assert sum(len(p.interiors) for p in shapely.get_parts(ours[0])) > 0  # blocks between streets are holes


def test_walk_cuts_edges_at_the_remaining_distance():
    """A straight street of 100 m blocks: from a door 20 m off node 0, 300 m reach 2.8 blocks each way."""
    from scipy.spatial import cKDTree

    from geogrid.coverage.walk import reached_pieces
    from geogrid.network import WalkGraph

    xy = np.column_stack([np.arange(-5, 6) * 100.0, np.zeros(11)])
    graph = WalkGraph(32650, np.arange(11), xy, np.arange(10), np.arange(1, 11), np.full(10, 100.0), cKDTree(xy))
    rows, coords = reached_pieces(graph, np.array([[0.0, 20.0], [5000.0, 0.0]]), 300.0)
    lines = shapely.linestrings(coords)
    walked = lines[rows == 0]
    assert shapely.length(walked).sum() == pytest.approx(20.0 + 2 * 280.0)
    assert shapely.bounds(shapely.multilinestrings(walked)).tolist() == pytest.approx([-280.0, 0.0, 280.0, 20.0])
    # Too far from any path: only the straight access walk, cut at the radius.
    assert shapely.length(lines[rows == 1]).tolist() == pytest.approx([300.0])


def test_walk_reaches_what_scipy_dijkstra_reaches(liechtenstein):
    """Per facility, the walked length equals the one from SciPy's dense Dijkstra (an independent search)."""
    from scipy.sparse.csgraph import dijkstra

    from geogrid.coverage.walk import reached_pieces

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn).iloc[::5]
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    snap, d0 = graph.snap(xy)
    rows, coords = reached_pieces(graph, xy, 300.0)
    ours = np.bincount(rows, shapely.length(shapely.linestrings(coords)), minlength=len(xy))
    dist = dijkstra(graph.matrix(), directed=False, indices=snap, limit=300.0) + np.maximum(d0, 1e-3)[:, None]
    du, dv = dist[:, graph.u], dist[:, graph.v]
    tu = np.clip((300.0 - du) / graph.length, 0, 1)
    tv = np.clip((300.0 - dv) / graph.length, 0, 1)
    drawn = np.hypot(*(graph.xy[graph.u] - graph.xy[graph.v]).T)  # pieces are drawn straight, in the metric CRS
    walked = np.minimum(np.nan_to_num(tu) + np.nan_to_num(tv), 1.0) * drawn
    expected = walked.sum(axis=1) + np.minimum(d0, 300.0)
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-3)


def test_network_areas_stay_inside_the_stored_circle(liechtenstein):
    """Network outlines are traced inside the very circle polygon circle mode stores, not just its radius."""
    from geogrid.coverage.compute import circle_areas, network_areas

    with liechtenstein.connect() as conn:
        graph = load_graph(conn)
        facilities = load_facilities(conn)
    xy = to_metric(facilities["lon"], facilities["lat"], graph.epsg)
    network, circle = network_areas(graph, xy, 300.0), circle_areas(xy, 300.0)
    outside = shapely.area(shapely.difference(network, circle))
    assert outside.max() < 1e-6
    # ...and the clip is real: many walks reach the circle's edge.
    assert shapely.intersects(shapely.buffer(network, 0.5), shapely.boundary(circle)).mean() > 0.5
