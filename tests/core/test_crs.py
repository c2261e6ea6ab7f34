"""GCJ-02 / BD-09 conversions checked against the independent prcoords package."""

import numpy as np
import prcoords
import pytest

from geogrid import crs
from geogrid.errors import GeogridError

POINTS = [(116.3466, 39.9610), (121.4737, 31.2304), (104.0657, 30.6595), (113.2644, 23.1291)]


@pytest.mark.parametrize("lon,lat", POINTS)
def test_gcj02_and_bd09_match_prcoords(lon, lat):
    g = prcoords.wgs_gcj((lat, lon))
    b = prcoords.wgs_bd((lat, lon))
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    blon, blat = crs.wgs84_to_bd09(lon, lat)
    assert abs(glon - g[1]) < 1e-7 and abs(glat - g[0]) < 1e-7
    assert abs(blon - b[1]) < 1e-6 and abs(blat - b[0]) < 1e-6


def test_round_trip_is_within_a_few_centimetres():
    lon = np.linspace(116.0, 117.0, 1000)
    lat = np.linspace(39.5, 40.5, 1000)
    for name in ("gcj02", "bd09"):
        x, y = crs.to_wgs84_xy(*crs.FROM_WGS84[name](lon, lat), name)
        assert np.max(np.abs(x - lon)) < 1e-8 and np.max(np.abs(y - lat)) < 1e-8


def test_gcj02_offset_is_hundreds_of_metres_in_beijing_and_none_abroad():
    glon, glat = crs.wgs84_to_gcj02(116.35, 39.96)
    assert 100 < np.hypot((glon - 116.35) * 85000, (glat - 39.96) * 111000) < 1000
    assert crs.wgs84_to_gcj02(9.52, 47.14) == (9.52, 47.14)  # Liechtenstein: outside China, unchanged


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(GeogridError, match="unknown CRS 'mars'"):
        crs.normalise("mars")
    assert crs.normalise("GCJ-02") == "gcj02" and crs.normalise("cgcs2000") == "EPSG:4490"
