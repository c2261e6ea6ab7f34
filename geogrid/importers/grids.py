"""Grids: polygons with a code, a kind and the community they lie in.

The community comes from ``--community-field`` (a community code or name), else spatially: the community
that holds most of the grid's area, measured in metres. A grid without a code gets the next code of its
community in reading order (``geogrid.codes``). Re-importing updates grids by code; a changed boundary
becomes a new version (kept in ``grid_versions``); the code of a retired grid is refused, never reused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geogrid.codes import grid_code, next_sequence, reading_order
from geogrid.crs import metric_epsg
from geogrid.db.bulk import fetch_geoms
from geogrid.i18n import t
from geogrid.importers.geometry import polygons
from geogrid.importers.read import Source
from geogrid.importers.upsert import ImportReport, stage

KINDS = {
    "basic": "basic",
    "基础": "basic",
    "基础网格": "basic",
    "dedicated": "dedicated",
    "专属": "dedicated",
    "专属网格": "dedicated",
    "专项网格": "dedicated",
}


def import_grids(
    conn: Connection,
    source: Source,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    kind_field: str | None = None,
    community_field: str | None = None,
    id_field: str | None = None,
    kind: str = "basic",
) -> ImportReport:
    """Upsert the file's grids by code (generating missing codes) and record each new boundary version."""
    code_col = source.column(code_field, "code")
    name_col = source.column(name_field, "name")
    codes, names = source.text(code_col), source.text(name_col)
    kinds = parse_kinds(source, source.column(kind_field, "kind"), kind)
    geoms = polygons(source)
    communities = community_ids(conn, source, geoms, source.column(community_field, "community"))
    codes = fill_codes(conn, source, codes, communities, geoms)
    frame = pd.DataFrame(
        {
            "code": codes,
            "name": np.where(names == None, codes, names),  # noqa: E711
            "kind": kinds,
            "community_id": pd.array(communities, dtype="Int64"),
            "geom": geoms,
            "source_id": source.source_ids(id_field) if id_field or code_col is None else codes,
            "version": 1,
        }
    )
    refuse_retired(conn, source, codes, code_col)
    temp = stage(conn, "grids", frame, tick=source.tick, source=source)
    updated, inserted, changed = _merge(conn, temp)
    return ImportReport(t("grids"), len(frame), updated, inserted, new_boundaries=changed)


def parse_kinds(source: Source, column: str | None, default: str) -> np.ndarray:
    values = source.text(column)
    kinds = np.asarray([KINDS.get(v.lower() if v else default, None) for v in values], dtype=object)
    source.first_bad(
        kinds == None,  # noqa: E711
        lambda i: t("unknown grid kind '{kind}': use basic or dedicated", kind=values[i]),
        column,
    )
    return kinds


def community_ids(conn: Connection, source: Source, geoms: np.ndarray, column: str | None) -> np.ndarray:
    """Community id per grid: by the column's code or name, else the community holding most of its area."""
    found = fetch_geoms(
        conn, "SELECT id, code, name, ST_AsBinary(geom) FROM admin_areas WHERE level = 'community' ORDER BY code"
    )
    if column:
        values = source.text(column)
        lookup = {
            **dict(zip(found["name"], found["id"], strict=True)),
            **dict(zip(found["code"], found["id"], strict=True)),
        }
        ids = np.asarray([lookup.get(v) for v in values], dtype=object)
        source.first_bad(
            (ids == None) & (values != None),  # noqa: E711
            lambda i: t("no community with code or name '{community}' (import areas first)", community=values[i]),
            column,
        )
        return ids
    out = np.full(len(geoms), None, dtype=object)
    found = found[found["geom"].notna()]
    if found.empty or not len(geoms):
        return out
    bounds = shapely.total_bounds(geoms)
    to_metric = Transformer.from_crs(
        4326, metric_epsg((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2), always_xy=True
    )
    project = lambda g: shapely.transform(g, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))  # noqa: E731
    grids_m, comms_m = project(geoms), project(found["geom"].to_numpy())
    gi, ci = shapely.STRtree(comms_m).query(grids_m, predicate="intersects")
    area = shapely.area(shapely.intersection(grids_m[gi], comms_m[ci]))
    order = np.lexsort((ci, -area, gi))  # per grid: largest shared area first, then lowest code
    gi, ci = gi[order], ci[order]
    first = np.unique(gi, return_index=True)[1]
    out[gi[first]] = found["id"].to_numpy()[ci[first]]
    return out


