"""The walking-area kernels built at install give exactly the answers of their just-in-time versions."""

from __future__ import annotations

import os

import numpy as np
import pytest

from geogrid.coverage import compiled, raster, walk


@pytest.fixture(scope="module")
def built():
    module = compiled._built()
    if module is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the compiled kernels are missing or stale after `make venv`")
        pytest.skip("kernels not built (run `make compiled-kernels`)")
    return module


def _lattice(n: int = 30, seed: int = 7) -> tuple[np.ndarray, ...]:
    """A street lattice with random lengths and a few missing links, as CSR arrays, and facility starts."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n * n).reshape(n, n)
    pairs = np.concatenate(
        [np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], 1), np.stack([ids[:-1].ravel(), ids[1:].ravel()], 1)]
    )
    pairs = pairs[rng.random(len(pairs)) > 0.1]
    u, v = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    length = np.tile(rng.uniform(20, 80, len(pairs)), 2)
    order = np.lexsort((v, u))
    indptr = np.searchsorted(u[order], np.arange(n * n + 1)).astype(np.int64)
    snap = rng.integers(0, n * n, 40).astype(np.int64)
    return indptr, v[order].astype(np.int64), length[order], snap, rng.uniform(0, 30, 40)


def test_reach_equals_the_jit_kernel(built):
    indptr, indices, weights, snap, d0 = _lattice()
    for radius in (0.5, 150.0, 400.0):
        ours = built.reach(indptr, indices, weights, snap, d0, radius)
        jit = walk._reach(indptr, indices, weights, snap, d0, radius)
        assert len(ours[0]) == len(jit[0]) and (radius < 1 or len(jit[0]) > 100)
        for a, b in zip(ours, jit, strict=True):
            np.testing.assert_array_equal(a, b)


def test_paint_and_straight_equal_the_jit_kernels(built):
    rng = np.random.default_rng(3)
    m, per_row, cell, offset = 41, 3, 5.0, 20.0
    circle = raster._circle_field(100.0, cell, m)
    starts = np.array([0, 4, 4, 9, 15], np.int64)  # the second tile has no pieces
    seg = rng.uniform(0, m * cell, (15, 4))
    mosaics = [np.full((per_row * m, per_row * m), 1.0) for _ in range(2)]
    built.paint(mosaics[0], per_row, cell, starts, seg, offset, circle)
    raster._paint(mosaics[1], per_row, cell, starts, seg, offset, circle)
    # _paint_piece is fast-math: the two builds may order float operations differently (1e-14 m apart)
    np.testing.assert_allclose(mosaics[0], mosaics[1], rtol=0, atol=1e-9)
    assert (mosaics[0] <= 0).any() and (mosaics[0] > 0).any()
    grid = np.meshgrid(np.arange(per_row * m, dtype=float), np.arange(per_row * m, dtype=float))
    coords, ring, _ = raster._trace(mosaics[0], grid)
    keep = built.straight(coords, ring, raster.STRAIGHT / cell)
    np.testing.assert_array_equal(keep, raster._straight(coords, ring, raster.STRAIGHT / cell))
    assert 0 < keep.sum() < len(keep)  # straight runs shrink, rings stay


def test_a_stale_build_is_not_used(built, monkeypatch):
    """After the kernels' source changes without a rebuild, the just-in-time versions answer."""
    compiled._built.cache_clear()
    monkeypatch.setattr(compiled, "source_stamp", lambda: -1)
    try:
        assert compiled.kernel("reach", walk._reach) is walk._reach
    finally:
        compiled._built.cache_clear()
