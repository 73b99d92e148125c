"""The report page's stylesheet and script, kept as strings so the package needs no data files.

The script reads each run's figure from its own `<script type="application/json">` element and draws it
only when it comes near the viewport (IntersectionObserver), a few per animation frame; it never puts text
into the page as HTML. `window.losscli.renderAll()` draws every plot (tests, printing).
"""

PAGE_CSS = """
:root { --stepped:#c62828; --smooth:#2e7d32; --inconclusive:#a66300; --error:#8e24aa; --muted:#666;
        --line:#e3e3e3; --bg:#fafafa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d1d1d; background: var(--bg); }
header.top, section { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header.top { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 0; }
.sub { margin: 0 0 4px; }
.muted { color: var(--muted); font-weight: normal; }
.legend-help { margin: 4px 0 0; color: #444; font-size: 13px; }
.key { display: inline-block; width: 18px; height: 0; vertical-align: middle; border-top: 2px dashed; }
.key.k-step { border-color: var(--stepped); } .key.k-b { border-color: #999; border-top-style: dotted; }
.section-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 16px; margin: 22px 0 8px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600;
         color: #fff; background: #777; white-space: nowrap; }
.v-stepped { --c: var(--stepped); } .v-smooth { --c: var(--smooth); }
.v-inconclusive { --c: var(--inconclusive); } .v-error { --c: var(--error); }
.badge.v-stepped, .badge.v-smooth, .badge.v-inconclusive, .badge.v-error { background: var(--c); }
.badge.v-memo { background: #fff; color: var(--stepped); border: 1px solid var(--stepped); }
.filters { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.chip { border: 1px solid var(--c, #999); color: var(--c, #333); border-radius: 14px;
        padding: 1px 9px 1px 5px; cursor: pointer; user-select: none; background: #fff; }
.chip .n { color: var(--muted); }
.filters input[type=search] { padding: 3px 8px; border: 1px solid #ccc; border-radius: 5px;
                               min-width: 200px; }
.table-wrap { max-height: 62vh; overflow: auto; border: 1px solid var(--line); background: #fff;
              border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { position: sticky; top: 0; background: #f3f3f3; text-align: left; z-index: 1;
     border-bottom: 1px solid #d5d5d5; padding: 0; white-space: nowrap; }
th button { all: unset; display: block; padding: 6px 8px; cursor: pointer; font-weight: 600; }
th[aria-sort=ascending] button::after { content: " ▲"; font-size: 10px; }
th[aria-sort=descending] button::after { content: " ▼"; font-size: 10px; }
td { padding: 4px 8px; border-bottom: 1px solid #f0f0f0; vertical-align: top; }
td:nth-child(3), td:nth-child(4), td:nth-child(6), td:nth-child(7) { text-align: right;
    font-variant-numeric: tabular-nums; white-space: nowrap; }
td:first-child { min-width: 170px; max-width: 380px; overflow-wrap: anywhere; }
td:nth-child(8) { min-width: 110px; }
td:last-child { color: #444; min-width: 230px; }
tbody tr:hover { background: #f6f9ff; }
a { color: #1f5fa8; text-decoration: none; } a:hover { text-decoration: underline; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(224px, 1fr)); gap: 8px; }
.card { display: block; background: #fff; border: 1px solid var(--line); border-top: 3px solid var(--c, #999);
        border-radius: 5px; padding: 4px 6px 2px; color: inherit; }
.card:hover { box-shadow: 0 1px 5px rgba(0,0,0,.15); text-decoration: none; }
.card-name { display: block; font-size: 12px; white-space: nowrap; overflow: hidden;
             text-overflow: ellipsis; }
.spark { display: block; width: 100%; height: 54px; }
.grid.compact { grid-template-columns: repeat(auto-fill, minmax(168px, 1fr)); gap: 6px; }
.grid.compact .spark { height: 38px; }
.grid.compact .card-name { font-size: 11px; }
.spark polyline { fill: none; stroke: #1f5fa8; stroke-width: 1.4; vector-effect: non-scaling-stroke; }
.spark line.b { stroke: #ccc; stroke-width: 1; vector-effect: non-scaling-stroke; }
.spark line.b-step { stroke: var(--stepped); stroke-width: 1.2; stroke-opacity: .7;
                     vector-effect: non-scaling-stroke; }
.nospark { height: 54px; color: var(--muted); font-size: 12px; display: flex; align-items: center; }
.run { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--c, #999);
       border-radius: 6px; margin: 0 0 14px; padding: 10px 14px 6px; }
.run header { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; }
.run h3 { margin: 0; font-size: 15px; overflow-wrap: anywhere; }
.run h3 .name { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
.to-top { font-size: 12px; white-space: nowrap; }
.reason { margin: 4px 0 2px; } .reason.error { color: var(--error); }
.facts { margin: 0; color: var(--muted); font-size: 12.5px; overflow-wrap: anywhere; }
.facts .path { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.note { margin: 2px 0; font-size: 12.5px; color: #7a5b00; }
.ctl, .global-x { font-size: 12.5px; color: #444; margin: 6px 0 0; display: flex; align-items: center;
                  gap: 4px; }
.ctl label { margin-left: 12px; }
.ctl button, .global-x button { font: inherit; padding: 1px 9px; border: 1px solid #bbb; background: #fff;
                                cursor: pointer; border-radius: 4px; }
.ctl button[aria-pressed=true], .global-x button[aria-pressed=true] { background: #1f5fa8; color: #fff;
                                                                      border-color: #1f5fa8; }
.ctl button:disabled { color: #bbb; cursor: not-allowed; }
.plot { height: 360px; }
.plot.pending::before { content: "plot loads when scrolled into view"; color: #aaa; font-size: 12px; }
.plot .failed, .noplot { color: var(--muted); }
.timeline { height: 240px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.timeline .failed { color: var(--muted); padding: 8px; }
.tally-help { margin: 8px 0 4px; font-size: 12.5px; }
.splits { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-start; }
.split { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
.split summary { cursor: pointer; font-size: 13px; }
.tally-table { width: auto; margin: 4px 0; }
.tally-table th { position: static; padding: 3px 8px; font-weight: 600; }
.tally-table td { text-align: right; font-variant-numeric: tabular-nums; min-width: 0; color: inherit; }
.tally-table td:first-child { text-align: left; min-width: 0; max-width: 320px; overflow-wrap: anywhere; }
.tally-table td:last-child, .tally-table td:nth-child(8) { min-width: 0; color: inherit; }
[hidden] { display: none !important; }
@media print { .table-wrap { max-height: none; } .run { break-inside: avoid; } }
"""

