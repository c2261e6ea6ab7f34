"""Grouping units into grids: seeded region growing in reading order, then local repair into the band.

Pure NumPy/Python over a unit graph (no database): the same function serves ``geogrid partition``,
rebalancing and ``python -m bench partition``. Units are never split; a region is a set of units that is
contiguous in the graph. Why not ReCom or MaxP alone: they balance a total but know nothing of the band's
upper bound, of road-following or of reading order, and ReCom needs thousands of steps to reach what a
greedy growth plus a few hundred boundary moves reach here (measured in ``bench/results/partition.json``).
"""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np


@dataclass
class UnitGraph:
    """Units as a graph: households, centroid and area in metres, shared boundary lengths (m) by neighbour.

    ``road[i]`` holds the neighbours of ``i`` across a road, river or railway (a boundary grids should follow).
    """

    households: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    neighbours: list[dict[int, float]]
    road: list[set[int]]

    def __len__(self) -> int:
        return len(self.households)


def violation(h: float, lo: int, hi: int) -> float:
    """How far a household count lies outside the band (0 inside)."""
    return float(lo - h) if h < lo else float(h - hi) if h > hi else 0.0


def choose_k(total: float, lo: int, hi: int) -> int:
    """Number of grids for ``total`` households: nearest to the band middle among the feasible counts."""
    if total <= 0:
        return 1
    k_min, k_max = max(1, math.ceil(total / hi)), max(1, math.floor(total / lo)) if lo > 0 else 10**9
    k = max(1, round(total / ((lo + hi) / 2)))
    return min(max(k, k_min), k_max) if k_min <= k_max else k_min


def reading_rank(g: UnitGraph, units: list[int]) -> list[int]:
    """Units north→south in rows of a tenth of the extent, then west→east (the domain's sequence rule)."""
    ys = g.y[units]
    height = max(float(np.ptp(ys)) / 10, 1.0) if len(units) else 1.0
    rows = np.floor((ys.max() - ys) / height) if len(units) else ys
    order = np.lexsort((g.x[units], rows))
    return [units[i] for i in order]


def components(g: UnitGraph, units: list[int]) -> list[list[int]]:
    """Connected components of the subgraph on ``units``, each sorted, in order of their first unit."""
    inside, seen, out = set(units), set(), []
    for u in sorted(units):
        if u in seen:
            continue
        stack, comp = [u], []
        seen.add(u)
        while stack:
            v = stack.pop()
            comp.append(v)
            for w in g.neighbours[v]:
                if w in inside and w not in seen:
                    seen.add(w)
                    stack.append(w)
        out.append(sorted(comp))
    return out


class Regions:
    """A labelling of units into regions with running household totals and centroid sums."""

    def __init__(self, g: UnitGraph, labels: np.ndarray) -> None:
        self.g, self.labels = g, labels
        self.members: dict[int, set[int]] = {}
        for u, r in enumerate(labels):
            if r >= 0:
                self.members.setdefault(int(r), set()).add(u)
        self.hh = {r: float(g.households[list(m)].sum()) for r, m in self.members.items()}
        # area-weighted moments per region, about the graph's mean point (precision): w, Σwx, Σwy, Σw(x²+y²)
        w = g.area + 1.0
        x, y = g.x - (g.x.mean() if len(g) else 0), g.y - (g.y.mean() if len(g) else 0)
        self._unit = [
            (float(a), float(a * b), float(a * c), float(a * (b * b + c * c))) for a, b, c in zip(w, x, y, strict=True)
        ]
        self.moments = {r: [sum(self._unit[u][i] for u in m) for i in range(4)] for r, m in self.members.items()}

    def move(self, u: int, to: int) -> None:
        src = int(self.labels[u])
        self.members[src].discard(u)
        self.hh[src] -= self.g.households[u]
        self.moments[src] = [a - b for a, b in zip(self.moments[src], self._unit[u], strict=True)]
        if not self.members[src]:
            del self.members[src], self.hh[src], self.moments[src]
        self.members.setdefault(to, set()).add(u)
        self.hh[to] = self.hh.get(to, 0.0) + self.g.households[u]
        self.moments[to] = [a + b for a, b in zip(self.moments.get(to, [0.0] * 4), self._unit[u], strict=True)]
        self.labels[u] = to

    def connected_without(self, r: int, u: int) -> bool:
        """Whether region ``r`` stays contiguous once unit ``u`` leaves it."""
        rest = self.members[r] - {u}
        if not rest:
            return False
        start = next(iter(rest))
        seen, stack = {start}, [start]
        while stack:
            v = stack.pop()
            for w in self.g.neighbours[v]:
                if w in rest and w not in seen:
                    seen.add(w)
                    stack.append(w)
        return len(seen) == len(rest)

    def spread(self, r: int, extra: int | None = None, without: int | None = None) -> float:
        """Area-weighted moment of inertia (m²·m²) of region ``r`` (with ``extra`` added or ``without`` taken
        out): lower is more compact. O(1) from the running moments."""
        w, sx, sy, sq = self.moments.get(r, (0.0, 0.0, 0.0, 0.0))
        for u, sign in ((extra, 1.0), (without, -1.0)):
            if u is not None:
                a, b, c, d = self._unit[u]
                w, sx, sy, sq = w + sign * a, sx + sign * b, sy + sign * c, sq + sign * d
        return max(0.0, sq - (sx * sx + sy * sy) / w) if w > 1e-9 else 0.0


