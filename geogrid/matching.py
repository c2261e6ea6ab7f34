"""Which grid a free-text address is in, and how sure we are: match levels and honest candidates.

The callers are hotline and service systems routing a resident's request to a grid worker, so a wrong grid is
worse than "not sure". Steps, most specific first, each saying what matched (``level``):

1. the whole normal form is a known name: ``address_book``, ``building``, ``door``, ``entrance``, ``compound``,
   ``place``, ``road`` or ``area`` (the most specific level present wins);
2. a door number on a known road: the exact door (``door``), else between the nearest known numbers on the
   same side of the same road (``interpolated``), else the road (``road``);
3. a known name that ends the query (长湖街道巴蜀花园13号楼 → 巴蜀花园13栋), or one inside it;
4. trigram similarity.

An answer is confident (``ambiguous: false``) only when what matched lies in one grid: a point (a building,
a door), an outline or a road wholly inside one grid, or an interpolation whose stretch of road between the
two known doors lies in one grid. Otherwise the answer lists the grids as ``candidates`` with their
``share`` (of the road's length, the place's area, or the hits), most likely first. A fuzzy match is
never confident.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, text

from geogrid.address import Door, normalise, parse_door
from geogrid.i18n import t

LEVELS = ("address_book", "building", "door", "interpolated", "entrance", "compound", "place", "road", "area")
POINT_KINDS = ("address_book", "building", "door", "entrance")
ALL_GRIDS = 0.99  # a share at least this large counts as the whole of it
MIN_INSIDE = 4  # characters a name needs to be trusted when found inside a longer query
ROAD_SIDE_M = 100  # how far from a road's line an address on that road may lie


@dataclass(frozen=True)
class GridShare:
    """A grid that what matched lies in, with the share of it there and a point inside that share."""

    code: str
    name: str
    kind: str
    share: float
    lon: float
    lat: float
    address: str


@dataclass
class Resolution:
    """What an address resolved to: the level, the text matched, the grids, and why."""

    level: str
    kind: str
    address: str
    score: float
    grids: list[GridShare]
    confident: bool
    explain: list = field(default_factory=list)  # str or i18n Text lines

    @property
    def best(self) -> GridShare:
        return self.grids[0]


# The grids an extent (a point, a line or a polygon) lies in, with the share of it in each: by length for a
# line, by area for a polygon, whole for a point; a point inside each share for the grid's answer.
_SHARES_SQL = """
WITH e AS (SELECT ST_UnaryUnion(ST_Collect(x.g)) AS g FROM ({extent}) AS x(g))
SELECT gr.code, gr.name, gr.kind,
       CASE ST_Dimension(e.g)
            WHEN 2 THEN ST_Area(ST_Intersection(gr.geom, e.g)::geography) / NULLIF(ST_Area(e.g::geography), 0)
            WHEN 1 THEN ST_Length(ST_Intersection(gr.geom, e.g)::geography) / NULLIF(ST_Length(e.g::geography), 0)
            ELSE 1 END AS share,
       ST_X(p.p) AS lon, ST_Y(p.p) AS lat
  FROM e JOIN grids gr ON gr.valid_to IS NULL AND ST_Intersects(gr.geom, e.g)
 CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(gr.geom, e.g)) AS p) p
 ORDER BY share DESC NULLS LAST, gr.code
"""

# The extent each gazetteer kind stands for.
_EXTENTS = {
    "area": "SELECT geom FROM admin_areas WHERE id = :ref",
    "compound": "SELECT COALESCE(c.geom, (SELECT geom FROM gazetteer WHERE kind = 'compound' AND ref_id = :ref "
    "LIMIT 1)) FROM compounds c WHERE c.id = :ref",
    "place": "SELECT COALESCE(outline, geom) FROM address_points WHERE id = :ref",
    # An address on a road lies beside it: the grids within ROAD_SIDE_M of its line, by area.
    "road": "SELECT ST_Buffer(r.geom::geography, {side})::geometry FROM roads r "
    "WHERE r.norm = (SELECT norm FROM roads WHERE id = :ref)",
}
_POINT_EXTENT = "SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"


def grid_shares(conn: Connection, kind: str, ref_id: int, lon: float, lat: float, address: str) -> list[GridShare]:
    """The grids a gazetteer entry's extent lies in, most of it first."""
    extent = _EXTENTS.get(kind, _POINT_EXTENT).replace("{side}", str(ROAD_SIDE_M))
    rows = conn.execute(text(_SHARES_SQL.format(extent=extent)), {"ref": ref_id, "lon": lon, "lat": lat}).all()
    return [GridShare(r.code, r.name, r.kind, round(float(r.share or 0), 3), r.lon, r.lat, address) for r in rows]


