/* Paint mode of the planner: pick a grid, click or brush blocks/compounds into it, lock grids, undo/redo, with a
   live balance bar summed here from the unit figures of GET /plans/units (households, households within a
   5-minute area, neighbours); "preview" sends move_units edits, the server's figures confirm before apply. */
function geogridPaint(map, config, ctx) {
  if (!config.community) { return null; }
  var api = config.api || "", say = ctx.say, esc = ctx.esc, $ = function (id) { return document.getElementById(id); };
  var data = null, assign = {}, original = {}, units = {}, grids = {}, locked = {}, undo = [], redo = [], stroke = null;
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99"];
  var colour = {};
  var layer = L.geoJSON(null, {
    style: style,
    onEachFeature: function (f, l) {
      units[f.id] = { feature: f, layer: l };
      l.bindTooltip(function () { var p = f.properties;
        return esc(say("paint_tooltip", { label: p.label, households: p.households, grid: assign[f.id] || "-" })); }, { sticky: true });
      l.on("mousedown", function (e) { if (active()) { L.DomEvent.stop(e); start(e.latlng); } });
    }
  });
  $("planner-paint").hidden = false;
  function active() { return $("paint-mode").checked && data !== null; }
  /* A unit without buildings (a strip between carriageways, a square, an empty block) holds no one: drawn
     faint and dashed, and the brush's radius passes it by (see under). */
  function empty(f) { return f.properties.buildings === 0; }
  function style(f) {
    var g = assign[f.id], picked = g && g === ctx.grid(), changed = original[f.id] !== g;
    return { color: picked ? "#000" : "#555", weight: picked ? 2 : 0.8, fillColor: colour[g] || "#bbb",
             fillOpacity: empty(f) ? (changed ? 0.45 : 0.12) : (changed ? 0.75 : 0.4), dashArray: empty(f) ? "4 4" : null };
  }
  function load() {
    return fetch(api + "/plans/units?community=" + encodeURIComponent(config.community), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (!j.features) { ctx.status(j.error || "?", true); return; }
        data = j; assign = {}; original = {}; units = {}; grids = {}; undo = []; redo = [];
        j.grids.forEach(function (g, k) { grids[g.code] = g; colour[g.code] = palette[k % palette.length]; });
        j.features.forEach(function (f) { assign[f.id] = original[f.id] = f.properties.grid; });
        layer.clearLayers(); layer.addData(j);
        $("paint-build").hidden = j.features.length > 0;
        fillLocks(); bar(); buttons();
        window.geogridPaintUnits = j;
      });
  }
  function fillLocks() {
    var el = $("paint-lock"); el.innerHTML = "";
    data.grids.forEach(function (g) {
      var o = document.createElement("option"); o.value = g.code; o.textContent = g.code + " " + (g.name || "");
      o.selected = !!locked[g.code]; el.appendChild(o);
    });
  }
  $("paint-lock").addEventListener("change", function () {
    locked = {}; Array.prototype.forEach.call($("paint-lock").selectedOptions, function (o) { locked[o.value] = true; });
  });
  $("paint-mode").addEventListener("change", function () {
    var on = $("paint-mode").checked, hint = document.querySelector(".planner-panel > .planner-hint");
    if (hint) { hint.hidden = on; }  /* the panel keeps the balance bar in view while painting */
    if (on) { $("paint-tools").hidden = false; layer.addTo(map); if (!data) { load(); } }
    else { $("paint-tools").hidden = true; map.removeLayer(layer); }
  });
  $("paint-brush").addEventListener("input", function () { $("paint-brush-px").textContent = $("paint-brush").value; });
  $("paint-build").addEventListener("click", function () {
    ctx.status(say("paint_building"));
    ctx.post("/plans/units?community=" + encodeURIComponent(config.community)).then(load)
      .catch(function (e) { ctx.status(e.message, true); });
  });

  /* Which units the brush touches at a point: the unit under it, and with a brush those within its radius that
     hold buildings. A unit without buildings is painted only where the pointer itself passes over it: brushing
     blocks along a road must not drag the road's strip (and the grid's edge) along the whole road. */
  function under(latlng) {
    var r = +$("paint-brush").value, p = map.latLngToContainerPoint(latlng), out = [];
    Object.keys(units).forEach(function (id) {
      var u = units[id], b = u.layer.getBounds(), reach = empty(u.feature) ? 0 : r;
      var nw = map.latLngToContainerPoint(b.getNorthWest()), se = map.latLngToContainerPoint(b.getSouthEast());
      if (p.x < nw.x - reach || p.x > se.x + reach || p.y < nw.y - reach || p.y > se.y + reach) { return; }
      if (touches(u.feature.geometry, p, reach)) { out.push(+id); }
    });
    return out;
  }
  function rings(geometry) { return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates; }
  function touches(geometry, p, r) {
    var inside = false, near = false;
    rings(geometry).forEach(function (poly) {
      poly.forEach(function (ring) {
        var pts = ring.map(function (c) { return map.latLngToContainerPoint([c[1], c[0]]); });
        for (var i = 0, j = pts.length - 1; i < pts.length; j = i++) {
          var a = pts[i], b = pts[j];
          if ((a.y > p.y) !== (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) { inside = !inside; }
          if (r > 0 && L.LineUtil.pointToSegmentDistance(p, a, b) <= r) { near = true; }
        }
      });
    });
    return inside || near;
  }
  function start(latlng) {
    if (!ctx.grid()) { ctx.status(say("paint_pick_first"), true); return; }
    stroke = { to: ctx.grid(), from: {} }; map.dragging.disable(); brush(latlng);
  }
  function brush(latlng) {
    if (!stroke) { return; }
    under(latlng).forEach(function (id) {
      if (assign[id] === stroke.to || id in stroke.from) { return; }
      if (locked[assign[id]] || locked[stroke.to]) { ctx.status(say("paint_locked", { code: locked[stroke.to] ? stroke.to : assign[id] }), true); return; }
      stroke.from[id] = assign[id]; assign[id] = stroke.to; units[id].layer.setStyle(style(units[id].feature));
    });
  }
  map.on("mousemove", function (e) { if (stroke) { brush(e.latlng); } });
  document.addEventListener("mouseup", function () {
    if (!stroke) { return; }
    map.dragging.enable();
    var done = stroke; stroke = null;
    if (!Object.keys(done.from).length) { return; }
    undo.push(done); redo = []; changed();
    ctx.status(say("paint_painted", { n: Object.keys(done.from).length, code: done.to }));
  });
  function replay(step, back) {
    Object.keys(step.from).forEach(function (id) { assign[id] = back ? step.from[id] : step.to; });
  }
  $("paint-undo").addEventListener("click", function () { var s = undo.pop(); if (s) { replay(s, true); redo.push(s); changed(); } });
  $("paint-redo").addEventListener("click", function () { var s = redo.pop(); if (s) { replay(s, false); undo.push(s); changed(); } });
  function changed() { layer.setStyle(style); bar(); buttons(); ctx.dirty(); }
  function buttons() { $("paint-undo").disabled = !undo.length; $("paint-redo").disabled = !redo.length; }

  /* The live balance bar: per grid the painting changes, households against the band, pieces, 5-minute share. */
  function pieces(code, of) {
    var seen = {}, n = 0;
    Object.keys(of).forEach(function (id) {
      if (of[id] !== code || seen[id]) { return; }
      n += 1; var todo = [id]; seen[id] = true;
      while (todo.length) {
        units[todo.pop()].feature.properties.neighbours.forEach(function (m) {
          if (of[m] === code && !seen[m]) { seen[m] = true; todo.push(String(m)); }
        });
      }
    });
    return n;
  }
  function figures() {
    var out = {};
    Object.keys(assign).forEach(function (id) {
      var a = original[id], b = assign[id], p = units[id].feature.properties;
      if (a === b) { return; }
      [a, b].forEach(function (c) { if (c && !out[c]) { var g = grids[c];
        out[c] = { households: g.households, covered: g.covered_households || 0, band: g.band, version: g.version }; } });
      if (a) { out[a].households -= p.households; out[a].covered -= p.covered_households; }
      if (b) { out[b].households += p.households; out[b].covered += p.covered_households; }
    });
    Object.keys(out).forEach(function (c) {
      var f = out[c]; f.pieces = pieces(c, assign); f.pieces_before = pieces(c, original);
      /* parts of the polygon: where a grid does not follow its units it may have parts its units do not show */
      f.parts = f.pieces + Math.max(0, (grids[c].parts || 0) - f.pieces_before);
      f.coverage = data.coverage_basis && f.households ? Math.round(1000 * f.covered / f.households) / 1000 : null;
    });
    return out;
  }
  function bar() {
    var f = figures(), html = "";
    Object.keys(f).sort().forEach(function (c) {
      var g = f[c], lo = g.band[0], hi = g.band[1], ok = g.households >= lo && g.households <= hi;
      var width = Math.min(100, Math.round(100 * g.households / (hi * 1.5 || 1)));
      var broken = g.pieces > Math.max(1, g.pieces_before);
      html += "<div class='paint-row' data-grid='" + esc(c) + "' data-households='" + g.households + "' data-pieces='" + g.pieces +
        "' data-coverage='" + (g.coverage == null ? "" : g.coverage) + "'><b>" + esc(c) + "</b> " +
        esc(say("paint_households", { households: g.households, lo: lo, hi: hi })) +
        "<div class='paint-band'><span class='paint-fill" + (ok ? "" : " out") + "' style='width:" + width + "%'></span>" +
        "<span class='paint-lo' style='left:" + Math.round(100 * lo / (hi * 1.5)) + "%'></span><span class='paint-hi' style='left:" +
        Math.round(100 / 1.5) + "%'></span></div>" +
        "<span class='" + (broken || !g.pieces ? "paint-broken" : "") + "'>" + esc(say("paint_pieces", { n: g.parts })) + "</span> · " +
        esc(say("paint_coverage", { share: g.coverage == null ? "—" : (100 * g.coverage).toFixed(1) + "%" })) + "</div>";
    });
    $("paint-bar").innerHTML = html || esc(say("paint_nothing"));
    window.geogridPaintBar = f;
  }
  function edits(confirm) {
    var by = {}, lockedList = Object.keys(locked);
    Object.keys(assign).forEach(function (id) { if (assign[id] !== original[id] && assign[id]) { (by[assign[id]] = by[assign[id]] || []).push(+id); } });
    return Object.keys(by).sort().map(function (c) {
      return { op: "move_units", grid: c, units: by[c], locked: lockedList, confirm_split: confirm };
    });
  }
  return {
    active: function () { return active() && undo.length > 0; },
    refresh: function () { if (data) { layer.setStyle(style); } },
    reload: function () { if (data) { return load(); } },
    preview: function () {
      var f = figures(), broken = Object.keys(f).filter(function (c) { return f[c].pieces > Math.max(1, f[c].pieces_before); });
      var empty = Object.keys(f).filter(function (c) { return f[c].pieces === 0; });
      if (empty.length) { ctx.status(say("paint_empty", { grids: empty.join(", ") }), true); return; }
      var confirm = false;
      if (broken.length) {
        confirm = window.confirm(say("paint_confirm_split", { grids: broken.join(", ") }));
        if (!confirm) { ctx.status(say("paint_not_sent"), true); return; }
      }
      var base = {}; Object.keys(f).forEach(function (c) { base[c] = f[c].version; });
      ctx.status(say("previewing"));
      ctx.post("/plans", { edits: edits(confirm), base_versions: base, locked: Object.keys(locked), author: ctx.author() })
        .then(function (plan) { window.geogridPaintPreviewed = plan; ctx.previewed(plan); })
        .catch(function (e) { ctx.status(e.message, true); });
    }
  };
}
