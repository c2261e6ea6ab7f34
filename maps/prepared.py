"""Map layers as served: bytes (and their gzip) cached by :mod:`maps.cache`, prepared before the first viewer.

The city map is the slow one (21k grids, a million buildings: seconds of building). Its shown layers are
built in the background when the API starts and again whenever the data changes (once the data version has
stayed the same for one poll, so a burst of imports is prepared once), and stored in PostGIS, so the first viewer after ``geogrid compute`` or after a restart, on
any worker, reads prepared bytes instead of waiting for them. Only the city scope is prepared ahead: smaller
maps embed their layers and build in well under a second. Workers take turns through an advisory lock.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time

from sqlalchemy import Connection, Engine, text

from geogrid.db.versions import DataVersion
from geogrid.errors import GeogridError
from geogrid.i18n import t
from maps import cache, data, geojson, pages

CITY_LAYERS = ("grids", "service-areas", "facilities")  # what the city page draws at once
POLL_SECONDS = 2.0
GZIP_MIN_BYTES = 20_000
GZIP_LEVEL = 5
WARM_LOCK = 0x6765_6F6D_6170  # pg advisory lock id: one worker prepares at a time

log = logging.getLogger(__name__)


def encode(body: str) -> cache.Prepared:
    """The body, and its gzip when large enough to be worth it (city layers shrink about sevenfold)."""
    raw = body.encode()
    return raw, gzip.compress(raw, GZIP_LEVEL) if len(raw) > GZIP_MIN_BYTES else None


def layer_key(layer: str, scope: data.Scope, grid: str | None = None, city: bool = True) -> tuple:
    """What a prepared layer is stored under (with the data's fingerprint): the datum shifts every coordinate."""
    return (layer, scope, grid, city, geojson.display_crs())


def layer_bytes(conn: Connection, layer: str, scope: data.Scope, grid: str | None = None) -> cache.Prepared:
    """One layer of a checked scope as served by ``/maps/layers/{layer}.geojson``: cached or built now.

    City-scale layers are also stored in PostGIS; smaller ones build fast and stay in this process only."""
    city = data.grid_count(conn, scope) > pages.EMBED_MAX_GRIDS

    def build() -> cache.Prepared:
        return encode(pages.layer_json(conn, layer, scope, grid=grid, city=city))

    return cache.cached_bytes(conn, layer_key(layer, scope, grid, city), build, persist=city)


def city_scope(conn: Connection) -> data.Scope | None:
    """The scope of the default city page (``/maps/coverage``), or None when the city is small or empty."""
    try:
        scope = data.check_scope(conn, data.Scope())
    except GeogridError:
        return None
    return scope if data.grid_count(conn, scope) > pages.EMBED_MAX_GRIDS else None


def city_prepared(conn: Connection) -> bool:
    """True when every layer the city page draws at once is stored for the current state of the data."""
    scope = city_scope(conn)
    return scope is not None and all(cache.is_prepared(conn, layer_key(layer, scope)) for layer in CITY_LAYERS)


def prepare_city(engine: Engine) -> bool | None:
    """Build (or load) the city page's shown layers; False when there is no city, None when another worker
    holds the turn."""
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": WARM_LOCK}):
            conn.rollback()
            return None
        try:
            scope = city_scope(conn)
            if scope is None:
                return False
            for layer in CITY_LAYERS:
                layer_bytes(conn, layer, scope)
                conn.rollback()  # end the read transaction: a long one would hold back vacuum
            from maps import tiles  # the figures the grid tiles and the tiled page's summary carry

            tiles.grid_figures(conn)
            conn.rollback()
            return True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": WARM_LOCK})
            conn.commit()


class Warmer:
    """A daemon thread that prepares the city layers at start-up and after each settled change of the data."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.prepared_for: DataVersion | None = None  # data version the layers were last prepared at
        self.last_seconds: float | None = None  # how long the last preparation took

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="geogrid-map-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        from geogrid import db

        seen, failed = None, None
        while not self._stop.is_set():
            try:
                engine = db.ready()
                with engine.connect() as conn:
                    fp = cache.fingerprint(conn)
                if fp != self.prepared_for and (self.prepared_for is None or fp == seen):
                    start = time.perf_counter()
                    if prepare_city(engine) is not None:
                        self.prepared_for, self.last_seconds = fp, time.perf_counter() - start
                seen, failed = fp, None
            except Exception as exc:  # a warmer must never take the API down; say it once per cause
                if str(exc) != failed:
                    log.warning("%s", t("preparing the city map layers failed: {error}", error=exc))
                failed = str(exc)
            self._stop.wait(POLL_SECONDS)
