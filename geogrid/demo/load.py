"""Write the demo city with COPY, in the caller's transaction, and say what was written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection

from geogrid.basemap import write_base
from geogrid.db.bulk import copy_frame, next_ids
from geogrid.demo import areas, people
from geogrid.demo.base import base_frame
from geogrid.demo.city import City, build_city
from geogrid.i18n import t

CENTRE_LONLAT = (116.35, 39.96)  # the demo city is centred here (海淀区, Beijing)
METRIC_EPSG = 32650  # UTM zone 50N: the local frame the city is generated in
PEOPLE_MAX_BUILDINGS = 10_000  # households, residents and personal data only up to this many buildings

Progress = Callable[[str, int, int], None]


@dataclass
class DemoSummary:
    """What ``load_demo`` wrote, and where its deliberate edge cases are (by code or id)."""

    seed: int
    streets: int
    communities: int
    grids: int
    basic_grids: int
    dedicated_grids: int
    compounds: int
    buildings: int
    households: int  # sum of buildings.households
    household_rows: int  # rows in households (0 above PEOPLE_MAX_BUILDINGS)
    residents: int
    staff: int
    party_orgs: int
    facilities: int
    candidates: int
    walk_nodes: int
    walk_edges: int
    street_code: str = ""
    multipolygon_grids: list[str] = field(default_factory=list)
    holed_grids: list[str] = field(default_factory=list)
    dedicated_grid_codes: list[str] = field(default_factory=list)
    boundary_buildings: list[int] = field(default_factory=list)  # exactly on a shared grid boundary
    outside_buildings: list[int] = field(default_factory=list)  # outside every grid
    grids_without_branch: list[str] = field(default_factory=list)
    grids_without_full_time_worker: list[str] = field(default_factory=list)


class LonLat:
    """Moves geometries from the local metric frame (metres from the city's south-west) to lon/lat."""

    def __init__(self, city: City) -> None:
        east, north = Transformer.from_crs(4326, METRIC_EPSG, always_xy=True).transform(*CENTRE_LONLAT)
        self.dx, self.dy = east - city.lattice.width / 2, north - city.lattice.height / 2
        self._t = Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._t.transform(np.asarray(x) + self.dx, np.asarray(y) + self.dy)

    def geoms(self, geoms) -> np.ndarray:
        return shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        return shapely.points(*self.xy(frame["x"].to_numpy(), frame["y"].to_numpy()))


def load_demo(
    conn: Connection, buildings: int | None = None, seed: int = 7, on_progress: Progress | None = None
) -> DemoSummary:
    """Generate the demo city for ``seed`` (``buildings`` scales it) and COPY it in on ``conn``'s transaction."""
    step = on_progress or (lambda *_: None)
    steps = 6
    step(t("generating the city"), 0, steps)
    city = build_city(buildings, seed)
    to = LonLat(city)
    step(t("areas and grids"), 1, steps)
    street_ids, comm_ids, grid_ids = _write_areas(conn, city, to)
    step(t("compounds and buildings"), 2, steps)
    compound_ids, building_ids = _write_buildings(conn, city, to, comm_ids)
    step(t("facilities and walking network"), 3, steps)
    _write_facilities(conn, city, to)
    _write_network(conn, city, to)
    write_base(conn, base_frame(city).assign(geom=lambda f: to.geoms(f["geom"])))
    step(t("staff, party and residents"), 4, steps)
    with_people = len(city.buildings) <= PEOPLE_MAX_BUILDINGS
    rng = np.random.default_rng(seed + 1)
    org = people.write_organisation(conn, rng, city, street_ids, comm_ids, grid_ids, building_ids, with_people)
    counts = people.write_people(conn, rng, city, building_ids) if with_people else people.PeopleCounts()
    step(t("done"), steps, steps)

    return _summary(city, seed, building_ids, org, counts)


def _write_areas(conn: Connection, city: City, to: LonLat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """District, streets, communities and grids (with their first version); returns their ids."""
    streets, comms, grids = city.streets, city.communities, city.grids
    ids = next_ids(conn, "admin_areas", 1 + len(streets) + len(comms))
    street_ids, comm_ids = ids[1 : 1 + len(streets)], ids[1 + len(streets) :]
    street_of = dict(zip(streets["code"], street_ids, strict=True))
    frame = pd.DataFrame(
        {
            "id": ids,
            "code": [areas.DISTRICT_CODE, *streets["code"], *comms["code"]],
            "name": [areas.DISTRICT_NAME, *streets["name"], *comms["name"]],
            "level": ["district"] + ["street"] * len(streets) + ["community"] * len(comms),
            "parent_id": pd.array(
                [None] + [ids[0]] * len(streets) + [street_of[c] for c in comms["street_code"]], dtype="Int64"
            ),
            "geom": [None, *to.geoms(_multi(streets["geom"])), *to.geoms(_multi(comms["geom"]))],
            "source_id": ["demo"] * len(ids),
        }
    )
    copy_frame(conn, "admin_areas", frame)
    comm_of = dict(zip(comms["code"], comm_ids, strict=True))
    grid_ids = next_ids(conn, "grids", len(grids))
    gframe = pd.DataFrame(
        {
            "id": grid_ids,
            "code": grids["code"],
            "name": grids["name"],
            "kind": grids["kind"],
            "community_id": [comm_of[c] for c in grids["community_code"]],
            "geom": to.geoms(grids["geom"]),
            "version": 1,
            "author": "demo",
            "source_id": "demo:" + grids["code"],
        }
    )
    copy_frame(conn, "grids", gframe)
    copy_frame(
        conn,
        "grid_versions",
        gframe[["id", "version", "name", "kind", "community_id", "geom", "author"]]
        .rename(columns={"id": "grid_id"})
        .assign(valid_from=pd.Timestamp.now(tz="UTC").isoformat(), note="demo city"),
    )
    return street_ids, comm_ids, grid_ids


def _multi(geoms: pd.Series) -> list:
    return [g if g.geom_type == "MultiPolygon" else shapely.multipolygons([g]) for g in geoms]


def _write_buildings(conn: Connection, city: City, to: LonLat, comm_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    homes, b = city.compounds, city.buildings
    comm_index = {k: n for n, k in enumerate(zip(city.communities["ci"], city.communities["cj"], strict=True))}
    compound_ids = next_ids(conn, "compounds", len(homes))
    copy_frame(
        conn,
        "compounds",
        pd.DataFrame(
            {
                "id": compound_ids,
                "name": homes["name"],
                "address": homes["address"],
                "community_id": [comm_ids[comm_index[k]] for k in zip(homes["ci"], homes["cj"], strict=True)],
                "geom": to.geoms(homes["geom"]),
                "source_id": [f"demo:c{k}" for k in range(len(homes))],
            }
        ),
    )
    building_ids = next_ids(conn, "buildings", len(b))
    compound = b["compound"].fillna(-1).to_numpy(dtype=np.int64)
    copy_frame(
        conn,
        "buildings",
        pd.DataFrame(
            {
                "id": building_ids,
                "source_id": "demo:b" + pd.Series(np.arange(len(b))).astype(str),
                "name": b["name"],
                "address": b["address"],
                "compound_id": people.ids_or_null(compound_ids, compound),
                "number": b["number"].astype("string"),
                "floors": b["floors"],
                "households": b["households"],
                "geom": to.points(b),
            }
        ),
    )
    return compound_ids, building_ids


def _write_facilities(conn: Connection, city: City, to: LonLat) -> None:
    f = city.facilities
    ids = next_ids(conn, "facilities", len(f))
    copy_frame(
        conn,
        "facilities",
        pd.DataFrame(
            {
                "id": ids,
                "source_id": [f"demo:f{k}" for k in range(len(f))],
                "name": f["name"],
                "kind": f["kind"],
                "circle_minutes": f["circle_minutes"],
                "address": f["address"],
                "candidate": f["candidate"],
                "geom": to.points(f),
            }
        ),
    )


def _write_network(conn: Connection, city: City, to: LonLat) -> None:
    nodes, edges = city.nodes, city.edges
    node_ids = next_ids(conn, "walk_nodes", len(nodes))
    copy_frame(conn, "walk_nodes", pd.DataFrame({"id": node_ids, "geom": to.points(nodes)}))
    copy_frame(
        conn,
        "walk_edges",
        pd.DataFrame(
            {
                "id": next_ids(conn, "walk_edges", len(edges)),
                "source": node_ids[edges["source"]],
                "target": node_ids[edges["target"]],
                "length_m": edges["length_m"].round(2),
                "geom": to.geoms(edges["geom"]),
            }
        ),
    )


def _summary(
    city: City, seed: int, building_ids: np.ndarray, org: people.OrgCounts, counts: people.PeopleCounts
) -> DemoSummary:
    g, b = city.grids, city.buildings
    kind = b["kind"].to_numpy()
    return DemoSummary(
        seed=seed,
        streets=len(city.streets),
        communities=len(city.communities),
        grids=len(g),
        basic_grids=int((g["kind"] == "basic").sum()),
        dedicated_grids=int((g["kind"] == "dedicated").sum()),
        compounds=len(city.compounds),
        buildings=len(b),
        households=int(b["households"].sum()),
        household_rows=counts.households,
        residents=counts.residents,
        staff=org.staff,
        party_orgs=org.party_orgs,
        facilities=len(city.facilities),
        candidates=int(city.facilities["candidate"].sum()),
        walk_nodes=len(city.nodes),
        walk_edges=len(city.edges),
        street_code=str(city.streets["code"].iloc[0]),
        multipolygon_grids=g.loc[g["special"] == "multi", "code"].tolist(),
        holed_grids=g.loc[g["special"] == "hole", "code"].tolist(),
        dedicated_grid_codes=g.loc[g["kind"] == "dedicated", "code"].tolist(),
        boundary_buildings=building_ids[kind == "boundary"].tolist(),
        outside_buildings=building_ids[kind == "outside"].tolist(),
        grids_without_branch=org.grids_without_branch,
        grids_without_full_time_worker=org.grids_without_full_time_worker,
    )
