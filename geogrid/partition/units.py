"""Units a partition never splits: blocks bounded by roads, rivers and railways; compounds; buildings.

All geometry here is in metres (the area's :func:`geogrid.crs.metric_epsg`). A community polygon is cut
by the barrier lines into blocks (faces of the noded lines, so blocks tile the community exactly). Blocks
holding buildings of one compound are joined, so a compound is never split. A block (or joined block)
above the band is cut into pieces: each compound in it, each other building, with the Voronoi cells of
their building points clipped to the block as area, so pieces still tile the community.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geogrid.partition.grow import UnitGraph

SLIVER_M2 = 1.0  # faces smaller than this are noding noise
PRECISION_M = 0.01  # unit outlines are snapped to this grid (metres)
TOUCH_M = 0.05  # boundaries within this distance count as shared


@dataclass
class AreaInput:
    """What a community holds, in metres: its polygon, barrier lines, buildings, compounds, dedicated sites."""

    polygon: shapely.Geometry
    lines: np.ndarray  # LineStrings: roads, rivers, railways
    buildings: pd.DataFrame  # id, x, y, households, estimated, compound (key or None)
    compounds: pd.DataFrame  # key, name, geom (metric polygon or None)
    dedicated: pd.DataFrame  # kind, name, x, y: sites that make a dedicated grid (school, hospital, ...)


@dataclass
class Units:
    """Units of one community: geometry (metres), kind, building ids, households and the graph over them."""

    geoms: np.ndarray
    kind: list[str]  # block | compound | building
    block: np.ndarray  # the block each unit lies in (units of one block meet off-road)
    buildings: list[np.ndarray]  # building ids
    households: np.ndarray
    estimated: np.ndarray  # households that are estimates
    compound: list[str | None]  # compound name when the unit is (or holds) one compound
    dedicated: list[str | None]  # dedicated-site kind the unit holds (school, hospital, ...)

    @cached_property
    def graph(self) -> UnitGraph:
        """The units' adjacency (:func:`unit_graph`), built on first use: grouping needs it, storing does not."""
        return unit_graph(self)


def blocks(polygon: shapely.Geometry, lines: np.ndarray) -> np.ndarray:
    """Faces of the community cut by the lines, tiling it (dangling lines cut nothing)."""
    # whole lines, not clipped to the polygon: a clipped end lands a hair off the outline and is not noded with
    # it, so a road crossing the community cut nothing (faces outside the polygon are dropped below)
    inside = lines[shapely.intersects(lines, polygon)] if len(lines) else np.empty(0, dtype=object)
    edges = shapely.union_all(np.concatenate([[shapely.boundary(polygon)], inside]))
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(edges))), dtype=object)
    if not len(faces):
        return np.asarray(shapely.get_parts(polygon), dtype=object)
    keep = shapely.contains(polygon, shapely.point_on_surface(faces)) & (shapely.area(faces) > 0)
    faces = faces[keep]
    missed = shapely.difference(polygon, shapely.union_all(faces)) if len(faces) else polygon
    extra = [p for p in shapely.get_parts(missed) if p.area > SLIVER_M2]  # unclosed rings of the outline
    faces = np.concatenate([faces, np.asarray(extra, dtype=object)]) if extra else faces
    faces = shapely.set_precision(faces, PRECISION_M)  # shared edges exact; faces below 1 cm vanish
    return faces[~shapely.is_empty(faces)]


