"""folium elements that hand layers to ``geogrid-map.js``: folium builds the page, the layer control
and the plugins; the script styles, labels and fills the layers (embedded data or fetched GeoJSON)."""

from __future__ import annotations

import json

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

GEOGRID_JS = [
    ("markerclusterjs", "markercluster/leaflet.markercluster.js"),
    ("vectorgrid_js", "vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ("geogrid_js", "geogrid-map.js"),
]
GEOGRID_CSS = [
    ("markerclustercss", "markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", "markercluster/MarkerCluster.Default.css"),
    ("geogrid_css", "geogrid-map.css"),
]


def _script_safe(text: str) -> str:
    """JSON placed inside a <script>: a ``</script>`` in a name must not end it."""
    return text.replace("</", "<\\/")


class Setup(JSCSSMixin, MacroElement):
    """Configures the page script (measure, legend, search, datum) before any layer is created."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        geogrid.setup({{ this._parent.get_name() }}, {{ this.config_js }});
        {% endmacro %}
    """)
    default_js = GEOGRID_JS
    default_css = GEOGRID_CSS

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "GeogridSetup"
        self.config_js = _script_safe(json.dumps(config, ensure_ascii=False))


class DataLayer(JSCSSMixin, Layer):
    """A layer in the layer control whose features come embedded (``data``) or from ``url``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geogrid.layer({{ this._parent.get_name() }}, {{ this.spec_js }},
            {{ this.data_js }});
        {% endmacro %}
    """)
    default_js = GEOGRID_JS
    default_css = GEOGRID_CSS

    def __init__(
        self,
        key: str,
        kind: str,
        name: str,
        *,
        data: str | None = None,
        url: str | None = None,
        show: bool = True,
        **options,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeogridLayer"
        spec = {"key": key, "kind": kind, "url": url, "lazy": not show and data is None, **options}
        self.spec_js = _script_safe(json.dumps(spec, ensure_ascii=False))
        self.data_js = _script_safe(data) if data is not None else "null"


class Finish(MacroElement):
    """Marks the page drawn (``window.geogrid.done``) once every shown layer has its data."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        geogrid.finish();
        {% endmacro %}
    """)


class Title(MacroElement):
    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="geogrid-title">{{ this.text|e }}</div>
        {% endmacro %}
    """)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
