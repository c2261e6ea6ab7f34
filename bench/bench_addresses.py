"""Real addresses to the right grid, honestly: the three Haidian OpenStreetMap extracts.

For each extract (``../shared/data/beijing-haidian-osm``): import it (buildings, every address, place,
entrance and named road), make grids, build the gazetteer, then look up

- every named element by its name (buildings, places, entrances), as it is;
- every element with a door number by its address, as it is and with the element hidden from the gazetteer
  (so the answer must come from its neighbours on the road: interpolated, road or area);
- a hand-made set of door-number variants of real addresses (甲乙丙丁, ranges, sub-numbers, unit/room
  suffixes, prefixes, Chinese and full-width numerals, traditional characters, pinyin).

Each answer is ``right`` (one grid, the one holding the element), ``honest`` (``ambiguous`` with the right grid
among the candidates), ``confidently_wrong`` (one grid, not that one: the goal is 0), ``wrong_candidates`` or
``not_found``; counted per match level. Grids: the extracts have none, so the Beijing sub-district polygons
(``beijing-subdistricts/haidian-all.geojson``) are imported as street offices and tiled into squares of
``GRID_M`` metres (PostGIS ``ST_SquareGrid`` in Web Mercator, scaled to metres on the ground), each clipped
to its street office: a harder case than real grids, which follow roads.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench"))
os.environ.setdefault("GEOGRID_DB_PORT", "54359")
os.environ["GEOGRID_DB_NAME"] = "geogrid_bench_addresses"

DATA = ROOT.parent / "shared" / "data"
EXTRACTS = ("cau-east-xueyuanlu", "bupt-beitaipingzhuang", "tsinghua-pku-2017")
GRID_M = 300  # side of a square grid on the ground
MARGIN_DEG = 0.005  # grids are made this far around the extract's bounding box

# (extract, query, source id of the element whose grid is right). Variants of real addresses as people write them.
VARIANTS = [
    ("cau-east-xueyuanlu", "学院路丁11号", "way/"),
    ("cau-east-xueyuanlu", "北京市海淀区学院路丁11号", "way/"),
    ("cau-east-xueyuanlu", "学院路丁十一号", "way/"),
    ("cau-east-xueyuanlu", "學院路丁１１號", "way/"),
    ("cau-east-xueyuanlu", "学院路丁11号3号楼2单元301室", "way/"),
    ("cau-east-xueyuanlu", "海淀区学院路丁11号院", "way/"),
    ("cau-east-xueyuanlu", "志新西路3-1号", "node/"),
    ("cau-east-xueyuanlu", "志新西路3之1号", "node/"),
    ("cau-east-xueyuanlu", "北京志新西路3－1号", "node/"),
    ("cau-east-xueyuanlu", "双泉堡甲2号", "way/"),
    ("cau-east-xueyuanlu", "双泉堡甲二号", "way/"),
    ("cau-east-xueyuanlu", "小月河东畔路16号院", "way/"),
    ("cau-east-xueyuanlu", "小月河东畔路16号院2号楼", "way/"),
    ("cau-east-xueyuanlu", "学院路18号", "way/"),
    ("cau-east-xueyuanlu", "学院路十八号", "way/"),
    ("tsinghua-pku-2017", "成府路43号", "node/"),
    ("tsinghua-pku-2017", "成府路四十三号", "node/"),
    ("tsinghua-pku-2017", "北京市海淀区成府路43号", "node/"),
    ("tsinghua-pku-2017", "成府路43-45号", "node/"),
    ("tsinghua-pku-2017", "成府路57号1层", "node/"),
    ("tsinghua-pku-2017", "成府路101号", "node/"),
    ("tsinghua-pku-2017", "成府路一百零一号", "node/"),
    ("tsinghua-pku-2017", "中关村东路8号", "node/"),
    ("tsinghua-pku-2017", "Chengfu Road 43", "node/"),
    ("tsinghua-pku-2017", "Chéngfǔ Lù 43号", "node/"),
    ("bupt-beitaipingzhuang", "新街口外大街19号", "way/"),
    ("bupt-beitaipingzhuang", "北京市新街口外大街十九号", "way/"),
]
# The element each variant is about, by its address text as OSM writes it.
VARIANT_TARGETS = {
    "学院路丁11": "学院路丁11",
    "志新西路3": "北京市海淀区志新西路3-1号",
    "双泉堡": "双泉堡甲2号",
    "小月河东畔路16": "小月河东畔路16号院",
    "学院路18": "学院路18号",
    "学院路十八": "学院路18号",
    "学院路丁十一": "学院路丁11",
    "學院路": "学院路丁11",
    "北京市海淀区学院路丁": "学院路丁11",
    "海淀区学院路丁": "学院路丁11",
    "北京志新西路": "北京市海淀区志新西路3-1号",
    "Ch": "成府路43",
}


def _prepare(conn, extract: str) -> dict:
    """Empty the database, import the street offices, tile them into grids, import the extract."""
    import pyrosm
    from sqlalchemy import text

    from geogrid import db
    from geogrid.gazetteer import build_gazetteer
    from geogrid.importers import import_areas, read_source
    from geogrid.importers.osm import import_osm

    db.truncate_all(conn)
    import_areas(
        conn,
        read_source(DATA / "beijing-subdistricts" / "haidian-all.geojson"),
        code_field="code",
        name_field="Name",
        level="street",
    )
    pbf = DATA / "beijing-haidian-osm" / f"{extract}.osm.pbf"
    bounds = pyrosm.OSM(str(pbf)).get_network("all")
    x0, y0, x1, y1 = bounds.total_bounds
    side = GRID_M / math.cos(math.radians((y0 + y1) / 2))  # Web Mercator metres per ground metre
    conn.execute(
        text("""
        INSERT INTO grids (code, name, kind, geom)
        SELECT left(a.code, 9) || '000' || lpad(row_number() OVER (PARTITION BY a.code
                   ORDER BY -ST_Y(ST_Centroid(c.g)), ST_X(ST_Centroid(c.g)))::text, 3, '0'),
               a.name || ' ' || row_number() OVER (PARTITION BY a.code
                   ORDER BY -ST_Y(ST_Centroid(c.g)), ST_X(ST_Centroid(c.g))), 'basic', ST_Multi(c.g)
          FROM admin_areas a
         CROSS JOIN LATERAL ST_SquareGrid(:side, ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326), 3857)) s
         CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Intersection(a.geom, ST_Transform(s.geom, 4326)), 3)
                             AS g) c
         WHERE ST_Intersects(a.geom, ST_Transform(s.geom, 4326)) AND NOT ST_IsEmpty(c.g)
           AND ST_Area(c.g::geography) > 100
    """),
        {"side": side, "x0": x0 - MARGIN_DEG, "y0": y0 - MARGIN_DEG, "x1": x1 + MARGIN_DEG, "y1": y1 + MARGIN_DEG},
    )
    reports = import_osm(conn, pbf, network=False)
    names = build_gazetteer(conn)
    counts = (
        conn.execute(
            text(
                "SELECT (SELECT count(*) FROM grids) AS grids, (SELECT count(*) FROM buildings) "
                "AS buildings, (SELECT count(*) FROM address_points) AS addresses, "
                "(SELECT count(*) FROM roads) AS roads"
            )
        )
        .one()
        ._mapping
    )
    return {**counts, "gazetteer_names": names, "imported": [str(r) for r in reports]}


ELEMENTS_SQL = """
SELECT 'ap:' || p.id AS key, p.source_id, p.kind, p.name, CASE WHEN p.kind = 'door' THEN p.text END AS address,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.id AS ap_id, p.building_id
  FROM address_points p