def _merge(shares: list[list[GridShare]]) -> list[GridShare]:
    """Several hits as one list of grids: each hit weighs the same, a grid's share summed over hits."""
    total: dict[str, GridShare] = {}
    weight = 1 / max(len(shares), 1)
    for hit in shares:
        for g in hit:
            prev = total.get(g.code)
            share = (prev.share if prev else 0) + g.share * weight
            total[g.code] = replace(prev or g, share=round(share, 3))
    return sorted(total.values(), key=lambda g: (-g.share, g.code))


def _one_grid(grids: list[GridShare]) -> bool:
    return len(grids) == 1 and grids[0].share >= ALL_GRIDS


EXACT_SQL = text("""
SELECT kind, ref_id, text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM gazetteer
 WHERE norm = :q AND geom IS NOT NULL ORDER BY kind, ref_id LIMIT 50
""")


def _exact(conn: Connection, q: str) -> Resolution | None:
    rows = conn.execute(EXACT_SQL, {"q": q}).all()
    if not rows:
        return None
    level = min((r.kind for r in rows), key=_rank)
    hits = [r for r in rows if r.kind == level]
    grids = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in hits])
    why: list[str] = [
        t("the whole address is a known {level} name ({count} with this name)", level=level, count=len(hits))
    ]
    others = [r for r in rows if r.kind != level]
    if others:  # the same name elsewhere (a bus stop 六道口 beside a building 六道口): listed after, never ignored
        more = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in others])
        grids += [replace(g, share=0.0) for g in more if g.code not in {h.code for h in grids}]
        why.append(t("{count} other places have this name too", count=len(others)))
    door = parse_door(q) if level in POINT_KINDS else None
    if door is not None:
        grids = _with_elsewhere(conn, door, rows, grids, why)
    return Resolution(level, level, hits[0].text, 1.0, grids, _one_grid(grids), why)


def _rank(kind: str) -> int:
    return LEVELS.index(kind) if kind in LEVELS else len(LEVELS)


DOORS_SQL = text("""
SELECT kind, ref_id, text, number, door_prefix, door_sub, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM gazetteer
 WHERE road = :road AND number IS NOT NULL AND geom IS NOT NULL AND kind = ANY(:kinds)
 ORDER BY number, kind, ref_id
""")

# The stretch of the road between two known doors (the straight segment when the road has no line), and
# whether one grid holds all of it.
STRETCH_SQL = text("""
WITH a AS (SELECT ST_SetSRID(ST_MakePoint(:x1, :y1), 4326) AS p),
     b AS (SELECT ST_SetSRID(ST_MakePoint(:x2, :y2), 4326) AS p),
     r AS (SELECT ST_LineMerge(ST_UnaryUnion(ST_Collect(geom))) AS g FROM roads WHERE norm = :road),
     s AS (SELECT CASE WHEN r.g IS NOT NULL AND ST_GeometryType(r.g) = 'ST_LineString'
                            AND ST_DWithin(r.g::geography, a.p::geography, 150)
                            AND ST_DWithin(r.g::geography, b.p::geography, 150)
                       THEN ST_MakeLine(ARRAY[a.p, ST_LineSubstring(r.g, least(ST_LineLocatePoint(r.g, a.p),
                                 ST_LineLocatePoint(r.g, b.p)), greatest(ST_LineLocatePoint(r.g, a.p),
                                 ST_LineLocatePoint(r.g, b.p))), b.p])
                       ELSE ST_MakeLine(a.p, b.p) END AS g
             FROM a, b LEFT JOIN r ON true)
SELECT gr.code FROM s JOIN grids gr ON gr.valid_to IS NULL AND ST_Covers(gr.geom, s.g) LIMIT 1
""")


