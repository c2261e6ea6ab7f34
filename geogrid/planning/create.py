"""The ``create`` edit: a brand-new grid drawn inside a community (the planner's "new grid", and partitions).

``{"op": "create", "community": CODE, "geometry": GeoJSON polygon, "name": ..., "kind": "basic",
"from": [CODE, ...]}``: the polygon is clipped to the community; grids in force lose the area it takes,
and those left with none retire (the new grid is then their successor in the lineage, as are the grids
named in ``from``, e.g. the grid an oversized one was rebalanced out of).
"""

from __future__ import annotations

import shapely
from sqlalchemy import text

from geogrid.errors import InputError, NotFound
from geogrid.i18n import t
from geogrid.planning.edit_models import Create
from geogrid.planning.edits import SLIVER_DEG2, WorkGrid, Workspace, _geometry, polygonal
from geogrid.settings import get_settings

SLIVER_WIDTH_DEG = 5e-6  # area / perimeter of a part, in degrees: about half a metre

COMMUNITY_SQL = (
    "SELECT id, code, name, ST_AsBinary(geom) FROM admin_areas WHERE level = 'community' "
    "AND (code = :c OR name = :c) ORDER BY id LIMIT 1"
)


def create(ws: Workspace, edit: Create, i: int) -> None:
    """Add a new grid; existing grids give up what it covers."""
    where = f"edits[{i}].community"
    row = ws.conn.execute(text(COMMUNITY_SQL), {"c": edit.community}).first()
    if row is None:
        raise NotFound(t("no community with code or name '{community}'", community=edit.community))
    geom = _geometry(edit, "geometry", i, ("Polygon", "MultiPolygon"), ws.changes.repairs)
    if row[3] is not None:
        geom = polygonal(shapely.intersection(geom, shapely.from_wkb(bytes(row[3]))))
    if geom.is_empty or geom.area <= SLIVER_DEG2:
        raise InputError(t("the new grid lies outside community {community}", community=row[1]), field=where)
    kind = edit.kind or "basic"
    if kind not in get_settings().household_bands:
        raise InputError(
            t("unknown grid kind '{kind}': use {kinds}", kind=kind, kinds=list(get_settings().household_bands)),
            field=f"edits[{i}].kind",
        )
    parents = [p for c in edit.from_ for p in _ids(ws, c, f"edits[{i}].from")]
    for other in ws.neighbours(geom, exclude=None):
        rest = _without_slivers(polygonal(shapely.difference(other.geom, geom)))
        if rest.is_empty:
            other.retired = True
            parents += [other.id] if other.id else list(other.parents)
        else:
            other.geom, other.changed = rest, True
    name = edit.name or t("{community} new grid", community=row[2])
    ws.add(WorkGrid(None, None, name, kind, row[0], row[1], geom, parents=list(dict.fromkeys(parents))))


def _without_slivers(geom: shapely.Geometry) -> shapely.Geometry:
    """Drop parts thinner than about half a metre: what is left of a grid along a new one's edge is noise."""
    parts = [p for p in shapely.get_parts(geom) if p.area > SLIVER_DEG2 and p.area / p.length > SLIVER_WIDTH_DEG]
    return shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()


def _ids(ws: Workspace, code: str, where: str) -> list[int]:
    grid = ws.grid(code, where)
    return [grid.id] if grid.id else list(grid.parents)
