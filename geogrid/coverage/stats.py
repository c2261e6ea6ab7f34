"""Coverage per grid, community and street: households, residents and special groups inside service areas.

A building is covered when its point lies in (or on the edge of) a stored service area of the requested
minutes, mode and facility kind. The answer is read from the coverage stored by ``geogrid compute``
(:mod:`geogrid.coverage.covered`); when that is stale, buildings are tested in memory against the areas
with a Shapely STRtree, faster than a per-row ``ST_Intersects`` join. Proposed sites (``candidate``)
never count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.coverage.compute import MODES
from geogrid.coverage.covered import covered_column
from geogrid.db.bulk import fetch_geoms, fetch_packed
from geogrid.errors import GeogridError
from geogrid.figures import coverage_by_grid, grid_figures
from geogrid.i18n import t
from geogrid.model import FACILITY_KINDS, SPECIAL_GROUPS
from geogrid.scope import resolve_scope
from geogrid.settings import get_settings

COUNTS = ("households", "residents", *SPECIAL_GROUPS)


QUERY_MODES = ("auto", *MODES)  # auto: network when computed for the circle, else circle


def check_circle(minutes: int, mode: str, kind: str | None) -> None:
    """The one check of a coverage question (API, CLI and maps): a bad value is a 400 with a reason."""
    if mode not in QUERY_MODES:
        raise GeogridError(t("mode must be one of {modes}, not '{mode}'", modes=QUERY_MODES, mode=mode))
    if kind is not None and kind not in FACILITY_KINDS:
        raise GeogridError(t("unknown facility kind '{kind}': use one of {kinds}", kind=kind, kinds=FACILITY_KINDS))
    circles = sorted(get_settings().circle_radius_m)
    if minutes not in circles:  # service areas exist only for the circles of GB 50180 (settings)
        raise GeogridError(
            t("minutes={minutes}: choose one of {circles}", minutes=minutes, circles=[str(c) for c in circles])
        )


def network_computed(conn: Connection, minutes: int) -> bool:
    """True when ``geogrid compute`` stored walking-network areas for this circle (what ``auto`` picks)."""
    return bool(
        conn.scalar(
            text("SELECT EXISTS (SELECT 1 FROM service_areas WHERE mode = 'network' AND minutes = :m)"), {"m": minutes}
        )
    )


@dataclass(frozen=True)
class Query:
    """What coverage is asked about; validated so a bad value is a 400 with a reason, never a 500.

    ``community`` names the scope (district, street, community or grid, by code or name); ``mode`` may be
    ``auto``, which :meth:`resolved` turns into ``network`` or ``circle``.
    """

    minutes: int = 5
    mode: str = "network"
    kind: str | None = None
    community: str | None = None

    def __post_init__(self) -> None:
        check_circle(self.minutes, self.mode, self.kind)

    def resolved(self, conn: Connection) -> Query:
        if self.mode != "auto":
            return self
        mode = "network" if network_computed(conn, self.minutes) else "circle"
        return Query(self.minutes, mode, self.kind, self.community)


AREAS_WHERE = (
    "FROM service_areas s JOIN facilities f ON f.id = s.facility_id "
    "WHERE s.minutes = :minutes AND s.mode = :mode AND f.candidate = :candidate "
    "AND (CAST(:kind AS text) IS NULL OR f.kind = :kind) AND s.geom IS NOT NULL"
)


def _check_computed(conn: Connection, q: Query) -> None:
    if not conn.scalar(text("SELECT EXISTS (SELECT 1 FROM service_areas WHERE mode = :m)"), {"m": q.mode}):
        raise GeogridError(
            t("no network service areas computed yet: run 'geogrid compute' after importing a walking network")
            if q.mode == "network"
            else t("no {mode} service areas computed yet: run 'geogrid compute'", mode=q.mode)
        )


def service_areas(conn: Connection, q: Query, candidate: bool = False) -> pd.DataFrame:
    """Stored areas (``facility_id, kind, geom``) for the query; raises when none were ever computed."""
    _check_computed(conn, q)
    return fetch_geoms(
        conn,
        f"SELECT f.id AS facility_id, f.kind, ST_AsBinary(s.geom) {AREAS_WHERE} ORDER BY f.id",
        {"minutes": q.minutes, "mode": q.mode, "kind": q.kind, "candidate": candidate},
    )


def service_area_count(conn: Connection, q: Query) -> int:
    """How many areas of real facilities define the query's coverage (no geometry read)."""
    _check_computed(conn, q)
    return int(
        conn.scalar(
            text(f"SELECT count(*) {AREAS_WHERE}"),
            {"minutes": q.minutes, "mode": q.mode, "kind": q.kind, "candidate": False},
        )
    )


BUILDING_FIELDS = {
    "id": ("int8send(b.id)", ">i8"),
    "x": ("float8send(ST_X(b.geom))", ">f8"),
    "y": ("float8send(ST_Y(b.geom))", ">f8"),
    "households": ("int4send(coalesce(b.households, 0))", ">i4"),
    "grid_id": ("int4send(coalesce(a.grid_id, -1))", ">i4"),  # -1: unassigned
}
PEOPLE_FIELDS = {
    "id": ("int8send(building_id)", ">i8"),
    "residents": ("int8send(residents)", ">i8"),
    **{g: (f"int8send({g})", ">i8") for g in SPECIAL_GROUPS},
}