PAGE_JS = r"""
(function () {
  "use strict";
  var CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"]};
  var plots = Array.prototype.slice.call(document.querySelectorAll(".plot[data-i]"));
  var state = {};  // run index -> {mode, logy, fig, done}
  var globalMode = "step";
  var queue = [];
  var waiting = [];  // resolve functions of renderAll() calls
  var scheduled = false;
  var inflight = [];  // promises of plots being drawn

  function figOf(i) {
    var s = state[i];
    if (!s.fig) { s.fig = JSON.parse(document.getElementById("fig-" + i).textContent); }
    return s.fig;
  }

  function build(i) {
    var s = state[i], fig = figOf(i);
    var mode = fig.views[s.mode] ? s.mode : "step";
    var view = fig.views[mode];
    var data = fig.data.map(function (t, k) { return Object.assign({}, t, {x: view.x[k]}); });
    var layout = JSON.parse(JSON.stringify(fig.layout));
    layout.shapes = JSON.parse(JSON.stringify(view.shapes));
    layout.annotations = JSON.parse(JSON.stringify(view.annotations));
    layout.xaxis.title = {text: view.title};
    layout.yaxis.type = s.logy ? "log" : "linear";
    if (s.logy) {  // on a log axis annotations are placed by the log of their value (shapes are not)
      delete layout.yaxis.range;
      layout.yaxis.autorange = true;
      layout.annotations = layout.annotations.filter(function (a) { return a.name !== "clip-note"; });
      layout.annotations.forEach(function (a) { if (a.yref === "y") { a.y = Math.log10(a.y); } });
    }
    return [data, layout];
  }

  function draw(i) {
    var div = document.querySelector('.plot[data-i="' + i + '"]');
    var s = state[i];
    div.classList.remove("pending");
    if (typeof Plotly === "undefined") {
      div.textContent = "";
      var p = document.createElement("p");
      p.className = "failed";
      p.textContent = "plotly.js could not be loaded (the report was written with --cdn, and this browser " +
        "is offline).";
      div.appendChild(p);
      return Promise.resolve();
    }
    var built = build(i);
    var call = s.done ? Plotly.react : Plotly.newPlot;
    s.done = true;
    return call(div, built[0], built[1], CONFIG);
  }

  function pump() {
    scheduled = false;
    var started = performance.now();
    // a few plots per frame, so that scrolling stays smooth
    while (queue.length && performance.now() - started < 30) {
      var i = queue.shift();
      if (!state[i].done) { inflight.push(draw(i)); }
    }
    if (queue.length) { schedule(); return; }
    var all = inflight;
    inflight = [];
    Promise.all(all).then(function () {
      if (queue.length || inflight.length) { return; }
      var w = waiting;
      waiting = [];
      w.forEach(function (f) { f(); });
    });
  }

  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(pump); }
  }

  function enqueue(i) {
    if (!state[i].done && queue.indexOf(i) < 0) { queue.push(i); schedule(); }
  }

  plots.forEach(function (div) {
    state[div.dataset.i] = {mode: "step", logy: false, fig: null, done: false};
    div.classList.add("pending");
  });

  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { observer.unobserve(e.target); enqueue(e.target.dataset.i); }
      });
    }, {rootMargin: "400px 0px"});
    plots.forEach(function (div) { observer.observe(div); });
  } else {
    plots.forEach(function (div) { enqueue(div.dataset.i); });
  }

  function setMode(i, mode) {
    var s = state[i];
    var buttons = document.getElementById("run-" + i).querySelectorAll(".ctl button[data-x]");
    var target = Array.prototype.filter.call(buttons, function (b) { return b.dataset.x === mode; })[0];
    if (!target || target.disabled || s.mode === mode) { return; }
    s.mode = mode;
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === target)); });
    if (s.done) { draw(i); }
  }

  document.getElementById("runs").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-x]");
    if (b) { setMode(b.closest(".run").dataset.i, b.dataset.x); return; }
    var g = ev.target.closest("button[data-gx]");
    if (g) {
      globalMode = g.dataset.gx;
      document.querySelectorAll("button[data-gx]").forEach(function (x) {
        x.setAttribute("aria-pressed", String(x === g));
      });
      Object.keys(state).forEach(function (i) { setMode(i, globalMode); });
    }
  });

  document.getElementById("runs").addEventListener("change", function (ev) {
    if (!ev.target.classList.contains("logy")) { return; }
    var i = ev.target.closest(".run").dataset.i;
    state[i].logy = ev.target.checked;
    if (state[i].done) { draw(i); }
  });

  // summary table: sort by a column
  var table = document.getElementById("runs-table");
  var tbody = table.tBodies[0];
  var order = {stepped: 0, inconclusive: 1, smooth: 2, error: 3};
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest("th");
    if (!th) { return; }
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var type = th.dataset.type;
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    table.tHead.querySelectorAll("th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var rows = Array.prototype.slice.call(tbody.rows);
    function key(row) {
      var v = row.cells[col].dataset.v;
      if (type === "num") { return v === "" ? null : parseFloat(v); }
      if (type === "verdict") { return v in order ? order[v] : 9; }
      return v.toLowerCase();
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }  // blanks last
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return (+a.dataset.i) - (+b.dataset.i);
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });

  // filters: by verdict and by name, over the table, the grid and the run sections
  var search = document.getElementById("name-filter");
  var shown = document.getElementById("shown");
  var names = Array.prototype.map.call(tbody.rows, function (r) {
    return [r.dataset.i, r.cells[0].dataset.v.toLowerCase(), r.dataset.verdict];
  });
  function applyFilters() {
    var on = {};
    document.querySelectorAll('input[name=verdict]').forEach(function (c) { on[c.value] = c.checked; });
    var text = search.value.trim().toLowerCase();
    var hide = {};
    var count = 0;
    names.forEach(function (pair) {
      var h = !on[pair[2]] || (text && pair[1].indexOf(text) < 0);
      hide[pair[0]] = h;
      if (!h) { count += 1; }
    });
    document.querySelectorAll("tr[data-i], .card[data-i], article.run[data-i]").forEach(function (el) {
      el.hidden = !!hide[el.dataset.i];
    });
    shown.textContent = count === names.length ? "" : "showing " + count + " of " + names.length;
  }
  document.getElementById("summary").addEventListener("change", applyFilters);
  search.addEventListener("input", applyFilters);

  // the tally's timeline: one mark per training at its start, drawn at once (it is one small plot)
  var timeline = document.getElementById("timeline");
  var timelineFig = document.getElementById("timeline-fig");
  if (timeline && timelineFig) {
    if (typeof Plotly === "undefined") {
      var msg = document.createElement("p");
      msg.className = "failed";
      msg.textContent = "plotly.js could not be loaded: the timeline cannot be drawn.";
      timeline.appendChild(msg);
    } else {
      var tf = JSON.parse(timelineFig.textContent);
      Plotly.newPlot(timeline, tf.data, tf.layout, CONFIG);
    }
  }

  window.addEventListener("beforeprint", function () { window.losscli.renderAll(); });

  window.losscli = {
    renderAll: function () {
      plots.forEach(function (div) { enqueue(div.dataset.i); });
      if (!queue.length) { return Promise.resolve(); }
      return new Promise(function (resolve) { waiting.push(resolve); });
    },
    rendered: function () {
      return document.querySelectorAll(".plot .js-plotly-plot, .plot.js-plotly-plot").length;
    }
  };
})();
"""
