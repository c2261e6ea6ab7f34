"""Leaflet, its plugins and the map scripts, served from ``maps/static`` by Starlette's ``StaticFiles``.

Only the answer to a missing file is ours: the JSON error every other route gives (naming the file, and
saying ``make maps-vendor`` when the vendored Leaflet is absent), and a day of browser caching otherwise.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from geogrid.errors import GeogridError, NotFound
from geogrid.i18n import t


class MapStatic(StaticFiles):
    """``maps/static`` (path checks are Starlette's: nothing outside the folder is ever served)."""

    def __init__(self) -> None:
        from maps.assets import STATIC

        super().__init__(directory=STATIC)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            from maps.assets import vendored

            if path.startswith("vendor/") and not vendored():
                raise GeogridError(t("Leaflet is not installed locally: run `make maps-vendor`")) from None
            raise NotFound(t("no static file '{path}'", path=path)) from None
        response.headers.setdefault("Cache-Control", "public, max-age=86400")
        return response
