"""What partitions need from an OpenStreetMap extract (read with pyrosm): barrier lines that blocks are cut
by (roads, rivers, railways) and compounds (``landuse=residential``, and areas closed by a wall or fence).

Service roads, footways and paths are left out: they run inside compounds and campuses, which grids keep
whole. Tunnels and underground railways cut nothing. Rows are replaced by source id (``osm:way/123``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.i18n import t
from geogrid.importers.upsert import ImportReport

ROADS = [
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
]
WATERWAYS = ["river", "canal"]
RAILWAYS = ["rail", "light_rail", "narrow_gauge"]
COMPOUND_M2 = (2_000.0, 400_000.0)  # a closed wall/fence, or residential land, of this size is a compound


def _frame(osm, tags: dict) -> pd.DataFrame | None:
    frame = osm.get_data_by_custom_criteria(
        custom_filter=tags, filter_type="keep", keep_nodes=False, keep_relations=False
    )
    return None if frame is None or frame.empty else frame


def _source_ids(frame: pd.DataFrame) -> np.ndarray:
    kinds = frame["osm_type"].fillna("way") if "osm_type" in frame else pd.Series("way", index=frame.index)
    return ("osm:" + kinds.astype(str) + "/" + frame["id"].astype("int64").astype(str)).to_numpy(dtype=object)


def barrier_lines(osm) -> pd.DataFrame:
    """``kind, source_id, geom`` (LineStrings, lon/lat) of roads, rivers and railways above ground."""
    parts = []
    for kind, key, values in (
        ("road", "highway", ROADS),
        ("river", "waterway", WATERWAYS),
        ("railway", "railway", RAILWAYS),
    ):
        frame = _frame(osm, {key: values})
        if frame is None:
            continue
        above = np.ones(len(frame), dtype=bool)
        for col in ("tunnel", "layer"):
            if col in frame:
                v = frame[col].astype(str)
                above &= ~(v.isin(["yes", "building_passage", "culvert"]) if col == "tunnel" else v.str.startswith("-"))
        frame = frame[above]
        geoms = np.asarray(frame.geometry.array, dtype=object)
        ids = _source_ids(frame)
        lines, idx = shapely.get_parts(geoms, return_index=True)
        keep = shapely.get_type_id(lines) == 1
        parts.append(pd.DataFrame({"kind": kind, "source_id": ids[idx[keep]], "geom": lines[keep]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["kind", "source_id", "geom"])


def _area_m2(geoms: np.ndarray) -> np.ndarray:
    lat = np.radians(np.nan_to_num(shapely.bounds(geoms)[:, 1]))
    return shapely.area(geoms) * 111_320.0 * 110_540.0 * np.cos(lat)


def osm_compounds(osm) -> pd.DataFrame:
    """``source_id, name, geom`` (MultiPolygons, lon/lat) of residential land and walled or fenced areas."""
    frames = []
    land = osm.get_landuse(custom_filter={"landuse": ["residential"]})
    if land is not None and not land.empty:
        frames.append(land)
    fenced = _frame(osm, {"barrier": ["wall", "fence"]})
    if fenced is not None:
        frames.append(fenced)
    if not frames:
        return pd.DataFrame(columns=["source_id", "name", "geom"])
    frame = pd.concat(frames, ignore_index=True)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    rings = (shapely.get_type_id(geoms) == 1) & shapely.is_closed(geoms)
    for i in np.flatnonzero(rings):  # a closed wall or fence encloses an area
        if len(geoms[i].coords) >= 4:
            geoms[i] = shapely.Polygon(geoms[i].coords)
    geoms = shapely.make_valid(geoms)
    polys = np.asarray(
        [shapely.MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]) for g in geoms],
        dtype=object,
    )
    area = np.where(shapely.is_empty(polys), 0.0, _area_m2(polys))
    keep = (area >= COMPOUND_M2[0]) & (area <= COMPOUND_M2[1])
    names = frame["name"] if "name" in frame else pd.Series(None, index=frame.index, dtype=object)
    ids = _source_ids(frame)
    return pd.DataFrame(
        {"source_id": ids[keep], "name": names.to_numpy(dtype=object)[keep], "geom": polys[keep]}
    ).drop_duplicates("source_id")


def write_layers(conn: Connection, lines: pd.DataFrame, compounds: pd.DataFrame) -> list[ImportReport]:
    """Replace the OSM barrier lines; upsert OSM compounds by source id (buildings may point at them)."""
    conn.execute(text("DELETE FROM barrier_lines WHERE source_id LIKE 'osm:%'"))
    if len(lines):
        conn.execute(
            text(
                "INSERT INTO barrier_lines (kind, source_id, geom) SELECT k, s, ST_GeomFromWKB(w, 4326) "
                "FROM unnest(CAST(:k AS text[]), CAST(:s AS text[]), CAST(:w AS bytea[])) AS v(k, s, w)"
            ),
            {
                "k": lines["kind"].tolist(),
                "s": lines["source_id"].tolist(),
                "w": [shapely.to_wkb(g) for g in lines["geom"]],
            },
        )
    params = {
        "s": compounds["source_id"].tolist(),
        "n": [
            n if isinstance(n, str) and n else t("compound {id}", id=s.rsplit("/", 1)[-1])
            for n, s in zip(compounds["name"], compounds["source_id"], strict=True)
        ],
        "w": [shapely.to_wkb(g) for g in compounds["geom"]],
    }
    updated = conn.execute(
        text(
            "UPDATE compounds c SET name = v.n, geom = ST_Multi(ST_GeomFromWKB(v.w, 4326)) "
            "FROM unnest(CAST(:s AS text[]), CAST(:n AS text[]), CAST(:w AS bytea[])) AS v(s, n, w) "
            "WHERE c.source_id = v.s"
        ),
        params,
    ).rowcount
    inserted = conn.execute(
        text(
            "INSERT INTO compounds (source_id, name, geom) SELECT v.s, v.n, ST_Multi(ST_GeomFromWKB(v.w, 4326)) "
            "FROM unnest(CAST(:s AS text[]), CAST(:n AS text[]), CAST(:w AS bytea[])) AS v(s, n, w) "
            "WHERE NOT EXISTS (SELECT 1 FROM compounds c WHERE c.source_id = v.s)"
        ),
        params,
    ).rowcount
    return [
        ImportReport(t("barrier lines (roads, rivers, railways)"), len(lines), 0, len(lines)),
        ImportReport(t("compounds"), len(compounds), updated, inserted),
    ]


def import_layers(conn: Connection, osm, buildings: pd.DataFrame) -> list[ImportReport]:
    """Barrier lines and compounds of an extract opened by :func:`geogrid.importers.osm.read_osm`, and household
    estimates for its ``buildings`` (as just written, with their ``building`` tag) that have no real figures."""
    from geogrid.partition.households import store_estimates

    reports = write_layers(conn, barrier_lines(osm), osm_compounds(osm))
    estimated = store_estimates(conn, buildings)
    return [*reports, ImportReport(t("household estimates"), 0, estimated=estimated)]