def _door(conn: Connection, door: Door, query: str) -> Resolution | None:
    """A door number on a known road: exact, interpolated between the nearest numbers on its side, or the road."""
    rows = conn.execute(DOORS_SQL, {"road": door.road, "kinds": list(POINT_KINDS)}).all()
    road_hits = conn.execute(
        text(
            "SELECT ref_id, text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM gazetteer "
            "WHERE kind = 'road' AND norm = :road LIMIT 1"
        ),
        {"road": door.road},
    ).first()
    if not rows and road_hits is None:
        return None
    same = [
        r for r in rows if r.number in door.numbers and (r.door_prefix or "") == door.prefix and r.door_sub == door.sub
    ]
    if same:
        level = min((r.kind for r in same), key=_rank)
        hits = [r for r in same if r.kind == level]
        grids = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in hits])
        more = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in same if r.kind != level])
        grids += [replace(g, share=0.0) for g in more if g.code not in {h.code for h in grids}]
        why = [
            t("door {number} on {road} is known ({count} entries)", number=door.number, road=door.road, count=len(hits))
        ]
        grids = _with_elsewhere(conn, door, same, grids, why)
        return Resolution(
            "door" if level == "building" else level, level, hits[0].text, 1.0, grids, _one_grid(grids), why
        )
    return _interpolated(conn, door, rows) or _road(conn, door, rows, road_hits)


ELSEWHERE_SQL = text("""
SELECT id, text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_points
 WHERE road_norm = :road AND number = ANY(:numbers) AND coalesce(door_prefix, '') = :prefix
   AND door_sub IS NOT DISTINCT FROM :sub AND NOT id = ANY(:points)
   AND (building_id IS NULL OR NOT building_id = ANY(:buildings))
 ORDER BY id LIMIT 20
""")


def _with_elsewhere(conn: Connection, door: Door, hits, grids: list[GridShare], why: list) -> list[GridShare]:
    """``grids`` and, after them (share 0), the grids of the same door held elsewhere in the address data:
    a duplicate is never one grid."""
    elsewhere = _same_door_elsewhere(conn, door, hits)
    if not elsewhere:
        return grids
    more = _merge([grid_shares(conn, "door", r.id, r.lon, r.lat, r.text) for r in elsewhere])
    why.append(t("{count} other places in the address data carry this door number too", count=len(elsewhere)))
    return grids + [replace(g, share=0.0) for g in more if g.code not in {h.code for h in grids}]


def _same_door_elsewhere(conn: Connection, door: Door, hits) -> list:
    """Places of the address data (address book, OSM) at this door that the gazetteer did not give: the
    gazetteer is rebuilt by ``geogrid compute``, the address data changes with every import, and a door held
    at two places (a bank's POI and an office block both tagged 中关村东路8号) must answer both."""
    points = [r.ref_id for r in hits if r.kind != "building"]
    buildings = [r.ref_id for r in hits if r.kind == "building"]
    return conn.execute(  # type: ignore[return-value]  # rows, read by attribute
        ELSEWHERE_SQL,
        {
            "road": door.road,
            "numbers": list(door.numbers),
            "prefix": door.prefix or "",
            "sub": door.sub,
            "points": points,
            "buildings": buildings,
        },
    ).all()


def _interpolated(conn: Connection, door: Door, rows) -> Resolution | None:
    """Between the nearest known numbers on the same side (odd or even) of the same road: confident only when
    the stretch of road between them lies in one grid. A number known only with another sub-number (丁11号
    beside 11号) is a neighbour on both sides, never confident."""
    side = [r for r in rows if r.number % 2 == door.number % 2]
    lower = max((r for r in side if r.number <= door.number), key=lambda r: r.number, default=None)
    upper = min((r for r in side if r.number >= door.number), key=lambda r: r.number, default=None)
    if lower is None or upper is None:
        return None
    same_number = lower.number == door.number or upper.number == door.number
    code = conn.scalar(
        STRETCH_SQL, {"x1": lower.lon, "y1": lower.lat, "x2": upper.lon, "y2": upper.lat, "road": door.road}
    )
    ends = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in (lower, upper)])
    why: str = t(
        "between {lower} and {upper} on the same side of {road}", lower=lower.text, upper=upper.text, road=door.road
    )
    if code is None or same_number:
        why += t("; the stretch between them crosses grids or the number is known only with another sub-number")
    grids = ends if code is None else [g for g in ends if g.code == code] or ends
    confident = code is not None and not same_number and _one_grid(grids)
    return Resolution("interpolated", "door", f"{lower.text} … {upper.text}", 0.9, grids, confident, [why])


