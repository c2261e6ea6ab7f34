"""Proposing grids for a community or a street office, answered as a stored draft plan.

Units (:mod:`geogrid.partition.units`) are grouped (:mod:`geogrid.partition.grow`); each group's union is a
grid polygon, so grids tile the community by construction. The grids become ``create`` edits in reading
order (codes follow it); the plan's preview is the ordinary one (who would be in which grid, households,
compactness, 5-minute coverage, validation), plus a ``partition`` section with what only a partition knows:
why a grid is outside the band or dedicated, the share of its boundary on roads, estimated households.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geogrid.codes import reading_order
from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.partition.area import Community, communities_of, find_area, load_input
from geogrid.partition.grow import partition
from geogrid.partition.report import ProposedGrid, ProposeReport, ProposeSummary, add_report
from geogrid.partition.units import PRECISION_M, AreaInput, Units, build_units
from geogrid.planning.edits import SLIVER_DEG2, polygonal
from geogrid.settings import get_settings

FILL_DEG = 2e-7  # about 2 cm
ROAD_BUFFER_M = 3.0  # a grid edge within this distance of a barrier line follows it


@dataclass
class Proposed:
    """One proposed grid: its units, figures and shape measures (metres), and why it is special, if it is."""

    community: str
    name: str
    kind: str
    households: int
    estimated_households: int
    buildings: int
    units: int
    compounds: list[str]
    polsby_popper: float
    road_share: float | None
    in_band: bool
    reason: str | None
    band_possible: bool  # False when the plan proved the units allow no grid in the band here
    geom: shapely.Geometry  # lon/lat

    def report(self) -> ProposedGrid:
        fields = {k: v for k, v in asdict(self).items() if k != "geom"}
        return ProposedGrid(**fields, households_estimated=self.estimated_households > 0)


def polsby_popper(geom: shapely.Geometry) -> float:
    """4πA/P² of a metric polygon: 1 for a circle, 0.785 for a square."""
    return float(4 * math.pi * geom.area / geom.length**2) if geom.length else 0.0


def road_share(geom: shapely.Geometry, outline: shapely.Geometry, roads: shapely.Geometry) -> float | None:
    """Share of the grid's boundary inside the community (its outline excluded) that lies along a barrier line;
    None for a grid that is the whole community."""
    inner = shapely.difference(shapely.boundary(geom), shapely.buffer(shapely.boundary(outline), 1.0))
    if inner.length < 1.0:
        return None
    return round(float(shapely.intersection(inner, roads).length / inner.length), 3)


class Fixed(NamedTuple):
    """A unit that is a grid of its own: the grid's kind and why (said in the plan's ``partition`` report)."""

    kind: str
    reason: str


def _fixed(units: Units, lo: int, hi: int) -> dict[int, Fixed]:
    """Units that make a grid of their own: above the band, or a dedicated site without homes."""
    out: dict[int, Fixed] = {}
    for u, hh in enumerate(units.households):
        site = units.dedicated[u]
        if site and (hh > hi or hh == 0):
            out[u] = Fixed("dedicated", t("dedicated grid for a {kind} site", kind=site))
        elif hh > hi:
            out[u] = Fixed(
                "basic",
                t(
                    "{unit} alone has {n} households, above the band {lo}–{hi}: its own grid",
                    unit=_unit_name(units, u),
                    n=int(hh),
                    lo=lo,
                    hi=hi,
                ),
            )
    return out


def _group(units: Units, lo: int, hi: int, seed: int) -> tuple[dict[int, Fixed], np.ndarray]:
    fixed = _fixed(units, lo, hi)
    tries = get_settings().partition_tries
    return fixed, partition(units.graph, lo, hi, seed=seed, tries=tries, fixed={u: 0 for u in fixed})


def _out_of_band(units: Units, labels: np.ndarray, fixed: dict[int, Fixed], lo: int, hi: int) -> int:
    """Basic grids (not a unit of its own) outside the band."""
    hh = np.bincount(labels, weights=units.households)
    special = {int(labels[u]) for u in fixed}
    return sum(1 for r in np.unique(labels) if r not in special and not lo <= hh[r] <= hi)


def _blocks_to_cut(units: Units, labels: np.ndarray, fixed: dict[int, Fixed], lo: int, hi: int) -> set[int]:
    """Whole blocks (two buildings or more) in or beside a basic grid outside the band: cut into buildings, they
    let that grid take or give part of a block."""
    hh = np.bincount(labels, weights=units.households)
    special = {int(labels[u]) for u in fixed}
    out_regions = {int(r) for r in np.unique(labels) if r not in special and not lo <= hh[r] <= hi}
    near = {u for u in range(len(labels)) if labels[u] in out_regions}
    near |= {w for u in list(near) for w in units.graph.neighbours[u] if w not in fixed}
    return {int(units.block[u]) for u in near if units.kind[u] == "block" and len(units.buildings[u]) > 1}


def _unit_name(units: Units, u: int) -> str:
    """A unit as a plan names it: its compound, else "block" or "building"."""
    compound = units.compound[u]
    if compound:
        return compound
    return {"block": t("block"), "building": t("building")}.get(units.kind[u], "")


def why_out(units: Units, members: np.ndarray, fixed: set[int], lo: int, hi: int) -> tuple[str, bool]:
    """Why a basic grid is outside the band, and whether the band was possible there (False: proved not). Below it, the plan proves what it can: the whole area is smaller
    than one grid, or one of the grid's units (never split) reaches the minimum with no set of contiguous units
    around it without passing the maximum. Otherwise the search found no better (said as such)."""
    g = units.graph
    hh = int(units.households[members].sum())
    if hh < lo:
        inside = set(members.tolist())
        reach = {w for u in inside for w in g.neighbours[u] if w not in fixed} - inside
        if not reach:
            return t(
                "{n} households, fewer than the band minimum {lo} and nothing around to join: one grid", n=hh, lo=lo
            ), False
        for u in sorted(inside, key=lambda u: units.households[u]):
            if _cannot_reach(units, int(u), fixed, lo, hi):
                return t(
                    "{unit} has {h} households, below the band minimum {lo}, and joined with any neighbouring units "
                    "it passes the maximum {hi}: the units here allow no better",
                    unit=_unit_name(units, int(u)),
                    h=int(units.households[u]),
                    lo=lo,
                    hi=hi,
                ), False
    return t("{n} households, outside the band {lo}–{hi}: the search found no better", n=hh, lo=lo, hi=hi), True


def _cannot_reach(units: Units, u: int, fixed: set[int], lo: int, hi: int, limit: int = 2000) -> bool:
    """Whether no contiguous set of units holding ``u`` has between ``lo`` and ``hi`` households (a bounded
    search over connected sets up to ``hi``). False when nothing is proved: the bound is hit, or the set would
    pass ``hi`` only by taking a whole block that could still be cut into buildings."""
    g = units.graph
    seen: set[frozenset[int]] = set()
    stack = [frozenset([u])]
    while stack:
        part = stack.pop()
        total = float(g.households[list(part)].sum())
        if lo <= total <= hi:
            return False
        if total > hi or part in seen:
            continue
        seen.add(part)
        if len(seen) > limit:
            return False
        for w in {w for v in part for w in g.neighbours[v]} - part - fixed:
            if units.kind[w] == "block" and len(units.buildings[w]) > 1 and total + g.households[w] > hi:
                return False
            stack.append(part | {w})
    return True


def group_units(inp: AreaInput, lo: int, hi: int, seed: int = 0) -> tuple[Units, dict[int, Fixed], np.ndarray]:
    """Units, those that are a grid of their own (:func:`_fixed`), and a region label per unit. Grouped once;
    when a basic region stays outside the band beside whole blocks, those blocks are cut into buildings and
    the community grouped again, keeping the finer units when they do as well or better (what is still out
    of the band is then proved against them by :func:`why_out`)."""
    dedicated_min = get_settings().dedicated_min_m2
    units = build_units(inp, hi, dedicated_min)
    if not len(units.geoms):
        return units, {}, np.empty(0, dtype=np.int64)
    fixed, labels = _group(units, lo, hi, seed)
    cut = _blocks_to_cut(units, labels, fixed, lo, hi)
    if cut:
        finer = build_units(inp, hi, dedicated_min, frozenset(cut))
        fixed2, labels2 = _group(finer, lo, hi, seed)
        if _out_of_band(finer, labels2, fixed2, lo, hi) <= _out_of_band(units, labels, fixed, lo, hi):
            return finer, fixed2, labels2
    return units, fixed, labels


def propose_community(comm: Community, inp: AreaInput, seed: int = 0) -> tuple[list[Proposed], Units]:
    """Grids for one community, in reading order (nothing read or written: pure on ``inp``)."""
    cfg = get_settings()
    lo, hi = cfg.household_bands["basic"]
    units, fixed, labels = group_units(inp, lo, hi, seed)
    if not len(units.geoms):
        return [], units
    roads = shapely.buffer(shapely.union_all(inp.lines), ROAD_BUFFER_M) if len(inp.lines) else shapely.Polygon()
    groups = [np.flatnonzero(labels == r) for r in range(labels.max() + 1)]
    groups = [g for g in groups if len(g)]
    points = shapely.points(inp.buildings["x"].to_numpy(float), inp.buildings["y"].to_numpy(float))
    geoms = tidy_parts([shapely.union_all(units.geoms[g], grid_size=PRECISION_M) for g in groups], points)
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    ys = shapely.get_y(pts)
    order = reading_order(shapely.get_x(pts), ys, max(float(np.ptp(ys)) / 4, 1.0))
    lonlat = fill_outline(comm, comm.to_lonlat(np.asarray(geoms, dtype=object)))
    out = []
    for n, k in enumerate(order, start=1):
        g = groups[k]
        hh = int(units.households[g].sum())
        special = next((fixed[u] for u in g if u in fixed), None)
        kind = special.kind if special else "basic"
        band = cfg.household_bands.get(kind, (lo, hi))
        in_band = band[0] <= hh <= band[1]
        reason, possible = (
            (special.reason, False) if special else (None, True) if in_band else why_out(units, g, set(fixed), lo, hi)
        )
        out.append(
            Proposed(
                comm.code,
                t("{community} grid {n}", community=comm.name, n=n),
                kind,
                hh,
                int(units.estimated[g].sum()),
                int(sum(len(units.buildings[u]) for u in g)),
                len(g),
                sorted({units.compound[u] for u in g if units.compound[u]}),
                round(polsby_popper(geoms[k]), 3),
                road_share(geoms[k], inp.polygon, roads),
                in_band,
                reason,
                possible,
                lonlat[k],
            )
        )
    return out, units


def tidy_parts(geoms: list[shapely.Geometry], points: np.ndarray) -> list[shapely.Geometry]:
    """Stray parts of a grid that hold no building point (slivers between carriageways, corners cut off by a
    Voronoi cell) go to the neighbouring grid they share most boundary with: grids come in one piece wherever
    the units allow, and no building changes grid."""
    geoms = list(geoms)
    for k in range(len(geoms)):
        parts = sorted(shapely.get_parts(geoms[k]), key=lambda p: -p.area)
        for part in parts[1:]:
            if len(points) and shapely.intersects(part, points).any():
                continue
            edge = shapely.buffer(part.boundary, 0.05)
            shared = [(shapely.intersection(edge, geoms[j].boundary).length, j) for j in range(len(geoms)) if j != k]
            length, j = max(shared, default=(0.0, -1))
            if length > 0:
                geoms[j] = shapely.union(geoms[j], part)
                geoms[k] = shapely.difference(geoms[k], part)
    return geoms


def _no_specks(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of an overlay without its zero-area specks (below a square centimetre): one piece stays one."""
    parts = [p for p in shapely.get_parts(polygonal(geom)) if p.area > SLIVER_DEG2]
    return shapely.MultiPolygon(parts) if parts else polygonal(geom)


