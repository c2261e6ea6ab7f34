"""The grid popup shows the special-group ledger as counts only: never a name or a phone, and a count under
``GEOGRID_SUPPRESS_BELOW`` hidden (maps are public), the way /coverage hides it from the public."""

from __future__ import annotations

import json
from collections import Counter

from fastapi.testclient import TestClient

from api.app import create_app
from maps import data, pages
from tests.fixtures.rosters_street import COMMUNITY, PEOPLE


def _special(layer: str) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"]["special"] for f in json.loads(layer)["features"]}


def test_grid_popups_carry_ledger_counts_with_small_ones_hidden(ledger_street, settings_env):
    with TestClient(create_app()) as anonymous:
        answer = anonymous.get("/maps/layers/grids.geojson", params={"community": COMMUNITY, "mode": "circle"})
        assert answer.status_code == 200, answer.text
        page = anonymous.get("/maps/grids/G1?mode=circle").text
    assert not any(name in answer.text or phone in answer.text for _, name, phone, _ in PEOPLE)
    # every count here is 1 or 2: under the default threshold of 5 each one is hidden, the group still named
    assert _special(answer.text) == {
        "G1": {"elderly_alone": None, "disabled": None, "hardship": None},
        "G2": {"disabled": None},
        "G3": {},
    }
    assert "独居老人 elderly alone" in page and '"suppress_below": 5' in page
    settings_env("GEOGRID_SUPPRESS_BELOW", "2")
    expected: dict[str, Counter] = {"G1": Counter(), "G2": Counter(), "G3": Counter()}
    for grid, _, _, groups in PEOPLE:
        expected[grid].update(groups)
    with ledger_street.connect() as conn:
        scope = data.check_scope(conn, data.Scope(COMMUNITY, "circle"))
        shown = _special(pages.layer_json(conn, "grids", scope))
    assert shown == {grid: {g: (n if n >= 2 else None) for g, n in counts.items()} for grid, counts in expected.items()}
