/* geogrid coverage maps: layers, tooltips, labels, legend and search on top of a folium-built Leaflet map.
 * Layer data is either embedded (small maps, files) or fetched from the API as GeoJSON (city scale).
 * window.geogrid.done turns true (and body[data-geogrid-ready]) once every shown layer is drawn. */
(function () {
  "use strict";
  var G = window.geogrid = window.geogrid || {};
  G.layers = {}; G.pending = []; G.grids = []; G.errors = [];

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function pct(v) { return v === null || v === undefined ? "—" : (Math.round(v * 1000) / 10) + "%"; }
  G.esc = esc;

  /* WGS84 -> GCJ-02, for lookup answers drawn over GCJ-02 tiles (same formulas as geogrid.crs). */
  function gcj(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
    var a = 6378245.0, ee = 0.00669342162296594323, x = lon - 105, y = lat - 35, PI = Math.PI;
    var dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
      + (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3
      + (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3
      + (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    var dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
      + (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3
      + (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3
      + (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    var rad = lat / 180 * PI, magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * sq) * PI);
    dlon = dlon * 180 / (a / sq * Math.cos(rad) * PI);
    return [lon + dlon, lat + dlat];
  }
  G.toDisplay = function (lon, lat) { return G.config.crs === "gcj02" ? gcj(lon, lat) : [lon, lat]; };

  /* ---- measures and colours ---- */
  function measure() { return G.config.measures[G.config.measure]; }
  function quantileBreaks(values, n) {
    var v = values.filter(function (x) { return x !== null && x !== undefined; }).sort(function (a, b) { return a - b; });
    if (!v.length) return [];
    var out = [];
    for (var i = 1; i < n; i++) {
      var q = v[Math.min(v.length - 1, Math.floor(i * v.length / n))];
      if (out.indexOf(q) < 0 && q > v[0]) out.push(q);
    }
    return out;
  }
  function classes(m) {
    /* [{min, max, color, label}] with max exclusive; m.breaks may be computed from the data. */
    var b = m.breaks, out = [];
    for (var i = 0; i <= b.length; i++) {
      var lo = i ? b[i - 1] : null, hi = i < b.length ? b[i] : null;
      var label = m.labels && m.labels[i] ? m.labels[i]
        : (lo === null ? "< " + fmt(m, hi) : hi === null ? "≥ " + fmt(m, lo) : fmt(m, lo) + " – " + fmt(m, hi));
      out.push({min: lo, max: hi, color: m.colors[Math.min(i, m.colors.length - 1)], label: label});
    }
    return out;
  }
  function fmt(m, v) { return m.percent ? Math.round(v * 100) + "%" : String(v); }
  function colorOf(value) {
    var m = measure();
    if (value === null || value === undefined) return m.none;
    var cs = classes(m);
    for (var i = 0; i < cs.length; i++) {
      if ((cs[i].min === null || value >= cs[i].min) && (cs[i].max === null || value < cs[i].max)) return cs[i].color;
    }
    return m.none;
  }

  function gridStyle(f) {
    var focus = G.config.focus && f.properties.code === G.config.focus;
    return {color: focus ? "#000" : "#444", weight: focus ? 3 : 1, opacity: 0.9,
            fillColor: colorOf(f.properties[G.config.measure]), fillOpacity: 0.6, className: "geogrid-grid"};
  }
  function gridTooltip(p) {
    return "<b>" + esc(p.code) + "</b> " + esc(p.name) + (p.community_name ? "<br>" + esc(p.community_name) : "")
      + "<br>网格员 grid worker: " + (esc(p.worker) || "—")
      + "<br>户数 households: " + p.households
      + "<br>覆盖率 coverage: " + pct(p.coverage) + " (" + p.covered_households + " 户)"
      + "<br>党员 party members: " + p.party_members;
  }

  /* ---- legend ---- */
  G.legend = function () {
    var el = document.getElementById("geogrid-legend");
    if (!el) return;
    var m = measure(), html = "<div class='geogrid-legend-title'>" + esc(m.title) + " <small>(" + esc(m.unit) + ")</small></div>";
    classes(m).forEach(function (c) {
      html += "<div><i style='background:" + c.color + "'></i>" + esc(c.label) + "</div>";
    });
    html += "<div><i style='background:" + m.none + "'></i>" + esc(m.none_label) + "</div>";
    (G.config.symbols || []).forEach(function (s) {
      html += "<div><i class='geogrid-sym' style='background:" + s.color + ";border-color:" + (s.border || s.color)
        + "'></i>" + esc(s.label) + "</div>";
    });
    if (G.emptyMessage) html += "<div class='geogrid-empty'>" + esc(G.emptyMessage) + "</div>";
    el.innerHTML = html;
  };

  /* ---- labels: grid codes at a point inside each grid, only when zoomed in enough to read them ---- */
  function updateLabels() {
    var map = G.map, group = G.labels;
    if (!group) return;
    group.clearLayers();
    if (map.getZoom() < G.labelZoom) return;
    var bounds = map.getBounds().pad(0.2), n = 0;
    for (var i = 0; i < G.grids.length && n < 800; i++) {
      var p = G.grids[i].feature.properties, ll = L.latLng(p.ly, p.lx);
      if (!bounds.contains(ll)) continue;
      group.addLayer(L.marker(ll, {interactive: false, keyboard: false,
        icon: L.divIcon({className: "geogrid-label", html: "<span>" + esc(p.code) + "</span>", iconSize: null})}));
      n++;
    }
  }

  /* ---- layer kinds ---- */
  function gridsLayer(map, spec) {
    var layer = L.geoJSON(null, {
      style: gridStyle, renderer: spec.canvas ? L.canvas({padding: 0.2}) : L.svg(),
      onEachFeature: function (f, l) { G.grids.push(l); }
    });
    /* one tooltip and one pair of handlers on the group, not 20k of each: events bubble up from each grid */
    layer.bindTooltip(function (l) { return gridTooltip(l.feature.properties); },
                      {sticky: true, className: "geogrid-tooltip"});
    layer.on("mouseover", function (e) { e.layer.setStyle({weight: 3, color: "#000"}); });
    layer.on("mouseout", function (e) { layer.resetStyle(e.layer); });
    G.labels = L.layerGroup().addTo(map);
    map.on("zoomend moveend", updateLabels);
    layer.fill = function (data) {
      layer.addData(data);
      var m = measure();
      if (m.quantiles) {
        m.breaks = quantileBreaks(data.features.map(function (f) { return f.properties[G.config.measure]; }), 5);
        layer.setStyle(gridStyle);
      }
      G.labelZoom = G.grids.length <= 60 ? 0 : G.grids.length <= 400 ? 15 : 16;
      if (!G.grids.length) G.emptyMessage = "no grids in this area";
      G.legend(); searchIndex();
      var focus = G.grids.filter(function (l) { return l.feature.properties.code === G.config.focus; })[0];
      var b = focus ? focus.getBounds() : layer.getBounds();
      if (b.isValid()) map.fitBounds(b, {padding: [20, 20], animate: false});
      updateLabels();
    };
    return layer;
  }

  var KIND_COLORS = {service_station: "#d7301f", service_center: "#7a0177", elderly_care: "#ef6548",
    health_station: "#1d91c0", kindergarten: "#fc8d59", school: "#225ea8", market: "#41ab5d"};

  function cluster(spec) {
    return L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: spec.uncluster_zoom || 17,
                                 showCoverageOnHover: false, maxClusterRadius: 50});
  }

  function facilitiesLayer(map, spec) {
    var group = spec.cluster ? cluster(spec) : L.featureGroup();
    group.fill = function (data) {
      var markers = data.features.map(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], {radius: 7, color: "#fff", weight: 2, fillOpacity: 1,
          fillColor: KIND_COLORS[p.kind] || "#525252", dashArray: p.candidate ? "2 2" : null,
          className: "geogrid-facility"});
        m.bindTooltip("<b>" + esc(p.name) + "</b><br>" + esc(p.kind) + " · " + p.circle_minutes + " 分钟 min"
          + (p.candidate ? "<br>候选 candidate" : "") + (p.address ? "<br>" + esc(p.address) : ""));
        return m;
      });
      group.addLayers ? group.addLayers(markers) : markers.forEach(function (m) { group.addLayer(m); });
    };
    return group;
  }

  function areasLayer(map, spec) {
    var layer = L.geoJSON(null, {interactive: false, style: function () {
      return {color: "#238b45", weight: 1, opacity: 0.7, fillColor: "#41ab5d", fillOpacity: 0.12,
              className: "geogrid-area"};
    }, renderer: spec.canvas ? L.canvas() : L.svg()});
    layer.fill = function (data) { layer.addData(data); };
    return layer;
  }

  function buildingsLayer(map, spec) {
    var group = spec.cluster ? cluster(spec) : L.featureGroup();
    group.fill = function (data) {
      var markers = data.features.map(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], {radius: 4, weight: 1, color: "#fff", fillOpacity: 0.9,
          fillColor: p.covered ? "#4292c6" : "#e31a1c", className: "geogrid-building"});
        m.bindTooltip(esc(p.address || ("#" + p.id)) + "<br>" + p.households + " 户 · 网格 " + esc(p.grid_code)
          + "<br>" + (p.covered ? "已覆盖 covered" : "未覆盖 not covered"));
        return m;
      });
      group.addLayers ? group.addLayers(markers) : markers.forEach(function (m) { group.addLayer(m); });
    };
    return group;
  }

  function problemsLayer(map, spec) {
    var layer = L.geoJSON(null, {style: function () {
      /* outlines only: a problem covering a whole grid must not hide the grid's own tooltip */
      return {color: "#e31a1c", weight: 3, dashArray: "6 4", fill: false, className: "geogrid-problem"};
    }, pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 8, color: "#e31a1c"}); },
    onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.message || f.properties.kind || "problem")); }});
    layer.fill = function (data) { layer.addData(data); };
    return layer;
  }

  var KINDS = {grids: gridsLayer, facilities: facilitiesLayer, areas: areasLayer, buildings: buildingsLayer,
               problems: problemsLayer};

  function fetchJson(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) return r.json().then(function (e) { throw new Error(url + ": " + (e.error || r.status)); });
      return r.json();
    });
  }

  /* Build one layer: data embedded now, fetched now, or (lazy) fetched when first switched on. */
  G.layer = function (map, spec, data) {
    var layer = KINDS[spec.kind](map, spec);
    G.layers[spec.key] = layer;
    function load() {
      var p = (data ? Promise.resolve(data) : fetchJson(spec.url)).then(function (d) { layer.fill(d); layer.loaded = true; });
      p.catch(function (e) { G.errors.push(String(e)); console.error("geogrid layer " + spec.key + ": " + e); });
      return p;
    }
    if (spec.lazy) {
      layer.once("add", function () { load(); });
    } else {
      G.pending.push(load());
    }
    return layer;
  };

  /* ---- search: grid codes and names locally, addresses through the lookup API when served ---- */
  function searchIndex() {
    var list = document.getElementById("geogrid-search-list");
    if (!list) return;
    var html = "";
    for (var i = 0; i < G.grids.length && i < 5000; i++) {
      var p = G.grids[i].feature.properties;
      html += "<option value='" + esc(p.code) + "'>" + esc(p.name) + "</option>";
    }
    list.innerHTML = html;
  }
  function showGrid(l) {
    G.map.fitBounds(l.getBounds(), {padding: [40, 40], maxZoom: 17});
    l.setStyle({weight: 4, color: "#000"});
    if (G.searchTip) G.map.removeLayer(G.searchTip);
    G.searchTip = L.tooltip({className: "geogrid-tooltip", direction: "top"})
      .setLatLng(l.getBounds().getCenter()).setContent(gridTooltip(l.feature.properties)).addTo(G.map);
  }
  function showAnswer(text, hit) {
    var out = document.getElementById("geogrid-search-result");
    if (out) out.innerHTML = text;
    if (hit) {
      if (G.searchMarker) G.map.removeLayer(G.searchMarker);
      var xy = G.toDisplay(hit.lon, hit.lat);
      G.searchMarker = L.marker([xy[1], xy[0]]).addTo(G.map).bindTooltip(esc(hit.label), {permanent: true});
      G.map.setView([xy[1], xy[0]], Math.max(G.map.getZoom(), 17));
    }
  }
  function pickHit(answer) {
    /* Accepts the lookup API's answer in any of its likely shapes: {lon,lat}, {location}, lists, GeoJSON. */
    var list = Array.isArray(answer) ? answer
      : answer.point || answer.location || answer.geometry ? [answer]
      : [answer.results, answer.candidates, answer.matches].filter(function (x) { return x && x.length; })[0] || [];
    var a = list[0];
    if (!a) return null;
    var loc = a.location || a.point || a;
    var lon = loc.lon !== undefined ? loc.lon : loc.lng !== undefined ? loc.lng : loc.x;
    var lat = loc.lat !== undefined ? loc.lat : loc.y;
    if ((lon === undefined || lat === undefined) && a.geometry && a.geometry.coordinates) {
      lon = a.geometry.coordinates[0]; lat = a.geometry.coordinates[1];
    }
    if (lon === undefined || lat === undefined) return null;
    var grid = a.grid_code || (a.grid && (a.grid.code || a.grid)) || (a.properties && a.properties.grid_code) || "";
    var text = (a.match && a.match.address) || a.address || a.text || a.name || "";
    return {lon: +lon, lat: +lat, label: text + (grid ? " · 网格 " + grid : ""), grid: grid};
  }
  G.search = function (query) {
    query = (query || "").trim();
    if (!query) return;
    var q = query.toLowerCase();
    var hit = G.grids.filter(function (l) { return l.feature.properties.code.toLowerCase() === q; })[0]
      || G.grids.filter(function (l) {
        var p = l.feature.properties;
        return p.code.toLowerCase().indexOf(q) === 0 || (p.name || "").toLowerCase().indexOf(q) >= 0;
      })[0];
    if (hit) { showAnswer("网格 " + esc(hit.feature.properties.code)); showGrid(hit); return; }
    if (!G.config.lookup_url) { showAnswer("no grid matches '" + esc(query) + "'"); return; }
    fetch(G.config.lookup_url + "?address=" + encodeURIComponent(query)).then(function (r) {
      return r.json().then(function (body) { return {ok: r.ok, body: body}; });
    }).then(function (res) {
      var h = res.ok ? pickHit(res.body) : null;
      if (!h) { showAnswer(esc(res.body.error || ("no match for '" + query + "'"))); return; }
      showAnswer(esc(h.label), h);
      var g = G.grids.filter(function (l) { return l.feature.properties.code === h.grid; })[0];
      if (g) g.setStyle({weight: 4, color: "#000"});
    }).catch(function (e) { showAnswer("lookup failed: " + esc(e)); });
  };
  var Search = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "geogrid-search leaflet-bar");
      div.innerHTML = "<form><input id='geogrid-search-input' list='geogrid-search-list' type='search' "
        + "placeholder='网格编码或地址 grid code or address' aria-label='search'>"
        + "<datalist id='geogrid-search-list'></datalist></form><div id='geogrid-search-result'></div>";
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      div.querySelector("form").addEventListener("submit", function (e) {
        e.preventDefault(); G.search(div.querySelector("input").value);
      });
      return div;
    }
  });
  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () { var d = L.DomUtil.create("div", "geogrid-legend"); d.id = "geogrid-legend"; return d; }
  });

  G.setup = function (map, config) {
    G.map = map; G.config = config;
    if (map.options.maxZoom === undefined) map.setMaxZoom(19);  /* blank base: clustering needs a max zoom */
    map.getContainer().classList.add("geogrid-map");
    new Search().addTo(map); new Legend().addTo(map);
    G.legend();
  };
  G.finish = function () {
    Promise.all(G.pending).then(function () {
      requestAnimationFrame(function () {
        G.done = true; document.body.setAttribute("data-geogrid-ready", G.errors.length ? "error" : "1");
      });
    }, function () { document.body.setAttribute("data-geogrid-ready", "error"); });
  };
})();