def fill_outline(comm: Community, grids: np.ndarray) -> np.ndarray:
    """Grids grown by about 2 cm and clipped to the community, in lon/lat: the millimetres that snapping and
    reprojection open along the outline are covered. Where neighbours now overlap, the ``create`` edit of the
    later grid trims the earlier one, so the plan's grids meet exactly."""
    grown = shapely.buffer(grids, FILL_DEG, join_style="mitre", mitre_limit=2.0)
    out = np.asarray([_no_specks(g) for g in shapely.intersection(grown, comm.geom)], dtype=object)
    gaps = polygonal(shapely.difference(comm.geom, shapely.union_all(out)))  # what the fill did not reach
    for part in shapely.get_parts(gaps):
        if part.area <= SLIVER_DEG2:  # a speck below a square centimetre: no gap, and no second part to a grid
            continue
        touch = shapely.area(shapely.intersection(out, shapely.buffer(part, 2 * FILL_DEG)))
        if len(touch) and touch.max() > 0:
            k = int(np.argmax(touch))
            out[k] = _no_specks(shapely.union(out[k], part))
    return out


def _edits(grids: list[Proposed]) -> list[dict]:
    return [
        {
            "op": "create",
            "community": g.community,
            "name": g.name,
            "kind": g.kind,
            "geometry": json.loads(shapely.to_geojson(g.geom)),
        }
        for g in grids
    ]


