"""Staff, party organisations, households, residents and their personal data, generated vectorised.

Rates are plausible for an urban Beijing street (about 8% party members, 2–3 people per household);
a few grids deliberately lack a party branch or a full-time grid worker so that reports have gaps to find.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geogrid.db.bulk import copy_frame, next_ids
from geogrid.demo.names import id_numbers, person_names, phones

REFERENCE_YEAR = 2025  # ages are relative to this year, so the same seed gives the same birth years
HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_P = np.arange(1, 6), [0.2, 0.32, 0.24, 0.16, 0.08]
REGISTRATION_P = {"registered": 0.72, "floating": 0.25, "foreign": 0.03}
AGE_BANDS = ((0, 18, 0.18), (18, 60, 0.58), (60, 80, 0.19), (80, 96, 0.05))  # (from, to, share)
PARTY_RATE_ADULTS = 0.10  # ≈ 8% of all residents


@dataclass
class OrgCounts:
    staff: int = 0
    party_orgs: int = 0
    grids_without_branch: list[str] = field(default_factory=list)
    grids_without_full_time_worker: list[str] = field(default_factory=list)


@dataclass
class PeopleCounts:
    households: int = 0
    residents: int = 0


def ids_or_null(ids: np.ndarray, index: np.ndarray) -> pd.Series:
    """``ids[index]`` as a nullable integer column, NULL where ``index`` is negative."""
    return pd.Series(ids[np.maximum(index, 0)], dtype="Int64").where(index >= 0, pd.NA)


def _gaps(rng: np.random.Generator, grids: pd.DataFrame, count: int, avoid: np.ndarray) -> np.ndarray:
    plain = np.flatnonzero(grids["special"].isna().to_numpy() & ~np.isin(np.arange(len(grids)), avoid))
    return np.sort(rng.choice(plain, size=min(count, len(plain)), replace=False))


def _roles(city, no_worker: np.ndarray, with_people: bool) -> pd.DataFrame:
    """One row per (person, grid or building, role); ``person`` numbers people who hold several posts."""
    g = city.grids
    n = len(g)
    grid = np.arange(n)
    parts: list[pd.DataFrame] = []

    def add(role: str, grids: np.ndarray, person: np.ndarray, building: np.ndarray | None = None) -> None:
        parts.append(
            pd.DataFrame(
                {"grid": grids, "person": person, "role": role, "building": -1 if building is None else building}
            )
        )

    add("grid_leader", grid, grid)
    worker = np.setdiff1d(grid, no_worker)
    add("full_time_worker", worker, n + worker)
    part_time = np.repeat(grid, 2)
    add("part_time_worker", part_time, 2 * n + np.arange(len(part_time)))
    add("employed_party_member", np.repeat(grid, 2), 4 * n + np.arange(2 * n))
    base = 6 * n
    community = g["community_code"].astype("category").cat.codes.to_numpy().astype(np.int64)
    add("party_instructor", grid, base + community)  # one instructor per community, for all its grids
    base += community.max() + 1
    add("specialist", grid, base + grid // 4)  # a police officer for every four grids (一人多格)
    base += n // 4 + 1
    add("specialist", grid, base + grid // 10)  # a fire officer for every ten grids
    base += n // 10 + 1
    if with_people:
        b = city.buildings
        homes = np.flatnonzero((b["households"].to_numpy() > 0) & (b["grid"].to_numpy() >= 0))
        add("building_leader", b["grid"].to_numpy()[homes], base + np.arange(len(homes)), homes)
        base += len(homes)
        central = np.repeat(homes, b["households"].to_numpy()[homes] // 12)  # one per ~12 households
        add("party_central_household", b["grid"].to_numpy()[central], base + np.arange(len(central)), central)
    roles = pd.concat(parts, ignore_index=True)
    roles["person"] = pd.factorize(roles["person"])[0]  # dense 0..people-1 in first-seen order
    return roles


def write_organisation(
    conn: Connection,
    rng: np.random.Generator,
    city,
    street_ids: np.ndarray,
    comm_ids: np.ndarray,
    grid_ids: np.ndarray,
    building_ids: np.ndarray,
    with_people: bool,
) -> OrgCounts:
    """Staff with contacts and grid assignments; street, community, grid and building party organisations."""
    g = city.grids
    scale = max(1, len(g) // 200)
    no_branch = _gaps(rng, g, 3 * scale, np.empty(0, int))
    no_worker = _gaps(rng, g, 2 * scale, no_branch)
    roles = _roles(city, no_worker, with_people)
    people = int(roles["person"].max()) + 1
    staff_ids = next_ids(conn, "staff", people)
    copy_frame(
        conn,
        "staff",
        pd.DataFrame(
            {"id": staff_ids, "name": person_names(rng, people), "source_id": [f"demo:s{k}" for k in range(people)]}
        ),
        geometry=(),
    )
    copy_frame(conn, "staff_contacts", pd.DataFrame({"staff_id": staff_ids, "phone": phones(rng, people)}), geometry=())
    building = roles["building"].to_numpy()
    copy_frame(
        conn,
        "staff_assignments",
        pd.DataFrame(
            {
                "id": next_ids(conn, "staff_assignments", len(roles)),
                "staff_id": staff_ids[roles["person"]],
                "grid_id": grid_ids[roles["grid"]],
                "role": roles["role"],
                "building_id": ids_or_null(building_ids, building),
            }
        ),
        geometry=(),
    )
    orgs = _party_orgs(city, rng, street_ids, comm_ids, grid_ids, building_ids, no_branch, with_people)
    orgs["id"] = next_ids(conn, "party_orgs", len(orgs))
    copy_frame(conn, "party_orgs", orgs, geometry=())
    return OrgCounts(
        people, len(orgs), g["code"].to_numpy()[no_branch].tolist(), g["code"].to_numpy()[no_worker].tolist()
    )


def _party_orgs(city, rng, street_ids, comm_ids, grid_ids, building_ids, no_branch, with_people) -> pd.DataFrame:
    """街道党工委 → 社区党委 → 网格党支部 (missing for ``no_branch``) → 楼栋党小组 (buildings of 60+ households)."""
    g, b = city.grids, city.buildings
    branch = np.setdiff1d(np.arange(len(g)), no_branch)
    frames = [
        pd.DataFrame(
            {"name": "中共" + city.streets["name"] + "工作委员会", "level": "street_committee", "area_id": street_ids}
        ),
        pd.DataFrame(
            {"name": "中共" + city.communities["name"] + "委员会", "level": "community_committee", "area_id": comm_ids}
        ),
        pd.DataFrame(
            {"name": g["name"].to_numpy()[branch] + "党支部", "level": "grid_branch", "grid_id": grid_ids[branch]}
        ),
    ]
    if with_people:
        big = np.flatnonzero(b["households"].to_numpy() >= 60)
        frames.append(
            pd.DataFrame(
                {
                    "name": b["name"].to_numpy()[big] + "党小组",
                    "level": "building_group",
                    "building_id": building_ids[big],
                }
            )
        )
    orgs = pd.concat(frames, ignore_index=True)
    for col in ("area_id", "grid_id", "building_id"):
        orgs[col] = orgs[col].astype("Int64") if col in orgs else pd.array([pd.NA] * len(orgs), dtype="Int64")
    orgs["secretary"] = person_names(rng, len(orgs))
    return orgs


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    band = rng.choice(len(AGE_BANDS), n, p=[s for *_, s in AGE_BANDS])
    low, high = np.array([a for a, *_ in AGE_BANDS]), np.array([b for _, b, _ in AGE_BANDS])
    return rng.integers(low[band], high[band])


def write_people(conn: Connection, rng: np.random.Generator, city, building_ids: np.ndarray) -> PeopleCounts:
    """Households (unit, room, registration), residents (age, party, special groups), personal data."""
    b = city.buildings
    hh_count = b["households"].to_numpy()
    building = np.repeat(np.arange(len(b)), hh_count)
    k = pd.Series(building).groupby(building).cumcount().to_numpy()
    per_floor = 2 * b["units"].to_numpy()[building]
    floor, within = k // per_floor + 1, k % per_floor
    reg = rng.choice(list(REGISTRATION_P), len(building), p=list(REGISTRATION_P.values()))
    hh_ids = next_ids(conn, "households", len(building))
    copy_frame(
        conn,
        "households",
        pd.DataFrame(
            {
                "id": hh_ids,
                "building_id": building_ids[building],
                "unit": (within // 2 + 1).astype(str).astype(object) + "单元",
                "room": (floor * 100 + within % 2 + 1).astype(str),
                "registration_type": reg,
            }
        ),
        geometry=(),
    )

    size = rng.choice(HOUSEHOLD_SIZES, len(building), p=HOUSEHOLD_SIZE_P)
    hh = np.repeat(np.arange(len(building)), size)
    n = len(hh)
    age = _ages(rng, n)
    alone = size[hh] == 1
    age[alone] = rng.integers(25, 92, alone.sum())
    party = (age >= 18) & (rng.random(n) < PARTY_RATE_ADULTS)
    groups = _special_groups(rng, age, alone, hh, len(building))
    birth_year = REFERENCE_YEAR - age
    res_ids = next_ids(conn, "residents", n)
    copy_frame(
        conn,
        "residents",
        pd.DataFrame(
            {
                "id": res_ids,
                "household_id": hh_ids[hh],
                "building_id": building_ids[building[hh]],
                "party_member": party,
                "special_groups": groups,
                "registration_type": reg[hh],
                "birth_year": birth_year,
            }
        ),
        geometry=(),
    )
    copy_frame(
        conn,
        "resident_personal",
        pd.DataFrame(
            {
                "resident_id": res_ids,
                "name": person_names(rng, n),
                "id_number": id_numbers(rng, birth_year),
                "phone": np.where(age >= 14, phones(rng, n), np.array(None, dtype=object)),
            }
        ),
        geometry=(),
    )
    return PeopleCounts(len(building), n)


def _special_groups(
    rng: np.random.Generator, age: np.ndarray, alone: np.ndarray, hh: np.ndarray, households: int
) -> np.ndarray:
    """PostgreSQL array literals such as ``{elderly_alone,disabled}`` (COPY reads them as text[])."""
    n = len(age)
    household_flag = lambda p: (rng.random(households) < p)[hh]  # noqa: E731
    masks = {
        "elderly_alone": alone & (age >= 70),
        "disabled": rng.random(n) < 0.02,
        "hardship": household_flag(0.02),
        "left_behind_child": (age < 16) & (rng.random(n) < 0.01),
        "left_behind_elderly": (age >= 60) & ~alone & (rng.random(n) < 0.02),
        "bereaved_parents": (age >= 50) & household_flag(0.003),
        "home_isolation": rng.random(n) < 0.002,
    }
    text = np.full(n, "", dtype=object)
    for name, mask in masks.items():
        text = text + np.where(mask, name + ",", "")
    return "{" + pd.Series(text).str.rstrip(",").to_numpy(dtype=object) + "}"
