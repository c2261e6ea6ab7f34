"""The gazetteer rebuild: which names it writes, which text it keeps, and that it stays searchable."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geogrid.gazetteer import build_gazetteer, search


@pytest.fixture
def names(empty_db):
    with empty_db.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO compounds (id, name, address, geom) VALUES
              (1, '巴蜀花园', '长湖街12号', NULL),
              (2, '苏州街小区', NULL,
               ST_Multi(ST_GeomFromText('POLYGON((116.30 39.97,116.31 39.97,116.31 39.98,116.30 39.98,116.30 39.97))',
                                        4326)));
            INSERT INTO buildings (id, address, name, compound_id, number, geom) VALUES
              (1, '长湖街12号 巴蜀花园3号楼', '巴蜀花园3号楼', 1, '3', ST_SetSRID(ST_MakePoint(116.312, 39.905), 4326)),
              (2, NULL, NULL, 1, '5', ST_SetSRID(ST_MakePoint(116.314, 39.907), 4326)),
              (3, '苏州街8号', '', 2, 'A座', ST_SetSRID(ST_MakePoint(116.305, 39.975), 4326));
        """)
        )
        written = build_gazetteer(conn)
    return empty_db, written


def test_every_source_name_once_per_place(names):
    engine, written = names
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, ref_id, text, norm FROM gazetteer ORDER BY kind, ref_id, norm")).all()
    assert written == len(rows)
    assert [tuple(r) for r in rows] == [
        ("building", 1, "巴蜀花园3号楼", "巴蜀花园3栋"),  # the name, and 巴蜀花园 + 3 normalise alike: one row
        ("building", 1, "长湖街12号 巴蜀花园3号楼", "长湖街12号巴蜀花园3栋"),
        ("building", 2, "巴蜀花园5栋", "巴蜀花园5栋"),
        ("building", 3, "苏州街8号", "苏州街8号"),  # 苏州 is no city prefix here
        ("building", 3, "苏州街小区A座", "苏州街小区a座"),
        ("compound", 1, "巴蜀花园", "巴蜀花园"),  # no polygon: placed at its buildings' centroid
        ("compound", 1, "长湖街12号", "长湖街12号"),
        ("compound", 2, "苏州街小区", "苏州街小区"),
    ]


def test_rebuild_replaces_and_keeps_the_trigram_index(names):
    engine, written = names
    with engine.begin() as conn:
        assert build_gazetteer(conn) == written
    with engine.connect() as conn:
        index = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_gazetteer_norm_trgm'"))
        assert "gin" in index and "gin_trgm_ops" in index
        best = search(conn, "北京市海淀区巴蜀花園三號樓2单元301")[0]
        assert (best.kind, best.ref_id, best.score) == ("building", 1, 1.0)
        compound = search(conn, "巴蜀花园")[0]
        assert compound.kind == "compound"
        assert (compound.lon, compound.lat) == (pytest.approx(116.313), pytest.approx(39.906))


def test_rebuild_normalises_only_new_names_while_the_normaliser_is_unchanged(names, monkeypatch):
    """A second build reuses the normal forms it holds; a new building's names, or another normaliser
    (a change to geogrid/address.py or to jionlp/OpenCC), are normalised afresh."""
    import geogrid.gazetteer as gz

    engine, _ = names
    seen: list[str] = []
    real = gz.normalise_many
    monkeypatch.setattr(gz, "normalise_many", lambda texts: (seen.extend(texts), real(texts))[1])
    with engine.begin() as conn:
        before = conn.execute(text("SELECT kind, ref_id, text, norm FROM gazetteer ORDER BY 1, 2, 3")).all()
        build_gazetteer(conn)
        assert conn.execute(text("SELECT kind, ref_id, text, norm FROM gazetteer ORDER BY 1, 2, 3")).all() == before
    assert seen == []  # nothing to normalise again
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO buildings (id, address, geom) VALUES "
                "(4, '北京市海淀区苏州街10號', ST_SetSRID(ST_MakePoint(116.306, 39.975), 4326))"
            )
        )
        build_gazetteer(conn)
        assert conn.scalar(text("SELECT norm FROM gazetteer WHERE kind = 'building' AND ref_id = 4")) == "苏州街10号"
    assert seen == ["北京市海淀区苏州街10號"]
    seen.clear()
    monkeypatch.setattr(gz, "normaliser_stamp", lambda: "normaliser changed")
    with engine.begin() as conn:
        build_gazetteer(conn)
    assert len(seen) == len(set(seen)) > 8  # every distinct name again


def test_empty_database_builds_an_empty_gazetteer(empty_db):
    with empty_db.begin() as conn:
        assert build_gazetteer(conn) == 0
        assert conn.scalar(text("SELECT count(*) FROM gazetteer")) == 0
