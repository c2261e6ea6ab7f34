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
    return {color: focus ? "#000" : "#444", weight: focus ? 3 : 1, opacity: 0.9, fill: true,
            fillColor: colorOf(f.properties[G.config.measure]), fillOpacity: 0.55, className: "geogrid-grid"};
  }
  function gridTooltip(p) {
    return "<b>" + esc(p.name || p.code) + "</b><br>编码 code " + esc(p.code)
      + (p.community_name ? "<br>" + esc(p.community_name) : "")
      + (p.worker !== undefined ? "<br>网格员 grid worker: " + (esc(p.worker) || "—") : "")
      + "<br>户数 households: " + p.households
      + "<br>覆盖率 coverage: " + pct(p.coverage)
      + (p.covered_households !== undefined ? " (" + p.covered_households + " 户)" : "")
      + (p.party_members !== undefined ? "<br>党员 party members: " + p.party_members : "") + specialLines(p.special);
  }
  /* the ledger as counts only: a count under the privacy threshold arrives as null and reads "< N" */
  function specialLines(special) {
    var keys = Object.keys(special || {});
    if (!keys.length) return "";
    return "<br>台账 ledger (counts):" + keys.map(function (g) {
      var n = special[g], label = (G.config.groups || {})[g] || g;
      return "<br>&nbsp;· " + esc(label) + ": " + (n === null ? "&lt; " + (G.config.suppress_below || "") : n);
    }).join("");
  }

  /* ---- legend: every symbol drawn on the map, and only those (G.used fills as layers are drawn) ---- */
  G.used = {};
  function use(key, entry) { if (!G.used[key]) { G.used[key] = entry; G.legend(); } }
  var SYMBOL_ORDER = ["facility:", "candidate", "cluster", "area", "uncovered", "covered", "problem", "base:"];
  function symbolHtml(e) {
    var style = e.shape === "line" ? "height:0;border:0;border-top:" + e.width + "px " + (e.dash ? "dashed " : "solid ")
        + e.color + ";margin-top:7px"
      : "background:" + e.fill + ";border-color:" + e.color + (e.dash ? ";border-style:dashed" : "");
    var cls = "geogrid-sym geogrid-sym-" + (e.shape || "dot");
    return "<div data-symbol='" + esc(e.key) + "'><i class='" + cls + "' style='" + style + "'>"
      + (e.text ? esc(e.text) : "") + "</i>" + esc(e.label) + "</div>";
  }
  G.legend = function () {
    var el = document.getElementById("geogrid-legend");
    if (!el) return;
    var m = measure(), html = "<div class='geogrid-legend-title'>" + esc(m.title) + " <small>(" + esc(m.unit) + ")</small></div>";
    var counts = {}, none = 0, sum = G.config.summary, counted = sum ? sum.grids : G.grids.length;
    if (sum) { counts = sum.counts; none = sum.none; }  /* tiled city page: counted by the server */
    else G.grids.forEach(function (l) {
      var v = l.feature.properties[G.config.measure];
      if (v === null || v === undefined) { none++; return; }
      var c = colorOf(v); counts[c] = (counts[c] || 0) + 1;
    });
    classes(m).forEach(function (c) {
      html += "<div data-class='" + c.color + "'><i style='background:" + c.color + "'></i>" + esc(c.label)
        + (counted ? " <small>(" + (counts[c.color] || 0) + ")</small>" : "") + "</div>";
    });
    if (none) html += "<div data-class='" + m.none + "'><i style='background:" + m.none + "'></i>" + esc(m.none_label)
      + " <small>(" + none + ")</small></div>";
    if (G.config.measure === "coverage" && G.config.basis) html += "<div class='geogrid-basis'>" + esc(G.config.basis) + "</div>";
    var keys = Object.keys(G.used).sort(function (a, b) {
      function rank(k) { for (var i = 0; i < SYMBOL_ORDER.length; i++) if (k.indexOf(SYMBOL_ORDER[i]) === 0) return i; return 99; }
      return rank(a) - rank(b) || (a < b ? -1 : 1);
    });
    if (keys.length) html += "<div class='geogrid-legend-sub'>图例 symbols</div>";
    keys.forEach(function (k) { html += symbolHtml(G.used[k]); });
    if (G.emptyMessage) html += "<div class='geogrid-empty'>" + esc(G.emptyMessage) + "</div>";
    el.innerHTML = html;
  };

  /* ---- summary: households, share covered and the gaps, from the grids drawn ---- */
  G.summary = function () {
    var el = document.getElementById("geogrid-summary");
    if (!el) return;
    var hh = 0, cov = 0, low = 0, grids = G.grids.length, sum = G.config.summary;
    if (sum) { hh = sum.households; cov = sum.covered_households; low = sum.low; grids = sum.grids; }
    else G.grids.forEach(function (l) {
      var p = l.feature.properties; hh += p.households || 0; cov += p.covered_households || 0;
      if (p.coverage !== null && p.coverage !== undefined && p.coverage < 0.5) low++;
    });
    var share = hh ? cov / hh : null;
    el.innerHTML = "<div class='geogrid-legend-title'>概况 summary</div>"
      + "<div>网格 grids: <b>" + grids + "</b></div>"
      + "<div>户数 households: <b>" + hh.toLocaleString() + "</b></div>"
      + "<div>覆盖率 covered: <b>" + pct(share) + "</b> (" + cov.toLocaleString() + " 户)</div>"
      + "<div>缺口 gaps: <b>" + (hh - cov).toLocaleString() + "</b> 户 uncovered · <b>" + low + "</b> grids &lt; 50%</div>"
      + (G.config.basis ? "<div class='geogrid-basis'>" + esc(G.config.basis) + "</div>" : "");
  };

  /* ---- labels: grid codes at a point inside each grid, only when zoomed in enough to read them ---- */
  function updateLabels() {
    var map = G.map, group = G.labels;
    if (!group) return;
    group.clearLayers();
    if (map.getZoom() < G.labelZoom) return;
    if (G.tiledGrids && !G.indexed) { G.index().then(updateLabels); return; }
    var bounds = map.getBounds().pad(0.2), n = 0;
    for (var i = 0; i < G.grids.length && n < 800; i++) {
      var p = G.grids[i].feature.properties, ll = L.latLng(p.ly, p.lx);
      if (!bounds.contains(ll)) continue;
      group.addLayer(L.marker(ll, {interactive: false, keyboard: false, pane: "geogridLabels",
        icon: L.divIcon({className: "geogrid-label", html: "<span>" + esc(p.name || p.code) + "</span>",
                         iconSize: null})}));
      n++;
    }
  }

  /* ---- layer kinds ---- */
  /* A vector-tile layer (city scale): tiles are fetched for the view only; fill() resolves once they are drawn. */
  function tileLayer(spec, name, style, interactive) {
    var styles = {}; styles[name] = style;
    var layer = L.vectorGrid.protobuf(spec.tiles, {vectorTileLayerStyles: styles, rendererFactory: L.canvas.tile,
      interactive: interactive, maxNativeZoom: 18, getFeatureId: function (f) { return f.properties.code; }});
    var drawn = new Promise(function (resolve) { layer.once("load", resolve); });
    layer.fill = function () { return drawn; };
    return layer;
  }
  /* The city's grids without geometry drawn: loaded only when searching or labelling zoomed in. */
  G.index = function () {
    if (!G.indexing) G.indexing = fetchJson(G.tiledGrids.url).then(function (data) {
      L.geoJSON(data, {onEachFeature: function (f, l) { G.grids.push(l); }});
      G.indexed = true; searchIndex();
    });
    return G.indexing;
  };
  function tiledGridsLayer(map, spec) {
    G.tiledGrids = spec; G.labelZoom = 16;
    var layer = tileLayer(spec, "grids", function (p) { return gridStyle({properties: p}); }, true);
    var tip = L.tooltip({sticky: true, className: "geogrid-tooltip"});
    layer.on("mouseover mousemove", function (e) {
      var p = e.layer.properties;
      if (G.hovered !== p.code) {
        if (G.hovered) layer.resetFeatureStyle(G.hovered);
        G.hovered = p.code;
        layer.setFeatureStyle(p.code, L.extend(gridStyle({properties: p}), {weight: 3, color: "#000", fill: true}));
      }
      tip.setLatLng(e.latlng).setContent(gridTooltip(p));
      if (!map.hasLayer(tip)) tip.addTo(map);
    });
    layer.on("mouseout", function () {
      if (G.hovered) layer.resetFeatureStyle(G.hovered);
      G.hovered = null; map.removeLayer(tip);
    });
    G.labels = L.layerGroup().addTo(map);
    map.on("zoomend moveend", updateLabels);
    var drawn = layer.fill;
    layer.fill = function () { G.legend(); G.summary(); return drawn(); };
    return layer;
  }
  function gridsLayer(map, spec) {
    if (spec.tiles) return tiledGridsLayer(map, spec);
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
      G.legend(); G.summary(); searchIndex();
      var focus = G.grids.filter(function (l) { return l.feature.properties.code === G.config.focus; })[0];
      var b = focus ? focus.getBounds() : layer.getBounds();
      if (b.isValid()) map.fitBounds(b, {padding: [20, 20], animate: false});
      updateLabels();
    };
    return layer;
  }

  /* Okabe–Ito colours (safe for colour-blind readers); vermillion is kept for uncovered buildings only. */
  var KIND_COLORS = {service_station: "#000000", service_center: "#CC79A7", elderly_care: "#E69F00",
    health_station: "#56B4E9", kindergarten: "#F0E442", school: "#0072B2", market: "#009E73"};
  var KIND_NAMES = {service_station: "党群服务站 service station", service_center: "社区服务中心 service centre",
    elderly_care: "养老驿站 elderly care", health_station: "卫生服务站 health station",
    kindergarten: "幼儿园 kindergarten", school: "学校 school", market: "菜市场 market", canteen: "社区食堂 canteen",
    rest_station: "驿站 rest station", checkpoint: "值守点 checkpoint", other: "其他 other"};
  var UNCOVERED = "#D55E00", COVERED = "#0072B2", AREA = "#009E73", PROBLEM = "#6a3d9a";

  function cluster(spec) {
    var group = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: spec.uncluster_zoom || 17,
                                      showCoverageOnHover: false, maxClusterRadius: 50});
    group.on("animationend", noteClusters); group.on("add", noteClusters);
    return group;
  }
  function noteClusters() {
    if (document.querySelector(".marker-cluster")) use("cluster", {key: "cluster", shape: "cluster", text: "n",
      fill: "rgba(110,204,57,.6)", color: "rgba(181,226,140,.6)", label: "数字圆圈：n 个点聚合，放大可展开 numbered circle: n points grouped, zoom in"});
  }

  function facilitiesLayer(map, spec) {
    var group = spec.cluster ? cluster(spec) : L.featureGroup();
    group.fill = function (data) {
      var markers = data.features.map(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        var colour = KIND_COLORS[p.kind] || "#999999";
        var m = L.circleMarker([c[1], c[0]], p.candidate
          ? {radius: 6, color: colour, weight: 2, dashArray: "2 2", fillColor: "#fff", fillOpacity: 1,
             className: "geogrid-facility geogrid-candidate"}
          : {radius: 7, color: "#fff", weight: 2, fillOpacity: 1, fillColor: colour, className: "geogrid-facility"});
        if (p.candidate) use("candidate", {key: "candidate", fill: "#fff", color: "#555", dash: true,
                                           label: "候选设施（空心）candidate site (hollow)"});
        else use("facility:" + p.kind, {key: "facility:" + p.kind, fill: colour, color: "#fff",
                                        label: KIND_NAMES[p.kind] || p.kind});
        m.bindTooltip("<b>" + esc(p.name) + "</b><br>" + esc(KIND_NAMES[p.kind] || p.kind) + " · " + p.circle_minutes + " 分钟 min"
          + (p.candidate ? "<br>候选 candidate" : "") + (p.address ? "<br>" + esc(p.address) : ""));
        return m;
      });
      group.addLayers ? group.addLayers(markers) : markers.forEach(function (m) { group.addLayer(m); });
    };
    return group;
  }

  function areaStyle() {
    return {color: AREA, weight: 1.2, opacity: 0.8, fill: true, fillColor: AREA, fillOpacity: 0.06,
            className: "geogrid-area"};
  }
  function areasLayer(map, spec) {
    if (spec.tiles) {  /* tiles hold every circle: draw the page's (mode, minutes) only */
      var tiled = tileLayer(spec, "service_areas", function (p) {
        return p.mode === spec.circle.mode && p.minutes === spec.circle.minutes ? areaStyle() : [];
      }, false);
      var drawn = tiled.fill;
      tiled.fill = function () {
        use("area", {key: "area", shape: "area", fill: "rgba(0,158,115,.12)", color: AREA,
                     label: "服务范围 service area: " + (G.config.basis || "")});
        return drawn();
      };
      return tiled;
    }
    var layer = L.geoJSON(null, {interactive: false, style: areaStyle, renderer: spec.canvas ? L.canvas() : L.svg()});
    layer.fill = function (data) {
      layer.addData(data);
      if (data.features.length) use("area", {key: "area", shape: "area", fill: "rgba(0,158,115,.12)", color: AREA,
        label: "服务范围 service area: " + (G.config.basis || "")});
    };
    return layer;
  }

  function buildingsLayer(map, spec) {
    var group = spec.cluster ? cluster(spec) : L.featureGroup();
    group.fill = function (data) {
      var markers = data.features.map(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], {radius: 4, weight: 1, color: "#fff", fillOpacity: 0.9,
          fillColor: p.covered ? COVERED : UNCOVERED, className: "geogrid-building"});
        if (p.covered) use("covered", {key: "covered", fill: COVERED, color: "#fff", label: "已覆盖楼栋 covered building"});
        else use("uncovered", {key: "uncovered", fill: UNCOVERED, color: "#fff", label: "未覆盖楼栋 uncovered building"});
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
      /* thin outlines only: a problem covering a whole grid must not hide the grid or its colour */
      return {color: PROBLEM, weight: 1.5, opacity: 0.8, dashArray: "4 4", fill: false, className: "geogrid-problem"};
    }, pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 4, color: PROBLEM, weight: 1.5, fillColor: "#fff", fillOpacity: 0.8});
    },
    onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindTooltip(esc(p.message || p.kind || "problem"));
      /* roster problems are fixed on the community's roster page: a click opens a popup linking to it */
      if (p.roster_url) l.bindPopup(esc(p.message) + "<br><a class='geogrid-roster-link' href='" + esc(p.roster_url)
        + "'>花名册 roster page</a>");
    }});
    layer.fill = function (data) {
      layer.addData(data);
      if (data.features.length) use("problem", {key: "problem", shape: "line", width: 2, dash: true, color: PROBLEM,
        label: "边界问题（悬停看详情）boundary problem (hover for details)"});
    };
    return layer;
  }

  /* ---- the offline base map: below the grids (areas, footprints), above their fill (roads, water, rail) ---- */
  var BASE = {
    "road:major": {color: "#f2a65a", weight: 5, casing: "#9c6b3c", label: "主干道 main road"},
    "road:secondary": {color: "#ffe8a3", weight: 3.5, casing: "#b39b5a", label: "次干道 secondary road"},
    "road:street": {color: "#ffffff", weight: 2.5, casing: "#999999", label: "街巷 street"},
    "road:path": {color: "#777777", weight: 1, dash: "2 3", label: "步行道 footpath"},
    "railway": {color: "#444444", weight: 2, dash: "8 4", label: "铁路 railway"},
    "water": {color: "#4a90c2", weight: 1, fill: "#a6cee3", label: "水系 water"},
    "building": {color: "#a0a0a0", weight: 0.5, fill: "#c8c8c8", label: "建筑轮廓 building footprint"},
    "compound": {color: "#8c8c8c", weight: 1, fill: "#ebe7dc", dash: "3 2", label: "小区 compound"}
  };
  function baseKey(p) { return p.layer === "road" ? "road:" + p.kind : p.layer; }
  function noteBase(key) {
    var b = BASE[key];
    if (!b) return;
    use("base:" + key, {key: "base:" + key, shape: b.fill ? "area" : "line", width: Math.min(b.weight, 5),
                        dash: !!b.dash, color: b.fill ? b.color : (b.casing || b.color), fill: b.fill, label: b.label});
  }
  function baseStyle(key, casing) {
    var b = BASE[key] || BASE["road:street"];
    if (casing) return {color: b.casing, weight: b.weight + 2, opacity: 0.9, fill: false, interactive: false};
    return {color: b.color, weight: b.weight, opacity: 1, dashArray: b.dash || null, fill: !!b.fill,
            fillColor: b.fill, fillOpacity: 1, interactive: false, className: "geogrid-base"};
  }
  function panes(map) {
    if (map.getPane("geogridBaseAreas")) return;
    map.createPane("geogridBaseAreas").style.zIndex = 350;  /* below the grids (overlayPane 400) */
    map.createPane("geogridBaseLines").style.zIndex = 420;  /* over their fill, under markers (600) */
    map.createPane("geogridLabels").style.zIndex = 450;
    ["geogridBaseAreas", "geogridBaseLines", "geogridLabels"].forEach(function (n) {
      map.getPane(n).style.pointerEvents = "none";
    });
  }
  /* Road names from the base tiles' "labels" layer (one point per named main road per tile, zoom 15 on),
     as the same text labels the embedded base map uses; a tile's labels go when the tile goes. */
  function tileLabels(map, grid) {
    var byTile = {}, fetchTile = grid._getVectorTilePromise;
    function key(c) { return c.z + "/" + c.x + "/" + c.y; }
    grid._getVectorTilePromise = function (coords) {
      return fetchTile.apply(this, arguments).then(function (json) {
        var layer = json.layers && json.layers.labels;
        if (layer && grid._map) {
          var group = byTile[key(coords)] = byTile[key(coords)] || L.layerGroup().addTo(map);
          layer.features.forEach(function (f) {
            var pt = f.loadGeometry()[0][0], size = grid.getTileSize(), extent = layer.extent || 4096;
            var ll = map.unproject(L.point((coords.x + pt.x / extent) * size.x, (coords.y + pt.y / extent) * size.y),
                                   coords.z);
            group.addLayer(L.marker(ll, {interactive: false, keyboard: false, pane: "geogridLabels",
              icon: L.divIcon({className: "geogrid-road-label", html: "<span>" + esc(f.properties.name) + "</span>",
                               iconSize: null})}));
          });
        }
        return json;
      });
    };
    grid.on("tileunload", function (e) {
      var k = key(e.coords);
      if (byTile[k]) { map.removeLayer(byTile[k]); delete byTile[k]; }
    });
    grid.on("remove", function () { Object.keys(byTile).forEach(function (k) { map.removeLayer(byTile[k]); }); byTile = {}; });
  }
  function baseLayer(map, spec) {
    panes(map);
    if (spec.tiles) {  /* city scale: vector tiles from /tiles/base */
      var styles = {}, seen = {};
      function styleFor(layerName) {
        return function (p, z, dims) {
          var key = layerName === "roads" ? "road:" + p.kind : layerName === "railways" ? "railway"
            : layerName === "buildings" ? "building" : layerName === "compounds" ? "compound" : "water";
          if (!seen[key]) { seen[key] = true; noteBase(key); }
          var st = baseStyle(key, false);
          if (st.fill && dims === 2) { st.fill = false; st.weight = 3; st.color = BASE[key].fill; }
          return st;
        };
      }
      ["water", "compounds", "buildings", "railways", "roads"].forEach(function (n) { styles[n] = styleFor(n); });
      styles.labels = function () { return []; };  /* drawn as text below, not as dots */
      var grid = L.vectorGrid.protobuf(spec.tiles, {vectorTileLayerStyles: styles, pane: "geogridBaseAreas",
        rendererFactory: L.canvas.tile, maxNativeZoom: 18, interactive: false});
      tileLabels(map, grid);
      grid.fill = function () {};
      return grid;
    }
    var group = L.layerGroup();
    var areas = L.canvas({pane: "geogridBaseAreas"}), lines = L.canvas({pane: "geogridBaseLines"});
    var labels = L.layerGroup();
    group.fill = function (data) {
      var feats = data.features.filter(function (f) { return f.properties.layer !== "label"; });
      var named = data.features.filter(function (f) { return f.properties.layer === "label"; });
      feats.forEach(function (f) { noteBase(baseKey(f.properties)); });
      var isArea = function (f) { return /Polygon/.test(f.geometry.type); };
      group.addLayer(L.geoJSON({type: "FeatureCollection", features: feats.filter(isArea)}, {
        renderer: areas, interactive: false, style: function (f) { return baseStyle(baseKey(f.properties), false); }}));
      var roads = feats.filter(function (f) { return !isArea(f); });
      group.addLayer(L.geoJSON({type: "FeatureCollection", features: roads.filter(function (f) {
        return BASE[baseKey(f.properties)] && BASE[baseKey(f.properties)].casing; })}, {
        renderer: lines, interactive: false, style: function (f) { return baseStyle(baseKey(f.properties), true); }}));
      group.addLayer(L.geoJSON({type: "FeatureCollection", features: roads}, {  /* a river as a line: never filled */
        renderer: lines, interactive: false, style: function (f) {
          var st = baseStyle(baseKey(f.properties), false);
          if (st.fill) { st.fill = false; st.weight = 3; st.color = BASE[baseKey(f.properties)].fill; }
          return st;
        }}));
      named.forEach(function (f) {
        var c = f.geometry.coordinates;
        labels.addLayer(L.marker([c[1], c[0]], {interactive: false, keyboard: false, pane: "geogridLabels",
          icon: L.divIcon({className: "geogrid-road-label", html: "<span>" + esc(f.properties.name) + "</span>",
                           iconSize: null})}));
      });
      function showLabels() {
        if (map.getZoom() >= 15 && group._map) labels.addTo(map); else labels.remove();
      }
      map.on("zoomend", showLabels); group.on("add remove", showLabels); showLabels();
    };
    return group;
  }

  var KINDS = {grids: gridsLayer, facilities: facilitiesLayer, areas: areasLayer, buildings: buildingsLayer,
               problems: problemsLayer, base: baseLayer};

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
      var source = data ? Promise.resolve(data) : spec.tiles ? Promise.resolve(null) : fetchJson(spec.url);
      var p = source.then(function (d) { return layer.fill(d); }).then(function () { layer.loaded = true; });
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
    if (G.tiledGrids && !G.indexed) { G.index().then(function () { G.search(query); }); return; }
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
      div.querySelector("input").addEventListener("focus", function () { if (G.tiledGrids) G.index(); });
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
  var Summary = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var d = L.DomUtil.create("div", "geogrid-box geogrid-summary"); d.id = "geogrid-summary"; return d;
    }
  });
  var Print = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var a = L.DomUtil.create("a", "geogrid-print-button leaflet-bar");
      a.href = "#"; a.title = "打印或导出 PDF print or save as PDF"; a.textContent = "打印 print";
      L.DomEvent.on(a, "click", function (e) {
        L.DomEvent.preventDefault(e);
        document.body.classList.add("geogrid-print"); G.map.invalidateSize();
        setTimeout(function () { window.print(); }, 300);
      });
      return a;
    }
  });

  G.setup = function (map, config) {
    G.map = map; G.config = config;
    if (map.options.maxZoom === undefined) map.setMaxZoom(19);  /* blank base: clustering needs a max zoom */
    map.getContainer().classList.add("geogrid-map");
    panes(map);
    if (config.bounds) map.fitBounds(config.bounds, {padding: [20, 20], animate: false});  /* before any tile */
    new Search().addTo(map); new Legend().addTo(map); new Summary().addTo(map); new Print().addTo(map);
    G.legend(); G.summary();
  };
  G.finish = function () {
    Promise.all(G.pending).then(function () {
      requestAnimationFrame(function () {
        G.done = true; document.body.setAttribute("data-geogrid-ready", G.errors.length ? "error" : "1");
      });
    }, function () { document.body.setAttribute("data-geogrid-ready", "error"); });
  };
})();
