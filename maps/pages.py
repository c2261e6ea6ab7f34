"""The coverage and grid maps: folium pages with local Leaflet, data embedded or fetched from the API.

Small maps (a community) embed their layers, so a written file works on its own; city-scale maps
reference ``/maps/layers/...`` GeoJSON instead, drawn on a canvas, with clustered markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlencode

import folium
import pandas as pd
from branca.element import Figure
from folium.plugins import Fullscreen
from sqlalchemy import Connection, text

from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.model import SPECIAL_GROUPS
from geogrid.settings import get_settings
from maps import data, geojson, tiles
from maps.assets import localise
from maps.elements import DataLayer, Finish, Setup, Title

EMBED_MAX_GRIDS = 1500  # above this a served page fetches its layers instead of embedding them
CANVAS_MIN_GRIDS = 1500  # SVG keeps one DOM node per polygon; a canvas stays fast at 20k grids
BLANK_BASE = "#f4f3ee"


@dataclass
class PageOptions:
    """How a page is built: where static files and layer endpoints live, and whether to embed data."""

    static_url: str = "/maps/static"
    layer_url: str | None = "/maps/layers"  # None: always embed (maps written to files)
    lookup_url: str | None = "/lookup"
    measure: str = "households"
    tile_url: str | None = field(default_factory=lambda: get_settings().tile_url)
    tiles_url: str | None = "/tiles"  # vector tiles for the city-scale base map; None: embed it
    print_view: bool = False  # laid out for a printed sheet (no controls; title, legend and summary kept)


def measures() -> dict[str, dict]:
    """The grid measures a map can colour by, with units and classes (household band from settings).

    Colour-blind safe: sequential single-hue ramps, coverage from yellow (gaps) to dark blue (covered),
    never a red–green pair; a grid without a value is light grey and says why in the legend."""
    low, high = get_settings().household_bands.get("basic", (300, 500))
    return {
        "households": {
            "title": "户数 households",
            "unit": "户 per grid",
            "breaks": [1, low, high + 1],
            # oversized: the darkest blue, apart from the vermilion (#D55E00) of uncovered buildings drawn over it
            "colors": ["#f7f7f7", "#c6dbef", "#4292c6", "#08306b"],
            "none": "#d9d9d9",
            "none_label": "无数据 no data",
            "labels": [
                "0 (no households)",
                f"1 – {low - 1} (below band)",
                f"{low} – {high} (target band)",
                f"> {high} (网眼过大 oversized)",
            ],
        },
        "coverage": {
            "title": "覆盖率 coverage share",
            "unit": "% of households",
            "percent": True,
            "breaks": [0.5, 0.8, 0.95],
            "colors": ["#fed976", "#c7e9b4", "#41b6c4", "#225ea8"],
            "none": "#d9d9d9",
            "none_label": "无住户 no households",
            "labels": ["< 50% (缺口 gap)", "50 – 80%", "80 – 95%", "≥ 95%"],
        },
        "party_members": {
            "title": "党员 party members",
            "unit": "people per grid",
            "breaks": [],
            "quantiles": True,
            "colors": ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
            "none": "#d9d9d9",
            "none_label": "无数据 no data",
        },
    }


def group_labels() -> dict[str, str]:
    """Special groups as the grid popup names them (counts only), in the page's two languages."""
    from geogrid.ledger import GROUP_NAMES

    return {g: f"{GROUP_NAMES.get(g, g)} {g.replace('_', ' ')}" for g in SPECIAL_GROUPS}


def basis_label(scope: data.Scope) -> str:
    """What "covered" means on this map, stated on the map: along the network, or straight-line circles."""
    if scope.mode == "network":
        return t(
            "{minutes}-minute walk along the network ({metres} m)",
            minutes=scope.minutes,
            metres=round(get_settings().walk_speed_m_per_min * scope.minutes),
        )
    return t(
        "{metres} m straight-line circle ({minutes} minutes)",
        minutes=scope.minutes,
        metres=round(get_settings().circle_radius_m[scope.minutes]),
    )


