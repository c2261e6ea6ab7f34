"""The demo's boundaries as a GeoDataFrame: the sample file shipped in ``data/boundaries/``."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geogrid.demo import areas
from geogrid.demo.city import build_city
from geogrid.demo.load import LonLat


def boundaries_frame(seed: int = 7) -> gpd.GeoDataFrame:
    """Street, communities and grids (level, code, name, kind, parent code) in EPSG:4326."""
    city = build_city(None, seed)
    to = LonLat(city)
    s, c, g = city.streets, city.communities, city.grids
    frame = pd.DataFrame(
        {
            "level": ["street"] * len(s) + ["community"] * len(c) + ["grid"] * len(g),
            "code": [*s["code"], *c["code"], *g["code"]],
            "name": [*s["name"], *c["name"], *g["name"]],
            "kind": [None] * (len(s) + len(c)) + g["kind"].tolist(),
            "parent_code": [areas.DISTRICT_CODE] * len(s) + c["street_code"].tolist() + g["community_code"].tolist(),
        }
    )
    geoms = to.geoms([*s["geom"], *c["geom"], *g["geom"]])
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs="EPSG:4326")
