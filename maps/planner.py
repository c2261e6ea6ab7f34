"""The planner page (pick a grid; redraw, split, merge it or move buildings into it; preview; apply) and a
plan's before/after map.

Pages are folium maps with Leaflet and Leaflet.draw served locally (:func:`maps.assets.localise`). Grids
are shown in the base map's datum (:func:`maps.geojson.display_crs`): over GCJ-02 or BD-09 tiles the drawn
boundary is sent with ``crs`` so the API converts it back to WGS84 before storing it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import folium
import numpy as np
import shapely
from branca.element import Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template
from sqlalchemy import Connection, text

from geogrid.crs import from_wgs84
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.planning.validate import community_ids
from geogrid.settings import get_settings
from maps.assets import localise, vendored
from maps.geojson import display_crs
from maps.planner_text import planner_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
GRIDS_SQL = """
SELECT g.id, g.code, g.name, g.kind, g.version, c.code AS community, ST_AsBinary(g.geom) AS wkb
FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id
WHERE g.valid_to IS NULL AND (CAST(:cids AS int[]) IS NULL OR g.community_id = ANY(CAST(:cids AS int[])))
ORDER BY g.code
"""

BUILDINGS_SQL = """
SELECT b.id, b.source_id, b.address, b.households, g.code AS grid, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat
FROM buildings b JOIN building_assignments a ON a.building_id = b.id JOIN grids g ON g.id = a.grid_id
WHERE g.valid_to IS NULL AND (CAST(:cids AS int[]) IS NULL OR g.community_id = ANY(CAST(:cids AS int[])))
ORDER BY b.id LIMIT :limit
"""
MAX_BUILDINGS = 5000  # markers the planner draws; more (a whole city) asks the planner to pick a community

Bounds = tuple[float, float, float, float]  # west, south, east, north


def _safe(data: object) -> str:
    """JSON for a <script>: a ``</`` in a grid name must not close it."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")


class Planner(JSCSSMixin, MacroElement):
    """The planner panel and its script (``maps/templates/planner.js``), bound to the folium map."""

    _template = Template("""
        {% macro html(this, kwargs) %}{{ this.panel }}{% endmacro %}
        {% macro script(this, kwargs) %}
        geogridPlanner({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
    """)
    default_js = [("leaflet_draw_js", "draw/leaflet.draw.js")]
    default_css = [("leaflet_draw_css", "draw/leaflet.draw.css")]

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "GeogridPlanner"
        words = planner_text()
        self.config = _safe({**config, "text": words})
        panel = (TEMPLATES / "planner_panel.html").read_text(encoding="utf-8")
        self.panel = panel.format(**{k: html.escape(v) for k, v in words.items()})


def _feature_collection(rows: list, geoms: np.ndarray) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))}
            for props, g in zip(rows, geoms, strict=True)
        ],
    }


def _extent(geoms: np.ndarray) -> Bounds | None:
    """The bounds of some geometries (None for none: the map then starts on the whole world)."""
    if not len(geoms):
        return None
    west, south, east, north = (float(v) for v in shapely.total_bounds(geoms))
    return west, south, east, north


def _base_map(bounds: Bounds | None) -> folium.Map:
    settings = get_settings()
    tiles = (
        folium.TileLayer(settings.tile_url, attr=settings.tile_attribution or "base map", max_zoom=19, control=False)
        if settings.tile_url
        else None
    )
    m = folium.Map(location=[0, 0], zoom_start=14, tiles=tiles, control_scale=True, max_zoom=20)
    if bounds:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def _figure(m: folium.Map) -> Figure:
    """The HTML page a map renders into: folium gives every map one (declared as a plain ``Element``)."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"a folium map renders into a Figure, not {type(root).__name__}")
    return root


def _page(m: folium.Map, static_url: str) -> str:
    if not vendored():
        raise GeogridError(t("Leaflet is not installed locally: run `make maps-vendor` (npm ci --prefix maps)"))

    script = "\n".join((TEMPLATES / name).read_text(encoding="utf-8") for name in ("planner.js", "paint.js"))
    page = _figure(m)
    page.header.add_child(folium.Element(f"<style>{(TEMPLATES / 'planner.css').read_text(encoding='utf-8')}</style>"))
    page.header.add_child(folium.Element(f"<script>{script}</script>"))
    localise(m, static_url)
    return page.render()


def grids_for_display(conn: Connection, community: str | None) -> tuple[dict, Bounds | None]:
    """Grids in force as GeoJSON in the display datum, and their WGS84-shifted bounds for the view."""
    cids = community_ids(conn, community)
    rows = conn.execute(text(GRIDS_SQL), {"cids": cids}).all()
    geoms = shapely.from_wkb(np.asarray([bytes(r.wkb) for r in rows], dtype=object)) if rows else np.empty(0)
    geoms = from_wgs84(geoms, display_crs()) if len(geoms) else geoms
    props = [
        {"code": r.code, "name": r.name, "kind": r.kind, "version": r.version, "community": r.community} for r in rows
    ]
    return _feature_collection(props, geoms), _extent(geoms)


def buildings_for_display(conn: Connection, community: str | None) -> dict:
    """Buildings of the grids shown (id, address, households, grid), as points in the display datum.

    Empty, with ``too_many`` set, past :data:`MAX_BUILDINGS`: markers for a whole city help no one.
    """
    rows = conn.execute(text(BUILDINGS_SQL), {"cids": community_ids(conn, community), "limit": MAX_BUILDINGS + 1}).all()
    if len(rows) > MAX_BUILDINGS:
        return {"type": "FeatureCollection", "features": [], "too_many": True}
    points = shapely.points(np.asarray([(r.lon, r.lat) for r in rows], dtype=float).reshape(-1, 2))
    points = from_wgs84(points, display_crs()) if len(points) else points
    props = [
        {"id": r.id, "label": r.address or r.source_id or str(r.id), "households": r.households, "grid": r.grid}
        for r in rows
    ]
    return _feature_collection(props, points)


def units_for_display(conn: Connection, community: str) -> dict:
    """The units of a community in the display datum with what the paint mode's live bar sums (households,
    households within a 5-minute area, neighbours) and the figures and band of the community's grids."""
    from geogrid.planning.painting import community_units
    from geogrid.planning.preview import grid_stats

    units = community_units(conn, community)
    geoms = from_wgs84(units.geoms, display_crs()) if len(units.geoms) else units.geoms
    features = [
        {
            "type": "Feature",
            "id": uid,
            "properties": {
                "id": uid,
                "kind": units.kinds[k],
                "label": units.labels[k],
                "grid": units.grids[k],
                "households": units.households[k],
                "covered_households": units.covered[k],
                "buildings": units.buildings[k],
                "neighbours": [units.ids[j] for j in units.neighbours[k]],
            },
            "geometry": json.loads(shapely.to_geojson(geoms[k])),
        }
        for k, uid in enumerate(units.ids)
    ]
    rows = conn.execute(text(GRIDS_SQL), {"cids": community_ids(conn, community)}).all()
    stats = grid_stats(conn, [r.id for r in rows], units.basis) if rows else {}
    bands = get_settings().household_bands
    grids = [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "version": r.version,
            "households": stats[r.id]["households"],
            "covered_households": stats[r.id]["covered_households"],
            "parts": stats[r.id]["parts"],
            "band": bands.get(r.kind, bands["basic"]),
        }
        for r in rows
    ]
    return {
        "type": "FeatureCollection",
        "community": community,
        "coverage_basis": units.basis,
        "grids": grids,
        "features": features,
    }


