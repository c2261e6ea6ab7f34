"""Tile addresses for tests: the slippy-map tile of a lon/lat at a zoom."""

from __future__ import annotations

import math


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y