def fill_codes(
    conn: Connection, source: Source, codes: np.ndarray, communities: np.ndarray, geoms: np.ndarray
) -> np.ndarray:
    """Generate the codes that are missing: per community, in reading order, after every code it ever had."""
    codes = codes.copy()
    missing = codes == None  # noqa: E711
    source.first_bad(
        missing & (communities == None),  # noqa: E711
        lambda i: t("grid has no code and lies in no community (give --code-field or import communities)"),
        "code",
    )
    if missing.any():
        area_codes = {
            r.id: r.code for r in conn.execute(text("SELECT id, code FROM admin_areas WHERE level = 'community'"))
        }
        points = shapely.point_on_surface(geoms)
        for community in pd.unique(communities[missing]):
            rows = np.flatnonzero(missing & (communities == community))
            prefix = area_codes[community]
            taken = list(conn.scalars(text("SELECT code FROM grids WHERE code LIKE :p"), {"p": prefix + "%"}))
            seq = next_sequence(taken + [c for c in codes if c], prefix)
            heights = shapely.bounds(geoms[rows])[:, 3] - shapely.bounds(geoms[rows])[:, 1]
            order = reading_order(
                shapely.get_x(points[rows]), shapely.get_y(points[rows]), max(float(np.median(heights)) / 2, 1e-9)
            )
            for k, row in enumerate(rows[order]):
                codes[row] = grid_code(prefix, seq + k)
    source.first_bad(
        pd.Series(codes).duplicated().to_numpy(), lambda i: t("code '{code}' appears twice", code=codes[i]), "code"
    )
    return codes


def refuse_retired(conn: Connection, source: Source, codes: np.ndarray, column: str | None) -> None:
    retired = set(
        conn.scalars(text("SELECT code FROM grids WHERE valid_to IS NOT NULL AND code = ANY(:c)"), {"c": list(codes)})
    )
    source.first_bad(
        np.isin(codes, list(retired)),
        lambda i: t("code '{code}' belongs to a retired grid; codes are never reused", code=codes[i]),
        column,
    )


def _merge(conn: Connection, temp: str) -> tuple[int, int, int]:
    """Update grids by code (a changed boundary bumps the version), insert new ones, record versions."""
    updated = conn.execute(
        text(
            f"UPDATE grids t SET name = s.name, kind = s.kind, community_id = s.community_id, source_id = s.source_id, "
            f"geom = s.geom, version = t.version + CASE WHEN ST_Equals(t.geom, s.geom) THEN 0 ELSE 1 END, "
            f"valid_from = CASE WHEN ST_Equals(t.geom, s.geom) THEN t.valid_from ELSE now() END "
            f"FROM {temp} s WHERE t.code = s.code"
        )
    ).rowcount
    inserted = conn.execute(
        text(
            f"INSERT INTO grids (code, name, kind, community_id, geom, source_id, version) "
            f"SELECT code, name, kind, community_id, geom, source_id, 1 FROM {temp} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM grids t WHERE t.code = s.code)"
        )
    ).rowcount
    conn.execute(
        text(
            f"UPDATE grid_versions v SET valid_to = now() FROM grids g JOIN {temp} s ON s.code = g.code "
            f"WHERE v.grid_id = g.id AND v.valid_to IS NULL AND v.version < g.version"
        )
    )
    changed = conn.execute(
        text(
            f"INSERT INTO grid_versions (grid_id, version, name, kind, community_id, geom, valid_from, author, note) "
            f"SELECT g.id, g.version, g.name, g.kind, g.community_id, g.geom, g.valid_from, 'import', 'imported' "
            f"FROM grids g JOIN {temp} s ON s.code = g.code WHERE NOT EXISTS "
            f"(SELECT 1 FROM grid_versions v WHERE v.grid_id = g.id AND v.version = g.version)"
        )
    ).rowcount
    return updated, inserted, changed