def _base_map(opts: PageOptions, canvas: bool, center: tuple[float, float]) -> folium.Map:
    settings = get_settings()
    tiles = None
    if opts.tile_url:
        tiles = folium.TileLayer(
            opts.tile_url, attr=settings.tile_attribution or "base map", name="base map", max_zoom=19, control=False
        )
    m = folium.Map(
        location=list(center), zoom_start=13, tiles=tiles, prefer_canvas=canvas, control_scale=True, max_zoom=19
    )
    root = cast(Figure, m.get_root())  # a Map's root is always its Figure (folium types it as an Element)
    root.header.add_child(
        folium.Element(  # no favicon request: nothing on the page may 404
            f"<link rel='icon' href='data:,'><style>.folium-map{{background:{BLANK_BASE}}}</style>"
        )
    )
    if opts.print_view:
        root.html.add_child(folium.Element("<script>document.body.classList.add('geogrid-print')</script>"))
    return m


def tiled(conn: Connection, scope: data.Scope, opts: PageOptions, city: bool) -> bool:
    """True when the city page draws its grids from vector tiles (``/tiles``) instead of GeoJSON: the whole
    city, in WGS84, coloured by a figure the grid tiles carry, for the circle the tiles measure
    (:func:`maps.tiles.grid_figures`: the default one). Service areas come as tiles too once stored."""
    default = data.check_scope(conn, data.Scope())
    return bool(
        city
        and opts.tiles_url
        and opts.layer_url
        and not opts.tile_url
        and scope.area is None
        and scope == default
        and opts.measure in ("households", "coverage")
    )


def tile_summary(conn: Connection, measure: str) -> dict:
    """What the tiled page cannot add up from its grids (it never holds them all): the summary box and the
    legend's count per colour, from the same figures the grid tiles carry."""
    from bisect import bisect_right

    m = measures()[measure]
    figures = list(tiles.grid_figures(conn).values())
    counts: dict[str, int] = {}
    none = 0
    for households, coverage, _ in figures:
        value = households if measure == "households" else coverage
        if value is None:
            none += 1
            continue
        colour = m["colors"][min(bisect_right(m["breaks"], value), len(m["colors"]) - 1)]
        counts[colour] = counts.get(colour, 0) + 1
    return {
        "grids": len(figures),
        "households": sum(f[0] for f in figures),
        "covered_households": sum(f[2] for f in figures),
        "low": sum(1 for f in figures if f[1] is not None and f[1] < 0.5),
        "counts": counts,
        "none": none,
    }


def _bounds(conn: Connection, scope: data.Scope) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the scope's grids: where a tiled page opens."""
    row = conn.execute(
        text(
            f"SELECT ST_YMin(e) AS south, ST_XMin(e) AS west, ST_YMax(e) AS north, ST_XMax(e) AS east "
            f"FROM (SELECT ST_Extent(sg.geom) AS e "
            f"FROM ({data.SCOPED_GRIDS}) sg) x"
        ),
        scope.place.params(),
    ).first()
    return None if row is None or row.south is None else [[row.south, row.west], [row.north, row.east]]


def _center(conn: Connection, scope: data.Scope) -> tuple[float, float]:
    row = conn.execute(
        text(
            f"SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(ST_Extent(sg.geom)::geometry) AS c "
            f"FROM ({data.SCOPED_GRIDS}) sg) x"
        ),
        scope.place.params(),
    ).first()
    if row is None or row.lat is None:
        return (0.0, 0.0)
    lon, lat = row.lon, row.lat
    crs = geojson.display_crs()
    if crs:
        from geogrid.crs import FROM_WGS84

        x, y = FROM_WGS84[crs](lon, lat)
        lon, lat = float(x), float(y)
    return (lat, lon)