def planner_html(conn: Connection, community: str | None, static_url: str, api_url: str = "") -> str:
    """The planner page for one community (or all grids)."""
    grids, bounds = grids_for_display(conn, community)
    if bounds is None and community is not None:  # a community with no grids yet: show its outline's extent
        box = conn.execute(
            text(
                "SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north "
                "FROM (SELECT ST_Extent(geom) AS e FROM admin_areas WHERE id = ANY(:c)) x"
            ),
            {"c": community_ids(conn, community)},
        ).first()
        bounds = (box.west, box.south, box.east, box.north) if box and box.west is not None else None
    m = _base_map(bounds)
    m.add_child(
        Planner(
            {
                "grids": grids,
                "buildings": buildings_for_display(conn, community),
                "api": api_url,
                "crs": display_crs(),
                "community": community,
            }
        )
    )
    return _page(m, static_url)


def _household_labels(m: folium.Map, plan: dict, geoms: np.ndarray, fc: dict) -> None:
    """Each changed grid labelled with its households before → after, inside its new outline."""
    figures = {g["code"]: g for g in plan["preview"].get("grids", [])}
    for feature, geom in zip(fc["features"], geoms, strict=True):
        g = figures.get(feature["properties"]["code"])
        if g is None or geom is None or shapely.is_empty(geom):
            continue
        before, after = ((g.get(k) or {}).get("households", "—") for k in ("before", "after"))
        text_ = f"{html.escape(g['code'])}<br>{before} → {after} 户"
        point = shapely.point_on_surface(geom)
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=f'<div class="plan-label">{text_}</div>',
                icon_size=(140, 30),
                icon_anchor=(70, 15),
                class_name="plan-label-icon",
            ),
        ).add_to(m)


def plan_map_html(plan: dict, static_url: str) -> str:
    """Before (dashed) and after (filled) boundaries of a plan, with the moved totals in the title."""
    geometry = plan["preview"]["geometry"]
    crs = display_crs()
    layers = {}
    for key in ("before", "after"):
        fc = geometry[key]
        geoms = shapely.from_geojson(np.asarray([json.dumps(f["geometry"]) for f in fc["features"]], dtype=object))
        geoms = from_wgs84(geoms, crs) if len(geoms) else geoms
        layers[key] = (_feature_collection([f["properties"] for f in fc["features"]], geoms), geoms)
    every = np.concatenate([layers["before"][1], layers["after"][1]])
    m = _base_map(_extent(every))
    styles = {
        "before": {"color": "#636363", "weight": 2.5, "dashArray": "6 4", "fill": False},
        "after": {"color": "#0072B2", "weight": 2, "fillColor": "#0072B2", "fillOpacity": 0.3},
    }
    for key in ("after", "before"):  # the old outline is drawn over the new fill, so both stay visible
        fc = layers[key][0]
        if not fc["features"]:  # a plan of new grids only (a partition) has nothing before
            continue
        folium.GeoJson(
            fc,
            name=f"{key} ({'变更前 dashed grey' if key == 'before' else '变更后 filled blue'})",
            style_function=lambda _, s=styles[key]: s,
            tooltip=folium.GeoJsonTooltip(["code"]),
        ).add_to(m)
    _household_labels(m, plan, layers["after"][1], layers["after"][0])
    folium.LayerControl(collapsed=False).add_to(m)
    moved = t(
        "{buildings} buildings, {households} households, {residents} residents, {facilities} facilities change grid.",
        **plan["preview"]["moved"]["totals"],
    )
    title = html.escape(t("plan {plan} ({status}): {moved}", plan=plan["plan"], status=plan["status"], moved=moved))
    _figure(m).html.add_child(folium.Element(f'<div class="planner-title" id="plan-title">{title}</div>'))
    return _page(m, static_url)