def buildings(conn: Connection) -> pd.DataFrame:
    """Every building with its grid (NaN when unassigned), households, residents and special-group counts."""
    frame = fetch_packed(
        conn, BUILDING_FIELDS, "FROM buildings b LEFT JOIN building_assignments a ON a.building_id = b.id"
    )
    frame["grid_id"] = frame["grid_id"].where(frame["grid_id"] >= 0)
    groups = ", ".join(f"count(*) FILTER (WHERE '{g}' = ANY(special_groups)) AS {g}" for g in SPECIAL_GROUPS)
    people = fetch_packed(
        conn,
        PEOPLE_FIELDS,
        f"FROM (SELECT building_id, count(*) AS residents, {groups} "
        f"FROM residents WHERE building_id IS NOT NULL GROUP BY building_id) r",
    )
    frame = frame.merge(people, on="id", how="left")
    frame[list(COUNTS)] = frame[list(COUNTS)].fillna(0).astype("int64")
    return frame


def with_coverage(conn: Connection, q: Query) -> pd.DataFrame:
    """:func:`buildings` plus a boolean ``covered`` column for the query (stored coverage when fresh)."""
    q = q.resolved(conn)
    frame = buildings(conn)
    _check_computed(conn, q)
    frame["covered"] = covered_column(
        conn, frame, q.mode, q.minutes, q.kind, lambda: service_areas(conn, q)["geom"].to_numpy()
    )
    return frame


SCOPE_COLUMNS = ["grid_id", "code", "name", "community_code", "community_name", "street_code", "street_name"]


def grids(conn: Connection, community: str | None) -> pd.DataFrame:
    """The grids in force of the scope named ``community`` (any level, code or name), with their places."""
    return grid_figures(conn, resolve_scope(conn, community))[SCOPE_COLUMNS]


def _add_shares(frame: pd.DataFrame) -> pd.DataFrame:
    for col in COUNTS:
        total = frame[col].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, frame[f"{col}_covered"].to_numpy() / np.maximum(total, 1), np.nan)
        frame[f"{col}_share" if col != "households" else "share"] = np.round(share, 4)
    return frame


def _totals(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts and covered counts summed over ``by`` (communities, streets)."""
    cols = [c for name in COUNTS for c in (name, f"{name}_covered")]
    return frame.groupby(by, dropna=False, sort=True)[cols].sum().reset_index()


def coverage(conn: Connection, q: Query) -> dict:
    """Coverage summary, per grid, per community and per street, JSON-ready (``None`` share for no people)."""
    q = q.resolved(conn)
    areas_count = service_area_count(conn, q)
    scoped = grids(conn, q.community)
    per_grid = scoped.merge(
        coverage_by_grid(with_coverage(conn, q), COUNTS), left_on="grid_id", right_index=True, how="left"
    )
    count_cols = [c for name in COUNTS for c in (name, f"{name}_covered")]
    per_grid[count_cols] = per_grid[count_cols].fillna(0).astype("int64")
    summary = _add_shares(pd.DataFrame([per_grid[count_cols].sum()]))
    out = {
        "query": {"minutes": q.minutes, "mode": q.mode, "kind": q.kind, "community": q.community},
        "summary": {
            **_records(summary)[0],
            "grids": len(per_grid),
            "service_areas": areas_count,
            "hint": _hint(conn, q) if areas_count == 0 else None,
        },
        "grids": _records(_add_shares(per_grid.drop(columns=["grid_id"]))),
    }
    for level, plural in (("community", "communities"), ("street", "streets")):
        keys = [f"{level}_code", f"{level}_name"]
        rolled = _totals(per_grid.dropna(subset=[keys[0]]), keys)
        rolled = rolled.rename(columns={keys[0]: "code", keys[1]: "name"})
        out[plural] = _records(_add_shares(rolled))
    return out


def _hint(conn: Connection, q: Query) -> str | None:
    """Why nothing counts, when nothing does: every facility (of the kind) is a candidate (OSM points of interest
    come in as candidates), or there is none. Coverage used to read 0% with no word why."""
    counts = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE NOT candidate) AS in_service, count(*) FILTER (WHERE candidate) AS candidates "
            "FROM facilities "
            "WHERE CAST(:kind AS text) IS NULL OR kind = :kind"
        ),
        {"kind": q.kind},
    ).one()
    if counts.in_service == 0 and counts.candidates > 0:
        return t(
            "no facility counts: all {candidates} facilities{of_kind} are candidates (proposed sites, such as "
            "OSM points of interest), which never count; promote the real ones to facilities in service",
            candidates=counts.candidates,
            of_kind=f" ({q.kind})" if q.kind else "",
        )
    if counts.in_service == 0:
        return t(
            "no facility{of_kind} in service: import facilities to measure coverage",
            of_kind=f" ({q.kind})" if q.kind else "",
        )
    return None


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values, NaN as ``None``."""
    return [
        {
            k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]