def _url(opts: PageOptions, layer: str, scope: data.Scope, **extra) -> str:
    query = {"community": scope.area, "mode": scope.mode, "minutes": scope.minutes, **extra}
    return f"{opts.layer_url}/{layer}.geojson?" + urlencode({k: v for k, v in query.items() if v is not None})


def layer_json(conn: Connection, layer: str, scope: data.Scope, *, grid: str | None = None, city: bool = False) -> str:
    """The GeoJSON of one layer: what pages embed and what ``/maps/layers/{layer}.geojson`` serves."""
    crs = geojson.display_crs()
    precision, simplify = (5, 2.0) if city else (6, 0.0)
    if layer == "grids":
        return geojson.grids_geojson(data.grids(conn, scope), crs=crs, simplify_m=simplify, precision=precision)
    if layer == "facilities":
        return geojson.layer_geojson(
            data.facilities(conn, scope),
            ["id", "name", "kind", "circle_minutes", "candidate", "address"],
            crs=crs,
            precision=precision,
        )
    if layer == "service-areas":
        return geojson.layer_geojson(
            data.service_areas(conn, scope),
            ["id", "name", "kind", "minutes", "mode"],
            crs=crs,
            simplify_m=simplify or 1.0,
            precision=precision,
        )
    if layer in ("uncovered", "buildings"):
        frame = data.buildings(conn, scope, uncovered_only=layer == "uncovered", grid=grid)
        return geojson.layer_geojson(
            frame, ["id", "address", "households", "grid_code", "covered"], crs=crs, precision=precision
        )
    if layer == "problems":
        return problems_json(conn, scope)
    raise GeogridError(
        t("unknown layer '{layer}': grids, facilities, service-areas, uncovered, buildings, problems", layer=layer)
    )


def problems_json(conn: Connection, scope: data.Scope) -> str:
    """Grid-boundary problems found by ``geogrid.planning.validate`` (none while planning is absent)."""
    import json

    import shapely

    from geogrid.planning.validate import validate
    from maps.roster_page import roster_links

    ids = scope.place.community_ids
    cids = None if ids is None else list(ids)
    problems = roster_links([p for p in validate(conn, cids=cids) if p.get("location")])
    frame = pd.DataFrame(
        [
            {
                "rule": p["rule"],
                "severity": p["severity"],
                "message": p["message"],
                "grids": " ".join(p["grids"]),
                "roster_url": p.get("roster_url"),
                "geom": shapely.from_geojson(json.dumps(p["location"])),
            }
            for p in problems
        ],
        columns=["rule", "severity", "message", "grids", "roster_url", "geom"],
    )
    properties = ["rule", "severity", "message", "grids", "roster_url"]
    return geojson.layer_geojson(frame, properties, crs=geojson.display_crs())


