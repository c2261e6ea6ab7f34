"""The walk to the nearest service station from every network node (what lookups answer walking minutes from)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from geogrid.network import WalkGraph
from geogrid.stations import nearest_station_walks


def test_nearest_station_along_the_street_not_across_the_river():
    """Two streets on either bank, one bridge at the east end; a third street nobody can walk to.

    Node 0 (west, south bank) is 20 m from station N across the river but must walk the bridge (1,000 m
    round trip): station S, 400 m along its own bank, is nearer on foot.
    """
    south = [(x, 0.0) for x in range(0, 600, 100)]  # nodes 0..5
    north = [(x, 20.0) for x in range(0, 600, 100)]  # nodes 6..11
    island = [(5000.0, 0.0), (5100.0, 0.0)]  # nodes 12, 13
    xy = np.array(south + north + island)
    u = [*range(0, 5), *range(6, 11), 5, 12]
    v = [*range(1, 6), *range(7, 12), 11, 13]
    length = np.hypot(*(xy[u] - xy[v]).T)
    graph = WalkGraph(32650, np.arange(len(xy)), xy, np.array(u), np.array(v), length, cKDTree(xy))
    stations = np.array([[0.0, 25.0], [400.0, -3.0]])  # N: 5 m north of node 6; S: 3 m south of node 4
    dist, which = nearest_station_walks(graph, stations)
    assert which[0] == 1 and dist[0] == pytest.approx(400 + 3)
    assert which[6] == 0 and dist[6] == pytest.approx(5)
    assert which[5] == 1 and dist[5] == pytest.approx(100 + 3)  # the bridge end: S is nearer than N's 525 m
    assert which[11] == 1 and dist[11] == pytest.approx(20 + 100 + 3)
    assert (which[12:] == -1).all() and np.isinf(dist[12:]).all()  # unreachable: no station, no distance
