"""Assemble the whole demo city in a local metric frame (metres east/north of the street's south-west)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geogrid.demo import areas, buildings, facilities, geometry, network

BUILDINGS_PER_GRID = 47  # scaled cities: about 45–50 buildings per grid (1M buildings → 21k grids)
EXTRA_BUILDINGS = 6  # three street-front and three outside buildings (not in any cell)


@dataclass
class City:
    """Every table of the demo as DataFrames with Shapely geometries in metres."""

    lattice: geometry.Lattice
    river: shapely.Geometry
    rail: shapely.Geometry
    cells: pd.DataFrame
    streets: pd.DataFrame
    communities: pd.DataFrame
    grids: pd.DataFrame
    compounds: pd.DataFrame
    buildings: pd.DataFrame
    facilities: pd.DataFrame
    nodes: pd.DataFrame
    edges: pd.DataFrame


def size_for(n_buildings: int | None) -> tuple[int, int, int | None]:
    """Lattice columns, rows and buildings to spread over the cells (None: the hand-sized default city)."""
    if n_buildings is None:
        return (*geometry.DEFAULT_CELLS, None)
    cells = max(geometry.MIN_CELLS[0] * geometry.MIN_CELLS[1], round(n_buildings / BUILDINGS_PER_GRID))
    nx = max(geometry.MIN_CELLS[0], int(np.ceil(np.sqrt(cells))))
    ny = max(geometry.MIN_CELLS[1], int(np.ceil(cells / nx)))
    return nx, ny, max(n_buildings - EXTRA_BUILDINGS, nx * ny)


def build_city(n_buildings: int | None = None, seed: int = 7) -> City:
    """The deterministic demo city for a seed (same seed, same city, on any machine)."""
    rng = np.random.default_rng(seed)
    nx, ny, total = size_for(n_buildings)
    lat = geometry.make_lattice(rng, nx, ny)
    river, rail = geometry.barriers(lat)
    hole = geometry.hole_polygon(lat)
    cells = geometry.cell_frame(lat)
    streets, comms = areas.area_frames(cells)
    grids = areas.code_grids(geometry.grid_frame(cells, hole), comms)
    grids = buildings.grid_targets(rng, grids, total)
    homes, blds = buildings.building_frame(rng, lat, cells, grids, river | rail, hole)
    homes = homes.merge(cells[["ci", "cj"]], left_on="cell", right_index=True)
    fac = facilities.facility_frame(lat, cells, streets, comms, river, rail)
    nodes, edges = network.walk_network(lat, homes, cells, river, rail)
    return City(lat, river, rail, cells, streets, comms, grids, homes, blds, fac, nodes, edges)
