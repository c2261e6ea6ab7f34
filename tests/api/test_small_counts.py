"""No aggregate a non-staff caller can read carries a special-group count from 1 to GEOGRID_SUPPRESS_BELOW - 1:
every GET operation of /openapi.json is called, for the grids and communities where such small counts exist,
by anonymous callers, viewers, API clients and planners, and every JSON answer and page is searched."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.maps import LAYERS
from geogrid.model import SPECIAL_GROUPS
from tests.api.test_authorization import _operations

NON_STAFF = (None, "viewer", "api_client", "planner")
# A count of a special group (or of its covered part) written as JSON, in an answer or inside a page's script.
GROUP_KEYS = "|".join(f"{g}(?:_covered)?" for g in SPECIAL_GROUPS)
COUNT = re.compile(rf'"({GROUP_KEYS})"\s*:\s*(\d+)\b')


def _small(body: str, below: int = 5) -> list[tuple[str, int]]:
    return [(k, int(n)) for k, n in COUNT.findall(body) if 0 < int(n) < below]


def _urls(path: str, grid: str, community: str) -> list[str]:
    """Concrete URLs for a route path, aimed at a grid and a community with small special-group counts."""
    if "{layer}" in path and path.startswith("/maps/layers"):
        return [f"/maps/layers/{layer}.geojson?community={community}" for layer in LAYERS]
    if path.startswith("/tiles"):
        return []  # tiles carry households and coverage only (maps/tiles.py): no group counts to look for
    values = {"code": grid, "community": community, "plan_id": "1", "staff_id": "1", "org_id": "1"}
    url = re.sub(r"\{(\w+)(:path)?\}", lambda m: values.get(m.group(1), "x"), path)
    return [url, f"{url}?community={community}", f"{url}?grid={grid}&mode=circle"]


def test_no_small_special_group_count_reaches_a_non_staff_caller(demo_city, client_as):
    admin = client_as("admin")
    staff_view = admin.get("/coverage", params={"mode": "circle"}).json()
    small = [g for g in staff_view["grids"] if any(isinstance(g[k], int) and 0 < g[k] < 5 for k in SPECIAL_GROUPS)]
    assert small, "the demo city has grids with 1-4 people of a special group"
    grid, community = small[0]["code"], small[0]["community_code"]
    assert _small(json.dumps(staff_view)), "staff see the small counts: the search below can find them"

    spec = admin.get("/openapi.json").json()
    gets = [path for method, path in _operations(spec) if method == "GET"]
    callers = {None: TestClient(create_app(), raise_server_exceptions=False)}
    callers |= {role: client_as(role, community, raise_server_exceptions=False) for role in NON_STAFF if role}
    leaks, answered = [], 0
    for path in gets:
        for url in _urls(path, grid, community):
            for role, client in callers.items():
                r = client.get(url)
                if r.status_code != 200 or not r.headers.get("content-type", "").startswith(("application", "text")):
                    continue
                answered += 1
                found = _small(r.text)
                if found:
                    leaks.append((role, url, found[:3]))
    assert leaks == []
    print(f"\nsmall counts: {len(gets)} GET operations, {answered} answers to non-staff callers searched, no leak")
    assert answered > 100
