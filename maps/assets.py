"""Leaflet and its plugins, installed from npm at install time and served locally: maps never touch a CDN.

``make maps-vendor`` runs ``npm ci --prefix maps`` and then ``python -m maps.assets``, which copies the
distribution files below from ``maps/node_modules`` into ``maps/static/vendor``. :func:`localise` points
every folium element of a map at those copies and drops what the pages do not use (jQuery, Bootstrap,
awesome-markers, Font Awesome). Stdlib only, so the Makefile can run it before the venv exists.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
VENDOR = STATIC / "vendor"
NODE_MODULES = HERE / "node_modules"

# vendor folder -> (npm package, files or folders to copy from it)
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "leaflet": ("leaflet", ("dist/leaflet.js", "dist/leaflet.css", "dist/images")),
    "markercluster": (
        "leaflet.markercluster",
        ("dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css"),
    ),
    "fullscreen": ("leaflet.fullscreen", ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg")),
    "draw": ("leaflet-draw", ("dist/leaflet.draw.js", "dist/leaflet.draw.css", "dist/images")),
    "vectorgrid": ("leaflet.vectorgrid", ("dist/Leaflet.VectorGrid.bundled.min.js",)),
}

# folium's resource names -> our vendor path (None: not needed by our pages, dropped).
FOLIUM_NAMES: dict[str, str | None] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "markerclusterjs": "vendor/markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/markercluster/MarkerCluster.Default.css",
    "Control.Fullscreen.js": "vendor/fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "vendor/fullscreen/Control.FullScreen.css",
    "leaflet_draw_js": "vendor/draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/draw/leaflet.draw.css",
    "vectorgrid_js": "vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "geogrid_js": "geogrid-map.js",
    "geogrid_css": "geogrid-map.css",
    "jquery": None,
    "bootstrap": None,
    "awesome_markers": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
}

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["'](https?:)?//[^"']+|url\(\s*["']?https?://""", re.I)


def copy_vendor(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[Path]:
    """Copy the files named in :data:`PACKAGES` from ``node_modules`` into ``vendor``; returns what was copied."""
    copied = []
    for folder, (package, files) in PACKAGES.items():
        for rel in files:
            src = node_modules / package / rel
            if not src.exists():
                raise SystemExit(f"{src} is missing: run `npm ci --prefix maps` (make maps-vendor)")
            dst = vendor / folder / Path(rel).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
            copied.append(dst)
    return copied


def vendored() -> bool:
    """True when every vendored file is in place (``make maps-vendor`` has run)."""
    return all((VENDOR / folder / Path(rel).name).exists() for folder, (_, files) in PACKAGES.items() for rel in files)


def local_resources(resources, static_url: str) -> list[tuple[str, str]]:
    """Map folium's ``(name, url)`` resources to local URLs; unknown names are an error, not a CDN link."""
    out = []
    for name, _url in resources:
        if name not in FOLIUM_NAMES:
            raise KeyError(f"folium resource '{name}' has no local copy: add it to maps.assets.FOLIUM_NAMES")
        path = FOLIUM_NAMES[name]
        if path is not None:
            out.append((name, f"{static_url.rstrip('/')}/{path}"))
    return out


def localise(element, static_url: str) -> None:
    """Point ``element`` and all its children at locally served JS/CSS (instance attributes, not class ones)."""
    for attr in ("default_js", "default_css"):
        resources = getattr(element, attr, None)
        if resources:
            setattr(element, attr, local_resources(resources, static_url))
    for child in list(getattr(element, "_children", {}).values()):
        localise(child, static_url)


def external_urls(html: str) -> list[str]:
    """Every ``src``/``href``/``url()`` in ``html`` that points off the server."""
    return [m.group(0) for m in EXTERNAL_URL.finditer(html)]


def copy_static(target: Path) -> Path:
    """Copy our static files (own JS/CSS and vendor) to ``target``, for maps written to files."""
    if not vendored():
        from geogrid.errors import GeogridError
        from geogrid.i18n import t

        raise GeogridError(t("Leaflet is not installed locally: run `make maps-vendor` (npm ci --prefix maps)"))

    shutil.copytree(STATIC, target, dirs_exist_ok=True)
    return target


if __name__ == "__main__":
    files = copy_vendor()
    print(f"copied {len(files)} vendor files into {VENDOR}", file=sys.stderr)
