"""Planning thresholds, read from ``GEOGRID_*`` environment variables like the shared settings.

Kept beside the planning code (not in :mod:`geogrid.settings`) because only planning reads them; they
are still settings, never constants, since cities draw grids differently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanningSettings:
    min_compactness: float = 0.2  # Polsby–Popper 4πA/P² below this is "very non-compact" (a square is 0.785)
    area_tolerance_m2: float = 1.0  # overlaps, gaps and outside-community slivers smaller than this are noise
    move_buffer_m: float = 3.0  # a building moved without a footprint takes a square of this half-width
    max_points: int = 500  # at most this many building points in one problem's location


def planning_settings() -> PlanningSettings:
    env = os.environ.get
    return PlanningSettings(
        min_compactness=float(env("GEOGRID_MIN_COMPACTNESS", "0.2")),
        area_tolerance_m2=float(env("GEOGRID_AREA_TOLERANCE_M2", "1.0")),
        move_buffer_m=float(env("GEOGRID_MOVE_BUFFER_M", "3.0")),
        max_points=int(env("GEOGRID_PROBLEM_MAX_POINTS", "500")),
    )