def _road(conn: Connection, door: Door, rows, road_hit) -> Resolution:
    """The road: the grids its line crosses by length; without a line, the grids of its known doors."""
    if road_hit is not None:
        grids = grid_shares(conn, "road", road_hit.ref_id, road_hit.lon, road_hit.lat, road_hit.text)
        why = t("door {number} is not known on {road}: the grids the road crosses", number=door.number, road=door.road)
        address = road_hit.text
    else:
        near = sorted(rows, key=lambda r: (abs(r.number - door.number), r.number))[:8]
        grids = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in near])
        grids = [replace(g, address=next((r.text for r in near if _in(conn, r, g.code)), g.address)) for g in grids]
        why = t(
            "door {number} is not known on {road}: the grids of its nearest known doors",
            number=door.number,
            road=door.road,
        )
        address = door.road
    return Resolution("road", "road", address, 0.8, grids, _one_grid(grids) and road_hit is not None, [why])


def _in(conn: Connection, row, code: str) -> bool:
    return bool(
        conn.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM grids WHERE code = :c AND valid_to IS NULL AND "
                "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)))"
            ),
            {"c": code, "x": row.lon, "y": row.lat},
        )
    )


INSIDE_SQL = text("""
SELECT kind, ref_id, text, norm, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM gazetteer
 WHERE norm <% :q AND strpos(:q, norm) > 0 AND length(norm) >= :min AND geom IS NOT NULL
 ORDER BY (right(:q, length(norm)) = norm) DESC, length(norm) DESC, kind, ref_id LIMIT 20
""")


def _inside(conn: Connection, q: str) -> Resolution | None:
    """A known name inside the query: ending it (what comes before is a town or community, 长湖街道巴蜀花园13栋),
    as that name; elsewhere (清华园 in 清华园1号), the grids of that name's extent, never confident."""
    rows = conn.execute(INSIDE_SQL, {"q": q, "min": MIN_INSIDE}).all()
    if not rows:
        return None
    top = rows[0]
    ends = q.endswith(top.norm)
    hits = [r for r in rows if r.norm == top.norm and (r.kind == top.kind or not ends)]
    level = min((r.kind for r in hits), key=_rank)
    hits = [r for r in hits if r.kind == level]
    grids = _merge([grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in hits])
    score = round(len(top.norm) / len(q), 3)
    if ends:
        why = t("the address ends with the known {level} name {name}", level=level, name=top.text)
        return Resolution(level, level, top.text, max(score, 0.9), grids, _one_grid(grids), [why])
    why = t("only {name} ({level}) is known in the address; the rest is not", name=top.text, level=level)
    return Resolution(level, level, top.text, score, grids, False, [why])


FUZZY_SQL = text("""
SELECT kind, ref_id, text, similarity(norm, :q) AS score, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM gazetteer
 WHERE norm % :q AND geom IS NOT NULL ORDER BY score DESC, length(norm) DESC, kind, ref_id LIMIT 5
""")


def _fuzzy(conn: Connection, q: str) -> Resolution | None:
    rows = conn.execute(FUZZY_SQL, {"q": q}).all()
    if not rows:
        return None
    per_hit = [grid_shares(conn, r.kind, r.ref_id, r.lon, r.lat, r.text) for r in rows]
    grids = _merge(per_hit)
    why = t(
        "no name matches exactly; the most similar names (trigram similarity {score:.2f})", score=float(rows[0].score)
    )
    return Resolution(rows[0].kind, rows[0].kind, rows[0].text, round(float(rows[0].score), 3), grids, False, [why])


def resolve(conn: Connection, query: str) -> Resolution | None:
    """The best answer for a free-text address (None when nothing is similar enough)."""
    q = normalise(query)
    if not q:
        return None
    steps = [lambda: _exact(conn, q)]
    door = parse_door(q)
    if door is not None:
        steps.append(lambda: _door(conn, door, query))
    steps += [lambda: _inside(conn, q), lambda: _fuzzy(conn, q)]
    for step in steps:
        found = step()
        if found is not None:  # with no grids when what matched lies outside every grid
            found.explain.insert(0, t("normal form: {norm}", norm=q))
            return found
    return None