def _locate(points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Index of the area holding each point (lowest index on a shared edge), else the nearest one."""
    out = np.full(len(points), -1, dtype=np.int64)
    if not len(points) or not len(areas):
        return out
    tree = shapely.STRtree(areas)
    pi, ai = tree.query(points, predicate="intersects")
    order = np.lexsort((ai, pi))
    pi, ai = pi[order], ai[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
    out[pi[first]] = ai[first]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = tree.query_nearest(points[missing], return_distance=False, all_matches=False)[1]
    return out


def compound_keys(inp: AreaInput, points: np.ndarray) -> np.ndarray:
    """The compound of each building: its stored one, else the compound polygon around its point."""
    keys = inp.buildings["compound"].to_numpy(dtype=object).copy()
    polys = inp.compounds.dropna(subset=["geom"]) if len(inp.compounds) else inp.compounds
    if len(polys):
        geoms = np.asarray(polys["geom"].to_numpy(), dtype=object)
        pi, ci = shapely.STRtree(geoms).query(points, predicate="within")
        hit = pd.Series(ci, index=pi).groupby(level=0).min()  # lowest index when compounds overlap
        spatial = np.full(len(points), None, dtype=object)
        spatial[hit.index.to_numpy()] = polys["key"].to_numpy(dtype=object)[hit.to_numpy()]
        keys = np.where(pd.isna(keys), spatial, keys)
    return keys


def _join_blocks(n_blocks: int, block_of: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Group id per block: blocks that hold buildings of the same compound form one group."""
    frame = pd.DataFrame({"b": block_of, "k": keys}).dropna()
    first = frame.groupby("k")["b"].transform("min").to_numpy(dtype=np.int64)
    rows = np.r_[np.arange(n_blocks), frame["b"].to_numpy(dtype=np.int64)]
    cols = np.r_[np.arange(n_blocks), first]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_blocks, n_blocks))
    return connected_components(graph, directed=False)[1]


def _pieces(block: shapely.Geometry, xy: np.ndarray, keys: np.ndarray) -> tuple[list[shapely.Geometry], list]:
    """Cut a block into one piece per compound and per other building (Voronoi cells of the points)."""
    piece_key = np.asarray(
        [k if k is not None and not pd.isna(k) else f"b{i}" for i, k in enumerate(keys)], dtype=object
    )
    uniq, inverse = np.unique(np.round(xy, 2), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if len(uniq) < 2:
        return [block], [np.arange(len(xy))]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=block, ordered=True))
    cells = shapely.intersection(cells, block)
    owner = np.empty(len(uniq), dtype=object)
    owner[inverse[::-1]] = piece_key[::-1]  # the first building at each distinct point owns its cell
    with_piece = owner[inverse]  # a building sharing a point goes with the piece that owns it
    geoms, members = [], []
    for key in pd.unique(owner):
        geoms.append(shapely.union_all(cells[owner == key]))
        members.append(np.flatnonzero(with_piece == key))
    return geoms, members