def _grow(g: UnitGraph, comp: list[int], lo: int, hi: int, rng: np.random.Generator | None) -> np.ndarray:
    """Greedy growth: regions seeded in reading order, each taking nearby units until it reaches its share."""
    labels = np.full(len(g), -1, dtype=np.int64)
    order = reading_rank(g, comp)
    if rng is not None and len(order) > 1:  # a restart: start from a different corner of the reading order
        shift = int(rng.integers(0, max(1, len(order) // 4)))
        order = order[shift:] + order[:shift]
    total = float(g.households[comp].sum())
    k = choose_k(total, lo, hi)
    free = set(comp)
    region, left = 0, total
    noise = rng.random(len(g)) * 0.2 if rng is not None else np.zeros(len(g))
    for start in order:
        if start not in free:
            continue
        target = left / max(1, k - region)
        members, hh = [start], float(g.households[start])
        free.discard(start)
        labels[start] = region
        frontier = {w for w in g.neighbours[start] if w in free}
        cx, cy, wsum = g.x[start] * (g.area[start] + 1), g.y[start] * (g.area[start] + 1), g.area[start] + 1
        scale = math.sqrt(max(g.area[comp].sum() / max(k, 1), 1.0))
        while frontier and hh < target:
            mx, my = cx / wsum, cy / wsum
            best, best_cost = None, math.inf
            for w in frontier:
                if hh + g.households[w] > hi and hh >= lo:
                    continue
                d = math.hypot(g.x[w] - mx, g.y[w] - my) / scale
                inner = sum(
                    length for v, length in g.neighbours[w].items() if labels[v] == region and v not in g.road[w]
                )
                across = sum(length for v, length in g.neighbours[w].items() if labels[v] == region)
                cost = d - 0.5 * (inner / across if across else 0) + noise[w]
                if cost < best_cost or (cost == best_cost and best is not None and w < best):
                    best, best_cost = w, cost
            if best is None:
                break
            if hh >= lo and abs(hh + g.households[best] - target) > abs(hh - target) and g.households[best] > 0:
                break
            free.discard(best)
            frontier.discard(best)
            labels[best] = region
            members.append(best)
            hh += g.households[best]
            a = g.area[best] + 1
            cx, cy, wsum = cx + g.x[best] * a, cy + g.y[best] * a, wsum + a
            frontier |= {w for w in g.neighbours[best] if w in free}
        left -= hh
        region += 1
    return labels


def _absorb_unlabelled(g: UnitGraph, labels: np.ndarray, comp: list[int]) -> None:
    """Units no region reached join the neighbouring region with the longest shared boundary."""
    pending = [u for u in comp if labels[u] < 0]
    while pending:
        rest = []
        for u in pending:
            options: dict[int, float] = {}
            for w, length in g.neighbours[u].items():
                if labels[w] >= 0:
                    options[int(labels[w])] = options.get(int(labels[w]), 0.0) + length
            if options:
                labels[u] = max(sorted(options), key=lambda r: options[r])
            else:
                rest.append(u)
        if len(rest) == len(pending):  # an island of its own: cannot happen within a component
            for u in rest:
                labels[u] = labels.max() + 1
            return
        pending = rest


def _score_move(
    reg: Regions, u: int, src: int, dst: int, lo: int, hi: int, base: dict[int, float] | None = None
) -> tuple[float, float]:
    """(band violation change, spread change) when unit ``u`` moves from ``src`` to ``dst``: lower is better.

    The spread change is left at 0 when the band gets worse (such a move is never taken); ``base`` caches the
    regions' current spreads across the candidates of one search (the hot loop of :func:`repair`)."""
    h = reg.g.households[u]
    before = violation(reg.hh[src], lo, hi) + violation(reg.hh.get(dst, 0.0), lo, hi)
    after = violation(reg.hh[src] - h, lo, hi) + violation(reg.hh.get(dst, 0.0) + h, lo, hi)
    if after - before > 0:
        return after - before, 0.0
    base = {} if base is None else base
    for r in (src, dst):
        if r not in base:
            base[r] = reg.spread(r)
    spread = (reg.spread(src, without=u) + reg.spread(dst, extra=u)) - (base[src] + base[dst])
    return after - before, spread


def repair(
    g: UnitGraph,
    labels: np.ndarray,
    lo: int,
    hi: int,
    frozen: AbstractSet[int] = frozenset(),
    max_rounds: int = 60,
    compact: bool = True,
) -> np.ndarray:
    """Move boundary units between neighbouring regions until no move lowers the band violation; merge
    regions below the band into a neighbour when the sum fits. Regions in ``frozen`` neither give nor take.

    With ``compact``, moves that keep every region's violation and reduce the spread are taken as well.
    """
    reg = Regions(g, labels)
    for _ in range(max_rounds):
        improved = _merge_small(reg, lo, hi, frozen)
        for r in sorted(reg.members, key=lambda r: -violation(reg.hh[r], lo, hi)):
            if r in frozen or r not in reg.members:
                continue
            improved |= _best_move(reg, r, lo, hi, frozen, compact)
        if not improved:
            break
    return reg.labels


def _merge_small(reg: Regions, lo: int, hi: int, frozen: AbstractSet[int]) -> bool:
    merged = False
    for r in sorted(reg.members, key=lambda r: reg.hh.get(r, 0)):
        if r not in reg.members or r in frozen or reg.hh[r] >= lo:
            continue
        near = {int(reg.labels[w]) for u in reg.members[r] for w in reg.g.neighbours[u]} - {r, -1} - frozen
        fits = sorted((s for s in near if reg.hh[s] + reg.hh[r] <= hi), key=lambda s: (reg.hh[s], s))
        if fits:
            for u in sorted(reg.members[r]):
                reg.move(u, fits[0])
            merged = True
    return merged


def _best_move(reg: Regions, r: int, lo: int, hi: int, frozen: AbstractSet[int], compact: bool) -> bool:
    """Take the best single boundary move out of or into region ``r``."""
    best, best_key = None, (0.0, 0.0)
    if violation(reg.hh[r], lo, hi) == 0 and not compact:
        return False
    base: dict[int, float] = {}
    for u in sorted(reg.members[r]):
        for w in reg.g.neighbours[u]:
            s = int(reg.labels[w])
            if s == r or s < 0 or s in frozen:
                continue
            for unit, src, dst in ((u, r, s), (w, s, r)):
                d_band, d_spread = _score_move(reg, unit, src, dst, lo, hi, base)
                key = (d_band, d_spread)
                if d_band > 0 or (d_band == 0 and (not compact or d_spread >= -1e-6)):
                    continue
                if key < best_key and reg.connected_without(src, unit):
                    best, best_key = (unit, dst), key
    if best is None:
        return False
    reg.move(*best)
    return True


def _split_oversized(g: UnitGraph, labels: np.ndarray, lo: int, hi: int, frozen: set[int]) -> None:
    """A region still above the band whose units allow it is grown again inside itself into more regions."""
    reg = Regions(g, labels)
    for r in sorted(reg.members):
        if r in frozen or reg.hh[r] <= hi or len(reg.members[r]) < 2:
            continue
        sub = _grow(g, sorted(reg.members[r]), lo, hi, None)
        base = labels.max() + 1
        for u in reg.members[r]:
            labels[u] = base + sub[u] if sub[u] > 0 else r


def partition(
    g: UnitGraph, lo: int, hi: int, seed: int = 0, tries: int = 4, fixed: dict[int, int] | None = None
) -> np.ndarray:
    """Region label per unit: contiguous regions within ``[lo, hi]`` households wherever the units allow.

    ``fixed`` maps a unit to its own region (a unit above the band, a dedicated grid): those are left out
    of the growth. The best of ``tries`` seeded restarts is kept (fewest households outside the band, then
    most compact); the same seed gives the same answer.
    """
    fixed = fixed or {}
    labels = np.full(len(g), -1, dtype=np.int64)
    next_label = 0
    for u in sorted(fixed):
        labels[u] = next_label
        next_label += 1
    rest = [u for u in range(len(g)) if u not in fixed]
    for comp in components(g, rest):
        best = _best_attempt(g, comp, lo, hi, seed, tries)
        regions = sorted({int(best[u]) for u in comp})
        remap = {r: next_label + i for i, r in enumerate(regions)}
        for u in comp:
            labels[u] = remap[int(best[u])]
        next_label += len(regions)
    return labels


def _best_attempt(g: UnitGraph, comp: list[int], lo: int, hi: int, seed: int, tries: int) -> np.ndarray:
    """The labels of the best of ``tries`` growths of one component (the first of equals: deterministic)."""
    attempts = []
    for attempt in range(max(1, tries)):
        rng = None if attempt == 0 else np.random.default_rng([seed, attempt])
        lab = _grow(g, comp, lo, hi, rng)
        _absorb_unlabelled(g, lab, comp)
        lab = repair(g, lab, lo, hi)
        _split_oversized(g, lab, lo, hi, set())
        lab = repair(g, lab, lo, hi)
        attempts.append((_quality(g, lab, comp, lo, hi), attempt, lab))
    return min(attempts, key=lambda a: a[:2])[2]


def _quality(g: UnitGraph, labels: np.ndarray, comp: list[int], lo: int, hi: int) -> tuple[float, float]:
    reg = Regions(g, labels)
    out = sum(violation(h, lo, hi) for h in reg.hh.values())
    spread = sum(reg.spread(r) / max(g.area[list(m)].sum(), 1.0) ** 2 for r, m in reg.members.items())
    return out, spread / max(len(reg.members), 1)
