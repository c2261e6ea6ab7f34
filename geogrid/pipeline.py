"""Everything computed from the stored data, in order: what ``geogrid demo`` and ``geogrid compute`` run.

Each topic contributes one step (a name and a function taking a SQLAlchemy connection). Steps run in
one transaction each, so a failed step leaves the previous results in place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlalchemy import Connection

Step = tuple[str, Callable[[Connection], object]]

# (module, function) pairs; a module that does not exist yet is skipped.
STEPS = (
    ("geogrid.assign", "assign_all"),
    ("geogrid.gazetteer", "build_gazetteer"),
    ("geogrid.coverage.compute", "compute_service_areas"),
    ("geogrid.stations", "store_station_walks"),
    ("geogrid.coverage.covered", "store_building_coverage"),
)


def label(name: str) -> str:
    """A step's name for people, in their language (progress bars)."""
    from geogrid.i18n import t

    labels = {"assign": t("assignment to grids"), "gazetteer": t("address gazetteer"), "compute": t("service areas"),
              "stations": t("walks to the nearest service station"), "covered": t("per-building coverage")}
    return labels.get(name, name)


def steps() -> list[Step]:
    out: list[Step] = []
    for module_name, func in STEPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if module_name.startswith(str(exc.name)):
                continue
            raise
        out.append((module_name.rsplit(".", 1)[-1], getattr(module, func)))
    return out


def compute_all(on_step: Callable[[str, int, int], None] | None = None) -> None:
    """Run every available step, each in its own transaction; ``on_step(name, done, total)`` after each."""
    from geogrid import db

    todo = steps()
    for done, (name, fn) in enumerate(todo, start=1):
        with db.ready().begin() as conn:
            fn(conn)
        if on_step:
            on_step(name, done, len(todo))