UNION ALL
SELECT 'b:' || b.id, b.source_id, 'building', b.name, NULL, ST_X(b.geom), ST_Y(b.geom), NULL, b.id
  FROM buildings b
 WHERE b.name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM address_points p WHERE p.source_id = b.source_id)
"""

HIDE_SQL = """
DELETE FROM gazetteer g
 WHERE (g.kind IN ('door', 'place', 'entrance', 'address_book') AND g.ref_id = :ap)
    OR (g.kind = 'building' AND g.ref_id = :b)
"""


def _outcome(conn, query: str, truth: str | None) -> tuple[str, str]:
    from geogrid.errors import GeogridError, NotFound
    from geogrid.lookup import lookup_address

    try:
        got = lookup_address(conn, query)
    except NotFound:
        return "not_found", "none"
    except GeogridError:
        return "not_found", "error"
    level = got["match"]["level"]
    if not got["ambiguous"]:
        return ("right" if got["grid"]["code"] == truth else "confidently_wrong"), level
    codes = {c["grid"]["code"] for c in got["candidates"]}
    return ("honest" if truth in codes else "wrong_candidates"), level


def _tally(outcomes: list[tuple[str, str]], wrong: list) -> dict:
    total = Counter(o for o, _ in outcomes)
    levels: dict[str, Counter] = defaultdict(Counter)
    for outcome, level in outcomes:
        levels[level][outcome] += 1
    n = len(outcomes)
    return {
        "queries": n,
        **dict(total),
        "right_or_honest_share": round((total["right"] + total["honest"]) / n, 3) if n else None,
        "right_share": round(total["right"] / n, 3) if n else None,
        "per_level": {k: dict(v) for k, v in sorted(levels.items())},
        "confidently_wrong_examples": wrong[:10],
    }


def _evaluate(conn) -> dict:
    from sqlalchemy import text

    from geogrid.lookup import grids_at

    rows = conn.execute(text(ELEMENTS_SQL)).all()
    truths = [g["code"] if g else None for g in grids_at(conn, [r.lon for r in rows], [r.lat for r in rows])]
    names, visible, hidden = [], [], []
    wrong: dict[str, list] = defaultdict(list)
    seen_names: set[tuple[str, str]] = set()
    outside = 0
    for row, truth in zip(rows, truths, strict=True):
        if truth is None:
            outside += 1
            continue
        if row.name and (row.key, row.name) not in seen_names:
            seen_names.add((row.key, row.name))
            names.append(_outcome(conn, row.name, truth))
            if names[-1][0] == "confidently_wrong":
                wrong["names"].append([row.name, row.source_id])
        if row.address:
            visible.append(_outcome(conn, row.address, truth))
            if visible[-1][0] == "confidently_wrong":
                wrong["addresses"].append([row.address, row.source_id])
            with conn.begin_nested() as savepoint:
                conn.execute(text(HIDE_SQL), {"ap": row.ap_id, "b": row.building_id or -1})
                hidden.append(_outcome(conn, row.address, truth))
                savepoint.rollback()
            if hidden[-1][0] == "confidently_wrong":
                wrong["hidden"].append([row.address, row.source_id])
    return {
        "elements_outside_the_grids": outside,
        "names": _tally(names, wrong["names"]),
        "addresses": _tally(visible, wrong["addresses"]),
        "addresses_hidden": _tally(hidden, wrong["hidden"]),
    }


def _variants(conn, extract: str) -> dict:
    from sqlalchemy import text

    from geogrid.lookup import grids_at

    outcomes, wrong, details = [], [], []
    for source, query, _ in VARIANTS:
        if source != extract:
            continue
        target = _target(query)
        point = conn.execute(
            text("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM address_points WHERE text = :t LIMIT 1"), {"t": target}
        ).first()
        if point is None:
            details.append({"query": query, "outcome": "target missing", "target": target})
            continue
        truth = (grids_at(conn, [point.x], [point.y])[0] or {}).get("code")
        if truth is None:
            details.append({"query": query, "outcome": "outside every grid", "target": target})
            continue
        outcome = _outcome(conn, query, truth)
        outcomes.append(outcome)
        details.append({"query": query, "outcome": outcome[0], "level": outcome[1]})
        if outcome[0] == "confidently_wrong":
            wrong.append(query)
    return {**_tally(outcomes, wrong), "each": details}


def _target(query: str) -> str:
    """The OSM address text a variant is about (the longest known prefix wins)."""
    for prefix in sorted(VARIANT_TARGETS, key=len, reverse=True):
        if query.startswith(prefix):
            return VARIANT_TARGETS[prefix]
    from geogrid.address import normalise, parse_door

    door = parse_door(normalise(query))
    return f"{door.road}{door.number}" if door else query


def run(quick: bool = False) -> dict:
    from bench.common import goal
    from geogrid import db

    engine = db.ready()
    out: dict = {
        "grid_side_m": GRID_M,
        "grids_from": "beijing-subdistricts/haidian-all.geojson tiled by ST_SquareGrid, clipped to each street office",
        "extracts": {},
    }
    for extract in EXTRACTS[:1] if quick else EXTRACTS:
        start = time.perf_counter()
        with engine.begin() as conn:
            prepared = _prepare(conn, extract)
        with engine.begin() as conn:
            result = {"prepared": prepared, **_evaluate(conn), "variants": _variants(conn, extract)}
            conn.rollback()
        result["seconds"] = round(time.perf_counter() - start, 1)
        out["extracts"][extract] = result
        print(
            extract,
            {
                k: v.get("right_or_honest_share") if isinstance(v, dict) else v
                for k, v in result.items()
                if k in ("names", "addresses", "addresses_hidden", "variants")
            },
        )
    out["total"] = total = _totals(out["extracts"])
    found = total["names"]["queries"] + total["addresses"]["queries"]
    good = sum(total[p].get("right", 0) + total[p].get("honest", 0) for p in ("names", "addresses"))
    out["goals"] = [
        goal("named or addressed elements to the right grid or an honest candidate list", good / found, 0.95, unit=""),
        goal(
            "confidently wrong, elements as mapped",
            sum(total[p].get("confidently_wrong", 0) for p in ("names", "addresses", "variants")),
            0,
            at_least=False,
            unit="",
        ),
        goal(
            "confidently wrong, each address hidden in turn",
            total["addresses_hidden"].get("confidently_wrong", 0),
            0,
            at_least=False,
            unit="",
        ),
        goal("door-number variants right or honest", total["variants"]["right_or_honest_share"], 1.0, unit=""),
    ]
    return out


def _totals(extracts: dict) -> dict:
    total: dict = {}
    for part in ("names", "addresses", "addresses_hidden", "variants"):
        counts: Counter[str] = Counter()
        for result in extracts.values():
            counts.update({k: v for k, v in result[part].items() if isinstance(v, int)})
        n = counts["queries"]
        total[part] = {
            **counts,
            "right_or_honest_share": round((counts["right"] + counts["honest"]) / n, 3) if n else None,
        }
    return total
