"""Everything computed from the stored data, in order: what ``geogrid demo`` and ``geogrid compute`` run.

Each topic contributes one step (a name and a function taking a SQLAlchemy connection). Steps run in
one transaction each, so a failed step leaves the previous results in place.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

Step = tuple[str, Callable[[Connection], object]]

NAMES = ("assign", "gazetteer", "compute", "stations", "covered")


def label(name: str) -> str:
    """A step's name for people, in their language (progress bars)."""
    from geogrid.i18n import t

    labels = {
        "assign": t("assignment to grids"),
        "gazetteer": t("address gazetteer"),
        "compute": t("service areas"),
        "stations": t("walks to the nearest service station"),
        "covered": t("per-building coverage"),
    }
    return labels.get(name, name)


def steps() -> list[Step]:
    """The steps in order, imported here (not at module import: ``geogrid --help`` stays fast)."""
    from geogrid.assign import assign_all
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.coverage.covered import store_building_coverage
    from geogrid.gazetteer import build_gazetteer
    from geogrid.stations import store_station_walks

    return list(
        zip(
            NAMES,
            (assign_all, build_gazetteer, compute_service_areas, store_station_walks, store_building_coverage),
            strict=True,
        )
    )


def compute_all(on_step: Callable[[str, int, int], None] | None = None) -> None:
    """Run every available step, each in its own transaction; ``on_step(name, done, total)`` after each."""
    from geogrid import db

    todo = steps()
    for done, (name, fn) in enumerate(todo, start=1):
        with db.ready().begin() as conn:
            fn(conn)
        if on_step:
            on_step(name, done, len(todo))
