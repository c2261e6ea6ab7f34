"""Service-area polygons from distance fields: paint each facility's field, trace its zero contour.

A network area is every point within the access offset of a piece of path the facility reaches, inside its
straight-line circle. Drawn with GEOS that is a union of hundreds of buffers per facility, which cost more
than the search itself. Here each facility gets a small raster (cells of ``GEOGRID_AREA_CELL`` metres) of
``f = distance to the nearest reached piece - offset``, raised to the circle's own polygon; the area is
``f <= 0``, traced by marching squares (contourpy) between exact distances, so the outline is within a
fraction of a cell of the true one. Many facilities share one contourpy call as tiles of a mosaic.
"""

from __future__ import annotations

from typing import cast

import contourpy
import numba as nb
import numpy as np
import shapely

from geogrid.coverage.compiled import kernel

CIRCLE_SIDES = 64  # the straight-line circle as drawn by ``shapely.buffer(point, r, quad_segs=16)``
MOSAIC_PIXELS = 4_000_000  # values per contourpy call (32 MB)
STRAIGHT = 0.001  # metres: outline points this close to the line through their neighbours add nothing
MOVETO = 1  # contourpy path code starting a ring


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _paint_piece(f: np.ndarray, h: float, seg: np.ndarray, reach: float) -> None:
    """Lower ``f`` (squared distances) to each pixel's squared distance to the segment, within ``reach`` of it.

    Each row visits only the columns of the band around the segment's line: a diagonal street's box is
    mostly empty.
    """
    m = f.shape[0]
    ax, ay, bx, by = seg[0], seg[1], seg[2], seg[3]
    x0, x1 = max(0, int(np.ceil((min(ax, bx) - reach) / h))), min(m - 1, int(np.floor((max(ax, bx) + reach) / h)))
    y0, y1 = max(0, int(np.ceil((min(ay, by) - reach) / h))), min(m - 1, int(np.floor((max(ay, by) + reach) / h)))
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    inv = 1.0 / ll if ll > 0 else 0.0
    # |dy·x - dx·y + c| ≤ reach·√ll is the band; solved for x per row when the line is not horizontal
    slope = abs(dy) > 1e-9 * np.sqrt(ll)
    for j in range(y0, y1 + 1):
        py = j * h - ay
        lo, hi = x0, x1
        if slope:
            centre, width = ax + dx * py / dy, reach * np.sqrt(ll) / abs(dy)
            lo, hi = max(x0, int(np.ceil((centre - width) / h))), min(x1, int(np.floor((centre + width) / h)))
        for i in range(lo, hi + 1):
            px = i * h - ax
            t = min(max((px * dx + py * dy) * inv, 0.0), 1.0)
            ex, ey = px - t * dx, py - t * dy
            d2 = ex * ex + ey * ey
            if d2 < f[j, i]:
                f[j, i] = d2


@nb.njit(cache=True)
def _paint(
    mosaic: np.ndarray, per_row: int, h: float, starts: np.ndarray, seg: np.ndarray, offset: float, circle: np.ndarray
) -> None:
    """Tile ``t`` of the mosaic gets the field of the pieces ``seg[starts[t]:starts[t + 1]]`` (tile coordinates)."""
    m = circle.shape[0]
    reach = offset + h  # a pixel further away has no neighbour inside: only its sign matters
    for t in range(len(starts) - 1):
        r, c = t // per_row, t % per_row
        f = mosaic[r * m : (r + 1) * m, c * m : (c + 1) * m]
        f[:, :] = reach * reach
        for k in range(starts[t], starts[t + 1]):
            _paint_piece(f, h, seg[k], reach)
        for j in range(m):
            for i in range(m):
                d = np.sqrt(f[j, i]) - offset if f[j, i] < reach * reach else h
                f[j, i] = max(d, circle[j, i])


@nb.njit(cache=True)
def _off_line(coords: np.ndarray, a: int, b: int, tol: float) -> bool:
    """Whether any point strictly between ``a`` and ``b`` lies further than ``tol`` from the line a–b."""
    ax, ay = coords[a, 0], coords[a, 1]
    dx, dy = coords[b, 0] - ax, coords[b, 1] - ay
    ll = dx * dx + dy * dy
    if ll == 0:
        return True
    for i in range(a + 1, b):
        cross = dx * (coords[i, 1] - ay) - dy * (coords[i, 0] - ax)
        if cross * cross > tol * tol * ll:
            return True
    return False


