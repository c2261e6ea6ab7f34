"""Every command the README promises, run through the installed ``geogrid`` executable as a user would.

One street office is built from files only (the shipped sample boundaries, buildings, residents and facilities
written here as CSV), then computed, counted, mapped, exported and served. Figures are checked against counts
made independently here (Shapely on the same polygons, the rows written to the files), never against geogrid.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyogrio
import pytest
import shapely
from shapely.geometry import shape

from tests.conftest import make_account, truncate_all

GEOGRID = str(Path(sys.executable).parent / "geogrid")
GROUPS = ["独居老人", "残疾人", ""]


def geogrid(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEOGRID_LANG": "en"}
    result = subprocess.run([GEOGRID, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert result.returncode == 0, f"geogrid {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def street(tmp_path_factory, database):
    """The sample street from files: boundaries, one building per basic grid, residents, one station each."""
    truncate_all(database)
    out = tmp_path_factory.mktemp("walkthrough")
    geogrid("demo-boundaries", str(out / "street.geojson"))
    features = json.loads((out / "street.geojson").read_text())["features"]
    areas = [f for f in features if f["properties"]["level"] in ("district", "street", "community")]
    grids = [f for f in features if f["properties"]["level"] == "grid"]
    for name, part in (("areas", areas), ("grids", grids)):
        (out / f"{name}.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": part}))
    basic = sorted((f for f in grids if f["properties"]["kind"] == "basic"), key=lambda f: f["properties"]["code"])
    buildings, residents, expected = [], [], {}
    for i, grid in enumerate(basic):
        point = shapely.point_on_surface(shape(grid["geometry"]))
        code = grid["properties"]["code"]
        buildings.append(
            {
                "id": f"b{i}",
                "name": f"{i}号楼",
                "address": f"长湖街{i + 1}号",
                "households": 100 + i,
                "lon": round(point.x, 7),
                "lat": round(point.y, 7),
            }
        )
        people = [
            {
                "id": f"r{i}-{k}",
                "building_id": f"b{i}",
                "household": f"h{i}-{k // 2}",
                "party": "是" if k % 3 == 0 else "否",
                "special": GROUPS[k % 3],
            }
            for k in range(1 + i % 4)
        ]
        residents += people
        expected[code] = {
            "households": 100 + i,
            "residents": len(people),
            "party_members": sum(p["party"] == "是" for p in people),
            "elderly_alone": sum(p["special"] == "独居老人" for p in people),
            "disabled": sum(p["special"] == "残疾人" for p in people),
        }
    communities = [f for f in areas if f["properties"]["level"] == "community"]
    stations = [
        {
            "id": f"s{i}",
            "name": f"{c['properties']['name']}党群服务站",
            "kind": "service_station",
            "lon": shapely.point_on_surface(shape(c["geometry"])).x,
            "lat": shapely.point_on_surface(shape(c["geometry"])).y,
        }
        for i, c in enumerate(communities)
    ]
    geogrid("import", "areas", str(out / "areas.geojson"))
    geogrid("import", "grids", str(out / "grids.geojson"))
    geogrid("import", "buildings", str(write_csv(out / "buildings.csv", buildings)))
    geogrid(
        "import",
        "residents",
        str(write_csv(out / "residents.csv", residents)),
        "--party-field",
        "party",
        "--special-field",
        "special",
    )
    geogrid("import", "facilities", str(write_csv(out / "facilities.csv", stations)))
    geogrid("compute")
    yield {"dir": out, "grids": grids, "expected": expected, "stations": stations, "buildings": buildings}
    truncate_all(database)


def test_stats_count_what_the_files_hold(street):
    rows = {r["code"]: r for r in json.loads(geogrid("stats", "--json").stdout)}
    assert set(rows) == {f["properties"]["code"] for f in street["grids"]}
    for code, want in street["expected"].items():
        assert {k: rows[code][k] for k in want} == want, code
        assert rows[code]["buildings"] == 1
    empty = [c for c in rows if c not in street["expected"]]
    assert empty and all(rows[c]["households"] == 0 and rows[c]["residents"] == 0 for c in empty)


def test_coverage_gaps_and_suggest_against_distances_measured_here(street):
    """5-minute circles of 300 m around the stations: what is covered, what is a gap, what a new site gains."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    stations = street["stations"]

    def reached(b: dict) -> bool:
        return any(geod.inv(b["lon"], b["lat"], s["lon"], s["lat"])[2] <= 300 for s in stations)

    covered = [b for b in street["buildings"] if reached(b)]
    uncovered = [b for b in street["buildings"] if not reached(b)]
    assert covered and uncovered, "the sample street must have both for this test to mean anything"
    report = json.loads(geogrid("coverage", "--mode", "circle", "--kind", "service_station", "--json").stdout)
    assert report["summary"]["households"] == sum(b["households"] for b in street["buildings"])
    assert report["summary"]["households_covered"] == sum(b["households"] for b in covered)
    gaps = json.loads(geogrid("coverage", "gaps", "--mode", "circle", "--json").stdout)
    assert gaps["summary"]["buildings"] == len(uncovered)
    assert gaps["summary"]["households"] == sum(b["households"] for b in uncovered)
    suggest = json.loads(geogrid("coverage", "suggest", "-k", "1", "--mode", "circle", "--json").stdout)
    site = suggest["sites"][0]
    gain = sum(b["households"] for b in uncovered if geod.inv(b["lon"], b["lat"], site["lon"], site["lat"])[2] <= 300)
    assert site["gain_households"] == gain > 0


