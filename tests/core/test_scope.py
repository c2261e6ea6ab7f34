"""One scope, one answer: a place named by code or name means the same grids and figures in the CLI, the
API and the map; an unknown place is a clear 404 or one CLI line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.errors import NotFound
from geogrid.scope import resolve_scope
from maps import data


def _street(conn) -> dict:
    """A street of the demo with more than one community (so a street scope is not a community scope)."""
    return dict(
        conn.execute(
            text(
                "SELECT s.id, s.code, s.name FROM admin_areas s JOIN admin_areas c ON c.parent_id = s.id "
                "WHERE s.level = 'street' GROUP BY s.id HAVING count(*) > 1 ORDER BY s.code LIMIT 1"
            )
        )
        .mappings()
        .one()
    )


def _grids_under(conn, street_id: int) -> set[int]:
    return set(
        conn.scalars(
            text(
                "SELECT g.id FROM grids g JOIN admin_areas c ON c.id = g.community_id "
                "WHERE c.parent_id = :s AND g.valid_to IS NULL"
            ),
            {"s": street_id},
        )
    )


def test_a_place_by_code_or_name_resolves_to_its_grids(demo_conn):
    street = _street(demo_conn)
    by_code, by_name = resolve_scope(demo_conn, street["code"]), resolve_scope(demo_conn, street["name"])
    assert set(by_code.grid_ids) == set(by_name.grid_ids) == _grids_under(demo_conn, street["id"])
    assert by_code.level == "street" and len(by_code.community_ids) > 1
    grid = demo_conn.execute(
        text("SELECT id, code, community_id FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT 1")
    ).one()
    one = resolve_scope(demo_conn, grid.code)
    assert (one.level, one.grid_ids, one.community_ids) == ("grid", (grid.id,), (grid.community_id,))
    city = resolve_scope(demo_conn, None)
    assert city.is_city and city.grid_ids is None


def test_an_unknown_place_is_a_404_and_one_cli_line(demo_city, database, client_as):
    with database.connect() as conn, pytest.raises(NotFound, match="Atlantis"):
        resolve_scope(conn, "Atlantis")
    with client_as("admin", raise_server_exceptions=False) as client:
        for url in (
            "/grids?community=Atlantis",
            "/coverage?community=Atlantis&mode=auto",
            "/maps/coverage?community=Atlantis",
            "/validation?community=Atlantis",
        ):
            got = client.get(url)
            assert got.status_code == 404, (url, got.status_code, got.text[:200])
            assert "Atlantis" in got.text
    result = CliRunner().invoke(application(), ["stats", "--community", "Atlantis"])
    assert isinstance(result.exception, NotFound) and "Atlantis" in str(result.exception)  # main() prints one line


def test_cli_api_and_map_agree_on_a_street(demo_city, database, client_as):
    with database.connect() as conn:
        street = _street(conn)
        want = {
            c
            for c in conn.scalars(
                text("SELECT code FROM grids WHERE id = ANY(:i)"), {"i": list(_grids_under(conn, street["id"]))}
            )
        }
        scope = data.check_scope(conn, data.Scope(street["name"], "auto", 5))
        map_rows = data.grids(conn, scope).set_index("code")
    cli = CliRunner().invoke(application(), ["stats", "--community", street["name"], "--json"])
    assert cli.exit_code == 0, cli.output
    cli_rows = {r["code"]: r for r in json.loads(cli.output)}
    with client_as("admin", raise_server_exceptions=False) as client:
        api_rows = {
            f["properties"]["code"]: f["properties"]
            for f in client.get("/grids", params={"community": street["code"]}).json()["features"]
        }
        cov = client.get("/coverage", params={"community": street["name"], "mode": "auto"}).json()
    cov_rows = {g["code"]: g for g in cov["grids"]}
    assert set(cli_rows) == set(api_rows) == set(map_rows.index) == set(cov_rows) == want and want
    assert cov["query"]["mode"] == scope.mode
    for code in want:
        for k in ("households", "buildings"):
            assert cli_rows[code][k] == api_rows[code][k] == int(map_rows.at[code, k]), (code, k)
        assert cli_rows[code]["households"] == cov_rows[code]["households"]
        assert int(map_rows.at[code, "covered_households"]) == cov_rows[code]["households_covered"], code
        assert cli_rows[code]["party_members"] == int(map_rows.at[code, "party_members"])
    assert sum(r["households"] for r in cli_rows.values()) > 0