@nb.njit(cache=True)
def _straight(coords: np.ndarray, ring: np.ndarray, tol: float) -> np.ndarray:
    """Mask of the points to keep: runs of points within ``tol`` of the line through their ends shrink to the ends.

    Along a straight path the field is linear, so its outline is a straight line with a point at every pixel
    row it crosses; those points add nothing. A tolerance far below any map's precision (a millimetre) moves
    nothing a neighbouring ring could be crossed by: larger ones (0.5 m) made a few rings cross on the 1M city.
    """
    keep = np.ones(len(coords), np.bool_)
    last = 0
    for i in range(1, len(coords) - 1):
        if ring[i] != ring[last] or ring[i + 1] != ring[i]:  # first and last point of every ring stay
            last = i
        elif _off_line(coords, last, i + 1, tol):
            last = i
        else:
            keep[i] = False
    kept = np.bincount(ring[keep], minlength=ring[-1] + 1) if len(ring) else np.zeros(0, np.int64)
    for i in range(len(coords)):
        if kept[ring[i]] < 4:  # a sliver with no area: keep it whole rather than leave an invalid ring
            keep[i] = True
    return keep


def _circle_field(radius: float, h: float, m: int) -> np.ndarray:
    """Signed distance-like field of the circle polygon on a tile centred on its source (zero on its edges).

    The polygon's sides lie on lines at the apothem; a linear field per side makes marching squares put the
    network outline inside the very polygon circle mode stores, so network never exceeds circle coverage.
    """
    c = np.arange(m) * h - (m - 1) * h / 2
    px, py = np.meshgrid(c, c)
    sector = 2 * np.pi / CIRCLE_SIDES
    mid = (np.floor(np.arctan2(py, px) / sector) + 0.5) * sector
    return px * np.cos(mid) + py * np.sin(mid) - radius * np.cos(sector / 2)


def _trace(mosaic: np.ndarray, grid: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Where the mosaic is ≤ 0, as rings in pixel units: (coords, ring of each point, polygon of each ring).

    The first ring of each polygon is its shell, the others its holes. contourpy's ``mpl2005`` algorithm:
    half the time of ``serial`` on these mosaics (measured), and no masks or corner options are needed.
    """
    # mpl2005 fills as OuterCode: one array of points and one of path codes per polygon (the declared
    # return type is the union over every fill type).
    filled = contourpy.contour_generator(*grid, mosaic, name="mpl2005", fill_type="OuterCode").filled(-np.inf, 0.0)
    points, codes = cast(tuple[list[np.ndarray], list[np.ndarray]], filled)
    if not points:
        return np.empty((0, 2)), np.empty(0, np.int64), np.empty(0, np.int64)
    coords, path_codes = np.concatenate(points), np.concatenate(codes)
    polygon_of_point = np.repeat(np.arange(len(points)), [len(p) for p in points])
    starts = path_codes == MOVETO
    return coords, np.cumsum(starts) - 1, polygon_of_point[starts]


def areas_from_pieces(
    rows: np.ndarray, coords: np.ndarray, xy: np.ndarray, radius: float, offset: float, cell: float
) -> np.ndarray:
    """Metric MultiPolygons: points within ``offset`` of each source's pieces, inside its circle.

    ``rows``/``coords`` are the sorted (source, (m, 2, 2) segments) of :func:`walk.reached_pieces`.
    """
    n = len(xy)
    m = int(np.ceil(2 * radius / cell)) + 2  # the circle plus a cell of margin on every side: edges stay outside
    half = (m - 1) * cell / 2
    per_row = max(1, min(int(np.sqrt(MOSAIC_PIXELS)) // m, int(np.ceil(np.sqrt(n)))))  # no bigger than n tiles need
    size = per_row * m
    grid = np.meshgrid(np.arange(size, dtype=float), np.arange(size, dtype=float))
    circle = _circle_field(radius, cell, m)
    starts = np.searchsorted(rows, np.arange(n + 1))
    seg = (coords - (xy[rows] - half)[:, None, :]).reshape(-1, 4)  # tile coordinates: source at the centre
    mosaic = np.empty((size, size))
    out = np.full(n, None, dtype=object)
    paint, straight = kernel("paint", _paint), kernel("straight", _straight)
    for first in range(0, n, per_row * per_row):
        last = min(n, first + per_row * per_row)
        if last - first < per_row * per_row:
            mosaic.fill(1.0)  # tiles nobody paints stay outside
        paint(mosaic, per_row, cell, starts[first : last + 1], seg, offset, circle)
        coords, ring_of_point, polygon_of_ring = _trace(mosaic, grid)
        if not len(coords):
            continue
        keep = straight(coords, ring_of_point, STRAIGHT / cell)
        coords, ring_of_point = coords[keep], ring_of_point[keep]
        # Tiles are m pixels apart and every outline stays inside its tile: the pixel says whose it is.
        tile = (coords // m).astype(np.int64)
        source = first + tile[:, 1] * per_row + tile[:, 0]
        metric = (coords - m * tile) * cell + xy[source] - half
        polygons = shapely.polygons(shapely.linearrings(metric, indices=ring_of_point), indices=polygon_of_ring)
        owner = source[np.searchsorted(ring_of_point, np.searchsorted(polygon_of_ring, np.arange(len(polygons))))]
        order = np.argsort(owner, kind="stable")
        present, group = np.unique(owner[order], return_inverse=True)
        out[present] = shapely.multipolygons(polygons[order], indices=group)
    return out