def store_units(conn: Connection, comm: Community, units: Units) -> None:
    """Keep the units computed for a community (derived data, replaced on every run). A unit drawn again with
    the same outline keeps its id (:func:`_kept_ids`): a planner's page, and a draft painted on it, still name
    the same units after a partition that changed nothing there."""
    geoms = comm.to_lonlat(units.geoms) if len(units.geoms) else np.empty(0, dtype=object)
    kept = _kept_ids(conn, comm.saved_id, geoms)
    conn.execute(text("DELETE FROM partition_units WHERE community_id = :c"), {"c": comm.saved_id})
    if not len(geoms):
        return
    conn.execute(
        text(
            "INSERT INTO partition_units (id, community_id, kind, name, households, estimated_households, "
            "building_ids, geom) SELECT coalesce(i, nextval(pg_get_serial_sequence('partition_units', 'id'))), :c, "
            "k, n, h, e, CAST(b AS bigint[]), ST_Multi(ST_GeomFromWKB(w, 4326)) FROM unnest(CAST(:i AS bigint[]), "
            "CAST(:k AS text[]), CAST(:n AS text[]), CAST(:h AS int[]), CAST(:e AS int[]), CAST(:b AS text[]), "
            "CAST(:w AS bytea[])) AS u(i, k, n, h, e, b, w)"
        ),
        {
            "c": comm.saved_id,
            "i": kept,
            "k": units.kind,
            "n": units.compound,
            "h": [int(h) for h in units.households],
            "e": [int(e) for e in units.estimated],
            "b": ["{" + ",".join(map(str, ids)) + "}" for ids in units.buildings],
            "w": [shapely.to_wkb(g) for g in geoms],
        },
    )