def coverage_page(
    conn: Connection,
    scope: data.Scope,
    opts: PageOptions | None = None,
    *,
    focus: str | None = None,
    title: str | None = None,
) -> str:
    """The coverage map of a scope as one HTML page (grids, service areas, facilities, uncovered buildings)."""
    opts = opts or PageOptions()
    if opts.measure not in measures():
        raise GeogridError(
            t("measure '{measure}' is not one of {measures}", measure=opts.measure, measures=list(measures()))
        )

    scope = data.check_scope(conn, scope)
    n = data.grid_count(conn, scope)
    city = n > EMBED_MAX_GRIDS
    embed = opts.layer_url is None or not city
    tiled_page = not focus and tiled(conn, scope, opts, city)
    m = _base_map(opts, canvas=n >= CANVAS_MIN_GRIDS, center=_center(conn, scope))
    m.add_child(
        Setup(
            {
                "measure": opts.measure,
                "measures": measures(),
                "crs": geojson.display_crs(opts.tile_url),
                "focus": focus,
                "lookup_url": opts.lookup_url if opts.layer_url else None,
                "basis": basis_label(scope),
                "minutes": scope.minutes,
                "print": opts.print_view,
                "groups": group_labels(),
                "suppress_below": get_settings().suppress_below,
                **({"bounds": _bounds(conn, scope), "summary": tile_summary(conn, opts.measure)} if tiled_page else {}),
            }
        )
    )
    m.add_child(Title(title or _title(conn, scope, focus)))

    def add(key: str, kind: str, name: str, *, show: bool = True, **options) -> None:
        source = (
            {"data": layer_json(conn, key, scope, grid=focus, city=city)}
            if embed
            else {"url": _url(opts, key, scope, grid=focus)}
        )
        if tiled_page and (key == "grids" or (key == "service-areas" and data._stored(conn, scope))):
            tile_key = key if key == "grids" else tiles.circle_key(scope.mode, scope.minutes)  # the circle drawn
            source["tiles"] = f"{opts.tiles_url}/{tile_key}/{{z}}/{{x}}/{{y}}.pbf"  # grids' GeoJSON: for search only
        m.add_child(DataLayer(key, kind, name, show=show, **source, **options))

    _add_base(m, conn, scope, opts, embed)
    add("grids", "grids", f"网格 grids ({n})", canvas=n >= CANVAS_MIN_GRIDS)
    add(
        "service-areas",
        "areas",
        f"{scope.minutes} 分钟服务范围 service areas ({scope.mode})",
        canvas=n >= CANVAS_MIN_GRIDS,
        circle={"mode": scope.mode, "minutes": scope.minutes},
    )
    add("facilities", "facilities", "服务设施 facilities", cluster=city)
    if focus:
        add("buildings", "buildings", f"网格 {focus} 楼栋 buildings", cluster=True, uncluster_zoom=16)
    add("uncovered", "buildings", "未覆盖楼栋 uncovered buildings", show=not city and not focus, cluster=city)
    add("problems", "problems", "边界问题 boundary problems", show=not city)
    folium.LayerControl(collapsed=opts.print_view).add_to(m)
    Fullscreen(position="topleft").add_to(m)
    m.add_child(Finish())
    localise(m, opts.static_url)
    return m.get_root().render()


def _add_base(m: folium.Map, conn: Connection, scope: data.Scope, opts: PageOptions, embed: bool) -> None:
    """The offline base map when no tile server is set: embedded GeoJSON, or vector tiles at city scale."""
    from maps import base

    if opts.tile_url or not base.has_base(conn):
        return
    name = "底图 base map (roads, water, buildings)"
    if embed or not opts.tiles_url:
        layer = DataLayer(
            "base", "base", name, data=base.base_json(conn, scope, crs=geojson.display_crs(opts.tile_url))
        )
    else:
        layer = DataLayer("base", "base", name, tiles=f"{opts.tiles_url}/base/{{z}}/{{x}}/{{y}}.pbf")
    m.add_child(layer)


def grid_page(
    conn: Connection, code: str, opts: PageOptions | None = None, *, mode: str = "auto", minutes: int = 5
) -> str:
    """One grid's map: its community's grids for context, the grid highlighted with all its buildings."""
    info = data.grid_info(conn, code)
    scope = data.Scope(info["community"], mode, minutes)
    return coverage_page(conn, scope, opts, focus=code, title=f"网格 {info['name']} ({code})")


def _title(conn: Connection, scope: data.Scope, focus: str | None) -> str:
    """The area by its name (the code in brackets), the circle and its basis: what a wall map is headed by."""
    where = "全市 whole city"
    if scope.area is not None:
        row = conn.execute(
            text("SELECT name, code FROM admin_areas WHERE :a IN (code, name) ORDER BY level LIMIT 1"),
            {"a": scope.area},
        ).first()
        where = f"{row.name} ({row.code})" if row else scope.area
    return f"{where} · {scope.minutes} 分钟服务圈覆盖 coverage · {basis_label(scope)}"
