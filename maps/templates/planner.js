/* The planner: pick a grid, redraw or split it with Leaflet.draw, merge it with another grid or click
   buildings to move into it; POST /plans for the preview, POST /plans/{id}/apply. */
function geogridPlanner(map, config) {
  var grids = config.grids, buildings = config.buildings, api = config.api || "", text = config.text || {};
  /* A message of the page in the user's language (maps/planner_text.py) with its {names} filled in. */
  function say(key, values) {
    return String(text[key] || key).replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? values[k] : m; });
  }
  var state = { code: null, merge: null, moving: [], plan: null };
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); };
  var gridLayer = L.geoJSON(grids, {
    style: function (f) { return { color: "#555", weight: 1.5, fillColor: f.properties.kind === "dedicated" ? "#9e9ac8" : "#9ecae1", fillOpacity: 0.25 }; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(esc(f.properties.code + " " + f.properties.name));  /* names are data: never markup */
      layer.on("click", function () { select(f.properties.code); });
    }
  }).addTo(map);
  var drawn = new L.FeatureGroup().addTo(map);
  var partner = L.layerGroup().addTo(map);  /* the grid to merge with */
  var after = L.layerGroup().addTo(map);
  var buildingLayer = L.layerGroup().addTo(map);
  function drawBuildings() {
    buildingLayer.clearLayers();
    $("planner-too-many").hidden = !buildings.too_many;
    buildings.features.forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      var picked = state.moving.indexOf(p.id) >= 0;
      var m = L.circleMarker([c[1], c[0]], { radius: picked ? 7 : 4, weight: picked ? 3 : 1, color: picked ? "#d7301f" : "#333",
                                              fillColor: picked ? "#fc9272" : "#fff", fillOpacity: 0.9 });
      m.bindTooltip(esc(say("tooltip", { label: p.label, households: p.households, grid: p.grid })));
      m.on("click", function () { toggleBuilding(p); });
      m.feature = f;
      buildingLayer.addLayer(m);
    });
  }
  map.addControl(new L.Control.Draw({
    edit: { featureGroup: drawn, remove: false },
    draw: { polyline: { shapeOptions: { color: "#d7301f", weight: 3 } }, marker: false, circle: false, circlemarker: false,
            polygon: { allowIntersection: false }, rectangle: true }
  }));
  var select_ = $("planner-grid"), merge_ = $("planner-merge");
  function options(el, skip) {
    while (el.options.length > 1) { el.remove(1); }
    grids.features.forEach(function (f) {
      if (f.properties.code === skip) { return; }
      var o = document.createElement("option");
      o.value = f.properties.code; o.textContent = f.properties.code + " " + f.properties.name;
      el.appendChild(o);
    });
  }
  function fillOptions() { options(select_, null); options(merge_, state.code); }
  fillOptions();
  drawBuildings();
  window.geogridPlannerGrids = grids;
  window.geogridPlannerBuildings = buildings;
  select_.addEventListener("change", function () { select(select_.value); });
  merge_.addEventListener("change", function () { mergeWith(merge_.value); });

  function status(text, error) { var s = $("planner-status"); s.textContent = text; s.className = "planner-status" + (error ? " error" : ""); }
  function feature(code) { return grids.features.find(function (f) { return f.properties.code === code; }); }

  function select(code) {
    state.code = code || null; state.merge = null; state.moving = []; state.plan = null; select_.value = code || "";
    drawBuildings();
    options(merge_, state.code); merge_.value = ""; merge_.disabled = !state.code;
    drawn.clearLayers(); partner.clearLayers(); after.clearLayers(); $("planner-result").innerHTML = "";
    $("planner-apply").disabled = true;
    var f = feature(code);
    if (!f) { $("planner-preview").disabled = true; return; }
    L.geoJSON(f, { style: { color: "#e6550d", weight: 3, fillOpacity: 0.1 } }).eachLayer(function (l) { drawn.addLayer(l); });
    $("planner-preview").disabled = false;
    status(say("picked", { code: code, version: f.properties.version }));
    if (paint) { paint.refresh(); }
  }

  function toggleBuilding(p) {
    if (!state.code) { status(say("move_first"), true); return; }
    if (p.grid === state.code) { status(say("already", { label: p.label, code: state.code }), true); return; }
    var k = state.moving.indexOf(p.id);
    if (k >= 0) { state.moving.splice(k, 1); } else { state.moving.push(p.id); }
    state.plan = null; $("planner-apply").disabled = true; drawBuildings();
    status(say("moving", { n: state.moving.length, code: state.code }));
  }

  function mergeWith(code) {
    state.merge = code || null; state.plan = null; partner.clearLayers(); $("planner-apply").disabled = true;
    var f = feature(code);
    if (!f) { select(state.code); return; }
    L.geoJSON(f, { style: { color: "#e6550d", weight: 3, dashArray: "6 4", fillOpacity: 0.1 } }).addTo(partner);
    status(say("merging", { a: state.code, b: code }));
  }

  map.on(L.Draw.Event.CREATED, function (e) {
    drawn.clearLayers(); drawn.addLayer(e.layer);
    var what = e.layerType === "polyline" ? "line" : "shape";
    if (!state.code && what === "shape" && config.community) {  /* a brand-new grid in this community */
      state.plan = null; $("planner-apply").disabled = true; $("planner-preview").disabled = false;
      status(say("new_grid", { community: config.community })); return;
    }
    status(state.code ? say(what + "_drawn", { code: state.code }) : say(what + "_orphan"));
  });
  map.on(L.Draw.Event.EDITED, function () { status(say("edited")); });

  function post(url, body) {
    /* A signed-in browser echoes its session's CSRF token (the geogrid_csrf cookie) on every write. */
    var csrf = (document.cookie.match(/(?:^|; )geogrid_csrf=([^;]*)/) || [])[1] || "";
    return fetch(api + url, { method: "POST", credentials: "same-origin",
                             headers: { "Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(csrf) },
                             body: body ? JSON.stringify(body) : null })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) { var e = new Error(j.error || r.statusText); e.body = j; throw e; } return j; }); });
  }

  function geometry() {
    var polys = [];
    drawn.eachLayer(function (l) {
      var g = l.toGeoJSON().geometry;
      if (g.type === "Polygon") { polys.push(g.coordinates); } else if (g.type === "MultiPolygon") { polys = polys.concat(g.coordinates); }
    });
    return polys.length === 1 ? { type: "Polygon", coordinates: polys[0] } : { type: "MultiPolygon", coordinates: polys };
  }

  function row(cells, tag) { return "<tr>" + cells.map(function (c) { return "<" + (tag || "td") + ">" + esc(c) + "</" + (tag || "td") + ">"; }).join("") + "</tr>"; }

  function render(plan) {
    var p = plan.preview, html = "";
    html += "<p id='planner-moved'>" + esc(say("moved", p.moved.totals)) + "</p>";
    var share = function (x) { return x == null ? "" : (100 * x).toFixed(1) + "%"; };
    html += "<table>" + row([say("th_grid"), say("th_status"), say("th_households"), "→", say("th_buildings"), "→",
                             say("th_coverage"), "→"], "th");
    p.grids.forEach(function (g) {
      var b = g.before || {}, a = g.after || {};
      html += row([g.code, say(g.status), b.households, a.households, b.buildings, a.buildings,
                   share(b.coverage), share(a.coverage)]);
    });
    html += "</table>";
    /* codes of one community differ in their last digits: "…007" fits the panel (the whole code in the grid table) */
    var short = function (c) { return c && c.length > 8 ? "…" + c.slice(-3) : c; };
    if ((p.units || []).length) {  /* painted units by name (block by its first address, compound, building) */
      html += "<table class='planner-names'>" + row([say("th_unit"), say("th_from"), say("th_to")], "th");
      p.units.slice(0, 30).forEach(function (u) { html += row([u.label, short(u.from), short(u.to)]); });
      html += "</table>";
    }
    if (p.moved.buildings.length) {
      html += "<table class='planner-names'>" + row([say("th_building"), say("th_from"), say("th_to")], "th");
      p.moved.buildings.slice(0, 30).forEach(function (b) {
        html += row([b.label || b.address || b.source_id || b.id, short(b.from), short(b.to)]);
      });
      html += "</table>";
    }
    (p.off_units || []).forEach(function (o) { html += "<p class='warning'>" + esc(o.message) + "</p>"; });
    var problems = p.validation.problems;
    var count = function (severity) { return problems.filter(function (x) { return x.severity === severity; }).length; };
    html += "<p>" + esc(say("checked", { errors: count("error"), warnings: count("warning") })) + "</p><ul>";
    problems.slice(0, 20).forEach(function (x) { html += "<li class='" + esc(x.severity) + "'>" + esc(x.message) + "</li>"; });
    html += "</ul><p><a id='planner-map-link' target='_blank' href='" + esc(api + p.map_url) + "'>" + esc(say("map_link")) + "</a></p>";
    $("planner-result").innerHTML = html;
    after.clearLayers();
    problems.forEach(function (x) {
      if (x.location) { L.geoJSON(x.location, { style: { color: x.severity === "error" ? "#b30000" : "#e6a700", weight: 2 },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5 }); } }).bindTooltip(esc(x.message)).addTo(after); }
    });
  }

  function previewed(plan) {
    state.plan = plan.plan; render(plan); $("planner-apply").disabled = false;
    status(say("previewed", { plan: plan.plan }));
  }
  var author = function () { return $("planner-author").value || null; };

  if (config.community) {  /* propose grids for the whole community: POST /partitions answers a plan */
    $("planner-propose").hidden = false;
    $("planner-propose").addEventListener("click", function () {
      status(say("proposing"));
      post("/partitions", { community: config.community, author: author() })
        .then(function (plan) {
          previewed(plan);  /* the proposed grids over the current ones */
          L.geoJSON(plan.preview.geometry.after, { style: { color: "#2171b5", weight: 2, fillOpacity: 0.15 } })
            .addTo(after);
        })
        .catch(function (e) { status(e.message, true); });
    });
  }

  $("planner-preview").addEventListener("click", function () {
    if (paint && paint.active()) { paint.preview(); return; }  /* painted units: move_units edits */
    if (!state.code && config.community && drawn.getLayers().length) {  /* the new grid drawn with none picked */
      var create = { op: "create", community: config.community, geometry: geometry() };
      if (config.crs) { create.crs = config.crs; }
      status(say("previewing"));
      post("/plans", { edits: [create], author: author() }).then(previewed)
        .catch(function (e) { status(e.message, true); });
      return;
    }
    if (!state.code) { status(say("pick_first"), true); return; }
    var base = {}, from = buildings.features.filter(function (f) { return state.moving.indexOf(f.properties.id) >= 0; })
      .map(function (f) { return f.properties.grid; });
    [state.code, state.merge].concat(from).forEach(function (c) { if (c && feature(c)) { base[c] = feature(c).properties.version; } });
    var line = null;
    drawn.eachLayer(function (l) { var g = l.toGeoJSON().geometry; if (g.type === "LineString") { line = g; } });
    var edit = state.merge ? { op: "merge", grids: [state.code, state.merge] }
      : state.moving.length ? { op: "move_buildings", buildings: state.moving.slice(), to: state.code }
      : line ? { op: "split", grid: state.code, line: line } : { op: "redraw", grid: state.code, geometry: geometry() };
    if (config.crs) { edit.crs = config.crs; }
    status(say("previewing"));
    post("/plans", { edits: [edit], base_versions: base, author: $("planner-author").value || null })
      .then(function (plan) { state.plan = plan.plan; render(plan); $("planner-apply").disabled = false;
                              status(say("previewed", { plan: plan.plan })); })
      .catch(function (e) { status(e.message, true); });
  });

  function reload() {  /* the grids and buildings as they are now: new boundaries, versions, codes and owners */
    var q = config.community ? "?community=" + encodeURIComponent(config.community) : "";
    var json = function (r) { return r.json(); };
    return Promise.all([fetch(api + "/planner/grids.geojson" + q).then(json),
                        fetch(api + "/planner/buildings.geojson" + q).then(json)]).then(function (both) {
      var fc = both[0]; buildings = both[1]; state.moving = []; drawBuildings();
      grids = fc; window.geogridPlannerGrids = fc; window.geogridPlannerBuildings = buildings;
      gridLayer.clearLayers(); gridLayer.addData(fc); drawn.clearLayers(); partner.clearLayers();
      state.code = null; state.merge = null; select_.value = ""; merge_.disabled = true;
      $("planner-preview").disabled = true;
      fillOptions();
      return paint ? paint.reload() : null;
    });
  }

  $("planner-apply").addEventListener("click", function () {
    if (!state.plan) { return; }
    $("planner-apply").disabled = true;
    var url = "/plans/" + state.plan + "/apply?author=" + encodeURIComponent($("planner-author").value || "");
    post(url)
      .catch(function (e) {  /* the change adds validation errors: apply anyway only with a reason (recorded) */
        if (!e.body || !e.body.added_errors) { throw e; }
        var reason = window.prompt(e.message + "\n\n" + say("force_reason"));
        if (!reason) { throw e; }
        return post(url + "&force=true&reason=" + encodeURIComponent(reason));
      })
      .then(function (r) {
        var changed = r.changed.concat(r.created.length ? [say("created", { created: r.created.join(", ") })] : []);
        status(say("applied", { plan: r.plan, changed: changed.join(", ") || "-", n: r.buildings_moved }));
        return reload().then(function () { window.geogridPlannerApplied = r; });
      })
      .catch(function (e) { status(e.message, true); $("planner-apply").disabled = false; });
  });
  var paint = window.geogridPaint ? geogridPaint(map, config, {
    say: say, esc: esc, post: post, status: status, previewed: previewed, author: author,
    grid: function () { return state.code; },
    dirty: function () { state.plan = null; $("planner-apply").disabled = true; $("planner-result").innerHTML = ""; }
  }) : null;
  window.geogridPlannerReady = true;
}