def _kept_ids(conn: Connection, community_id: int, geoms: np.ndarray) -> list[int | None]:
    """For each new unit (lon/lat), the id of the stored unit of the community with the same outline, if any."""
    rows = conn.execute(
        text("SELECT id, ST_AsBinary(geom) AS wkb FROM partition_units WHERE community_id = :c ORDER BY id"),
        {"c": community_id},
    ).all()
    out: list[int | None] = [None] * len(geoms)
    if not rows or not len(geoms):
        return out
    stored = shapely.from_wkb(np.asarray([bytes(r.wkb) for r in rows], dtype=object))
    new, old = shapely.STRtree(stored).query(geoms, predicate="intersects")
    same = shapely.equals(geoms[new], stored[old])
    taken: set[int] = set()
    for k, j in zip(new[same].tolist(), old[same].tolist(), strict=True):
        if out[k] is None and j not in taken:
            out[k] = int(rows[j].id)
            taken.add(j)
    return out


def draw_communities(
    conn: Connection, street: Community, seed: int
) -> tuple[list[tuple[Community, AreaInput]], list[dict]]:
    """Communities for a street office that has none: its blocks (compounds kept whole) grouped to
    ``GEOGRID_COMMUNITY_HOUSEHOLDS``, in reading order. Returns ``(community, its input)`` pairs and the plan's
    ``community`` edits that create them."""
    cfg = get_settings()
    lo, hi = cfg.community_households
    inp = load_input(conn, street)
    units = build_units(inp, hi, cfg.dedicated_min_m2)
    if not len(units.geoms):
        raise InputError(t("nothing to partition: the area holds no units"), field="street")
    labels = partition(units.graph, lo, hi, seed=seed, tries=cfg.partition_tries)
    groups = [np.flatnonzero(labels == r) for r in np.unique(labels)]
    points = shapely.points(inp.buildings["x"].to_numpy(float), inp.buildings["y"].to_numpy(float))
    geoms = tidy_parts([shapely.union_all(units.geoms[g], grid_size=PRECISION_M) for g in groups], points)
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    ys = shapely.get_y(pts)
    order = reading_order(shapely.get_x(pts), ys, max(float(np.ptp(ys)) / 4, 1.0))
    outline = fill_outline(street, street.to_lonlat(np.asarray(geoms, dtype=object)))
    for k in range(1, len(outline)):  # communities are not trimmed by a later edit as grids are: trim here
        outline[k] = polygonal(shapely.difference(outline[k], shapely.union_all(outline[:k])))
    taken = set(conn.scalars(text("SELECT code FROM admin_areas WHERE code LIKE :p || '%'"), {"p": street.code}))
    pairs, edits, seq = [], [], 0
    for n, k in enumerate(order, start=1):
        seq += 1
        while f"{street.code}{seq:03d}" in taken:
            seq += 1
        comm = Community(
            None,
            f"{street.code}{seq:03d}",
            t("{street} community {n}", street=street.name, n=n),
            outline[k],
            street.epsg,
        )
        ids = np.concatenate([units.buildings[u] for u in groups[k]]) if len(groups[k]) else np.empty(0)
        sub = AreaInput(
            comm.to_metric(comm.geom),
            inp.lines,
            inp.buildings[inp.buildings["id"].isin(ids)],
            inp.compounds,
            inp.dedicated
            if not len(inp.dedicated)
            else inp.dedicated[
                shapely.contains(
                    geoms[k], shapely.points(inp.dedicated["x"].to_numpy(float), inp.dedicated["y"].to_numpy(float))
                )
            ],
        )
        pairs.append((comm, sub))
        edits.append(
            {
                "op": "community",
                "street": street.code,
                "code": comm.code,
                "name": comm.name,
                "geometry": json.loads(shapely.to_geojson(comm.geom)),
            }
        )
    return pairs, edits