def test_map_export_and_serve(street):
    out = street["dir"]
    code = next(iter(street["expected"]))
    geogrid("map", "grid", code, "-o", str(out / "grid.html"))
    page = (out / "grid.html").read_text()
    assert "<html" in page.lower() and "leaflet" in page.lower()
    geogrid("export", "grids", "-o", str(out / "grids.gpkg"))
    exported = pyogrio.read_dataframe(out / "grids.gpkg")
    assert sorted(exported["code"]) == sorted(f["properties"]["code"] for f in street["grids"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [GEOGRID, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GEOGRID_LANG": "en"},
    )
    try:
        deadline, answer = time.time() + 60, None
        while time.time() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answer is not None and answer.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_coverage_over_http_against_distances_measured_here(street, database):
    """/coverage, /coverage/gaps and /coverage/suggest on the same street, each figure from geodesic distances
    to the stations (pyproj), per grid, not from geogrid's service areas; the best two new sites by brute force."""
    from itertools import combinations

    from fastapi.testclient import TestClient
    from pyproj import Geod

    from api.app import create_app

    geod = Geod(ellps="WGS84")
    buildings = street["buildings"]

    def near(b: dict, lon: float, lat: float) -> bool:
        return geod.inv(b["lon"], b["lat"], lon, lat)[2] <= 300

    reached = {b["id"] for b in buildings if any(near(b, s["lon"], s["lat"]) for s in street["stations"])}
    code_of = dict(zip((b["id"] for b in buildings), street["expected"], strict=True))  # one building per grid
    params = {"mode": "circle", "minutes": 5, "kind": "service_station"}
    with TestClient(create_app()) as client:
        answers = [client.get("/coverage", params=params), client.get("/coverage/gaps", params=params)]
        with_key = TestClient(create_app(), headers={"Authorization": f"Bearer {make_account(database, 'admin')[1]}"})
        answers.append(with_key.get("/coverage/suggest", params={**params, "k": 2}))
    for answer in answers:
        assert answer.status_code == 200, (answer.request.url, answer.status_code, answer.text[:300])
    coverage, gaps, suggest = (answer.json() for answer in answers)
    per_grid = {g["code"]: g for g in coverage["grids"]}
    for b in buildings:
        grid = per_grid[code_of[b["id"]]]
        assert grid["households"] == b["households"]
        assert grid["households_covered"] == (b["households"] if b["id"] in reached else 0), b
    uncovered = [b for b in buildings if b["id"] not in reached]
    assert coverage["summary"]["households_covered"] == sum(b["households"] for b in buildings if b["id"] in reached)
    assert gaps["summary"]["households"] == sum(b["households"] for b in uncovered)
    assert sorted(g["grid"] for g in gaps["buildings"]) == sorted(code_of[b["id"]] for b in uncovered)

    def gain(sites: tuple[dict, ...]) -> int:
        return sum(b["households"] for b in uncovered if any(near(b, s["lon"], s["lat"]) for s in sites))

    best = max(gain(pair) for pair in combinations(uncovered, 2))
    assert suggest["gain_households"] == best > 0
    assert gain(tuple(suggest["sites"])) == best  # the sites it names really reach that many (within 1 m rounding)


# The tests below empty the database: every test of the sample street comes before them.


def test_rosters_and_address_book_through_the_cli(street, tmp_path):
    """``import staff|party-orgs|building-leaders|addresses`` from the files a street office keeps, then the
    lookup of a book address names the worker and branch those files brought, and ``responsible`` the worker."""
    code = next(iter(street["expected"]))  # the grid of building b0
    b0 = street["buildings"][0]
    files = {
        "staff": "工号,姓名,角色,网格编码,联系电话\nS1,张网格,专职网格员,{code},13800000001\n",
        "party-orgs": "党组织名称,级别,网格编码,书记,党员人数\n第一网格党支部,网格党支部,{code},吴书记,18\n",
        "building-leaders": "姓名,角色,楼栋编号,联系户数,联系电话\n孙七,楼栋长,b0,40,13700000007\n",
        "addresses": "编号,路,门牌号,经度,纬度\n1,长湖街,99号,{lon},{lat}\n",
    }
    for layer, body in files.items():
        path = tmp_path / f"{layer}.csv"
        path.write_text(body.format(code=code, lon=b0["lon"], lat=b0["lat"]), encoding="utf-8")
        assert "1 rows read, 1 new" in geogrid("import", layer, str(path)).stderr
    geogrid("compute")
    answer = json.loads(geogrid("lookup", "长湖街99号").stdout)
    assert answer["grid"]["code"] == code and answer["match"]["level"] == "address_book"
    assert [s["name"] for s in answer["staff"]] == ["张网格"]
    assert answer["party_org"]["name"] == "第一网格党支部"
    assert "13800000001" not in json.dumps(answer)  # a lookup names the worker, never their phone
    assert geogrid("responsible", code).stdout.startswith("专职网格员\t张网格\t")


def test_import_osm_brings_buildings_pois_and_network(database, tmp_path):
    from tests.conftest import shared_data

    pbf = shared_data("beijing-haidian-osm/cau-east-xueyuanlu.osm.pbf")
    truncate_all(database)
    geogrid("import", "osm", str(pbf))
    with database.connect() as conn:
        counts = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("buildings", "facilities", "walk_edges")
        }
    assert all(n > 0 for n in counts.values()), counts
    truncate_all(database)


def test_db_reset_leaves_an_empty_migrated_database(tmp_path):
    """On a database of its own: a reset drops the schema, which open connections of other tests must never see."""
    env = {
        **os.environ,
        "GEOGRID_LANG": "en",
        "GEOGRID_DB_NAME": f"geogrid_reset_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([GEOGRID, *args], capture_output=True, text=True, timeout=300, env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        return out

    def areas() -> int:
        run("export", "areas", "-o", str(tmp_path / "areas.geojson"))
        return len(json.loads((tmp_path / "areas.geojson").read_text())["features"])

    run("demo-boundaries", str(tmp_path / "street.geojson"))
    features = json.loads((tmp_path / "street.geojson").read_text())["features"]
    kept = [f for f in features if f["properties"]["level"] in ("street", "community")]
    (tmp_path / "in.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": kept}))
    run("import", "areas", str(tmp_path / "in.geojson"))
    assert areas() == len(kept)
    run("db", "reset", "--yes")
    assert areas() == 0