def build_units(inp: AreaInput, hi: int, dedicated_min_m2: float = 0.0, cut: frozenset[int] = frozenset()) -> Units:
    """Blocks, joined for compounds, cut into compounds and buildings when above ``hi`` households, or when
    named in ``cut`` (block numbers, :attr:`Units.block`: a grid beside them could not reach the band whole)."""
    faces = blocks(inp.polygon, inp.lines)
    b = inp.buildings
    points = shapely.points(b["x"].to_numpy(float), b["y"].to_numpy(float)) if len(b) else np.empty(0, object)
    keys = compound_keys(inp, points) if len(b) else np.empty(0, dtype=object)
    block_of = _locate(points, faces)
    group = _join_blocks(len(faces), block_of, keys)
    names = dict(zip(inp.compounds["key"], inp.compounds["name"], strict=False)) if len(inp.compounds) else {}
    hh, est = b["households"].to_numpy(float), b["estimated"].to_numpy(bool)
    geoms, kinds, blk, members = [], [], [], []
    building_group = group[block_of] if len(b) else np.empty(0, np.int64)
    for gid in range(group.max() + 1 if len(group) else 0):
        geom = shapely.union_all(faces[group == gid])
        idx = np.flatnonzero(building_group == gid)
        gkeys = keys[idx]
        one_compound = (
            len(idx) > 0
            and len({k for k in gkeys if k is not None and not pd.isna(k)}) == 1
            and all(k is not None and not pd.isna(k) for k in gkeys)
        )
        if (hh[idx].sum() <= hi and gid not in cut) or len(idx) < 2 or one_compound:
            geoms.append(geom)
            kinds.append("compound" if one_compound else "block")
            blk.append(gid)
            members.append(idx)
            continue
        xy = np.column_stack([b["x"].to_numpy(float)[idx], b["y"].to_numpy(float)[idx]])
        for piece, sub in zip(*_pieces(geom, xy, gkeys), strict=True):
            geoms.append(piece)
            k = gkeys[sub[0]]
            kinds.append("compound" if k is not None and not pd.isna(k) else "building")
            blk.append(gid)
            members.append(idx[sub])
    ids = b["id"].to_numpy(np.int64)
    # on a 1 cm grid: neighbouring pieces then share their edges exactly, and unions of them are one piece
    raw = np.asarray(geoms, dtype=object)
    snapped = shapely.set_precision(raw, PRECISION_M)
    unit_geoms = np.where(shapely.is_empty(snapped), raw, snapped)  # a sliver below 1 cm keeps its outline
    return Units(
        geoms=unit_geoms,
        kind=kinds,
        block=np.asarray(blk, dtype=np.int64),
        buildings=[ids[m] for m in members],
        households=np.asarray([hh[m].sum() for m in members], dtype=float),
        estimated=np.asarray([hh[m][est[m]].sum() for m in members], dtype=float),
        compound=[_compound_name(keys[m], names) for m in members],
        dedicated=_dedicated(inp, unit_geoms, kinds, dedicated_min_m2),
    )


def _compound_name(keys: np.ndarray, names: dict) -> str | None:
    found = sorted({str(names.get(k, k)) for k in keys if k is not None and not pd.isna(k)})
    return ", ".join(found) if found else None


def _dedicated(inp: AreaInput, geoms: np.ndarray, kinds: list[str], min_m2: float) -> list[str | None]:
    """The dedicated-site kind of each block or compound that holds one (pieces of a cut block hold none)."""
    out: list[str | None] = [None] * len(geoms)
    if not len(inp.dedicated) or not len(geoms):
        return out
    pts = shapely.points(inp.dedicated["x"].to_numpy(float), inp.dedicated["y"].to_numpy(float))
    where = _locate(pts, geoms)
    for kind, u in sorted(zip(inp.dedicated["kind"], where, strict=True), key=lambda p: (p[1], p[0])):
        if u >= 0 and kinds[u] != "building" and out[u] is None and geoms[u].area >= min_m2:
            out[u] = kind
    return out


def unit_graph(units: Units) -> UnitGraph:
    """Adjacency by shared boundary length; neighbours in different blocks meet across a barrier line."""
    geoms = units.geoms
    n = len(geoms)
    neighbours: list[dict[int, float]] = [{} for _ in range(n)]
    road: list[set[int]] = [set() for _ in range(n)]
    if n > 1:
        i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = i < j
        i, j = i[keep], j[keep]
        bounds = shapely.boundary(geoms)
        shared = (
            shapely.length(shapely.intersection(bounds[i], shapely.buffer(bounds[j], TOUCH_M)))
            if len(i)
            else np.empty(0)
        )
        for a, c, length in zip(i, j, shared, strict=True):
            if length > TOUCH_M * 4:
                neighbours[a][int(c)] = neighbours[c][int(a)] = float(length)
                if units.block[a] != units.block[c]:
                    road[a].add(int(c))
                    road[c].add(int(a))
    centre = shapely.centroid(geoms) if n else np.empty(0, object)
    return UnitGraph(
        units.households.copy(),
        shapely.get_x(centre) if n else np.empty(0),
        shapely.get_y(centre) if n else np.empty(0),
        shapely.area(geoms) if n else np.empty(0),
        neighbours,
        road,
    )