def summary(grids: list[Proposed], seconds: float, seed: int) -> ProposeSummary:
    basic = [g for g in grids if g.kind == "basic"]
    allow = [g for g in basic if g.band_possible]
    pp = [g.polsby_popper for g in grids]
    roads = [g.road_share for g in grids if g.road_share is not None]
    return ProposeSummary(
        grids=len(grids),
        basic_grids=len(basic),
        dedicated_grids=len(grids) - len(basic),
        in_band_share=round(sum(g.in_band for g in basic) / len(basic), 3) if basic else None,
        in_band_share_where_units_allow=round(sum(g.in_band for g in allow) / len(allow), 3) if allow else None,
        out_of_band_units_allow_no_better=len(basic) - len(allow),
        mean_polsby_popper=round(float(np.mean(pp)), 3) if pp else None,
        mean_road_share=round(float(np.mean(roads)), 3) if roads else None,
        households=sum(g.households for g in grids),
        estimated_households=sum(g.estimated_households for g in grids),
        seconds=round(seconds, 2),
        seed=seed,
    )


def _areas(
    conn: Connection, community: str | None, street: str | None, seed: int
) -> tuple[list[tuple[Community, AreaInput]], list[dict]]:
    """The communities to partition with their input, and the ``community`` edits drawing them when the street
    office has none yet."""
    if community is not None and street is None:
        comm = find_area(conn, community, "community")
        return [(comm, load_input(conn, comm))], []
    if street is not None and community is None:
        office = find_area(conn, street, "street")
        comms = communities_of(conn, office)
        if not comms:  # a street office with no communities yet: draw them too
            return draw_communities(conn, office, seed)
        return [(c, load_input(conn, c)) for c in comms], []
    raise InputError(t("give a street or a community (one of them)"), field="street")


def propose(
    conn: Connection,
    *,
    community: str | None = None,
    street: str | None = None,
    seed: int = 0,
    author: str | None = None,
) -> dict:
    """Propose grids for a community, or for every community of a street office (drawing the communities too
    when it has none), as a stored draft plan (the answer of :func:`geogrid.planning.preview.create_plan`, plus
    ``preview.partition``)."""
    from geogrid.planning.preview import create_plan

    started = time.perf_counter()
    comms, drawn = _areas(conn, community, street, seed)
    grids: list[Proposed] = []
    for comm, inp in comms:
        found, units = propose_community(comm, inp, seed)
        if comm.id is not None:
            store_units(conn, comm, units)
        grids += found
    if not grids:
        raise InputError(t("nothing to partition: the area holds no units"), field="community")
    plan = create_plan(conn, drawn + _edits(grids), author=author)
    report = ProposeReport(
        summary=summary(grids, time.perf_counter() - started, seed), grids=[g.report() for g in grids]
    )
    return add_report(conn, plan["plan"], report)
