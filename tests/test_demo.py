"""The demo city on real PostGIS: determinism, exact tiling, household bands, codes and its edge cases."""

from __future__ import annotations

from sqlalchemy import text


def test_demo_city_fixture_loads_the_default_street(demo_city, database):
    assert demo_city.communities >= 5 and demo_city.basic_grids >= 30
    with database.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM grids")) == demo_city.grids
