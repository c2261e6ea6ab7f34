"""Batch lookups locate points in process (STRtree), yet see a grid change at once: in the same
transaction, after it rolls back, and after another connection commits."""

from __future__ import annotations

from sqlalchemy import text

from geogrid.lookup import grids_at
from tests.fixtures.lookup_city import expected_code

POINT = (116.305, 39.905)


def _code(conn) -> str | None:
    got = grids_at(conn, [POINT[0]], [POINT[1]])[0]
    return got and got["code"]


def test_a_grid_change_is_seen_by_the_next_lookup(lookup_city):
    want = expected_code(*POINT)
    assert want is not None
    with lookup_city.connect() as conn:
        assert _code(conn) == want
        conn.rollback()
        with conn.begin():
            conn.execute(text("UPDATE grids SET valid_to = now() WHERE code = :c"), {"c": want})
            assert _code(conn) != want  # the same transaction sees its own change
            conn.rollback()
        assert _code(conn) == want  # and the rollback
    with lookup_city.connect() as writer, lookup_city.connect() as reader:
        assert _code(reader) == want
        reader.commit()
        moved = writer.execute(text("SELECT ST_AsText(geom) FROM grids WHERE code = :c"), {"c": want}).scalar()
        writer.execute(text("UPDATE grids SET geom = ST_Multi(ST_Translate(geom, 1, 0)) WHERE code = :c"), {"c": want})
        writer.commit()
        try:
            assert _code(reader) != want  # another connection's commit, seen at once
        finally:
            writer.execute(
                text("UPDATE grids SET geom = ST_GeomFromText(:g, 4326) WHERE code = :c"), {"g": moved, "c": want}
            )
            writer.commit()
    with lookup_city.connect() as conn:
        assert _code(conn) == want
