"use strict";
// The pipectl dashboard: polls the JSON API every second and redraws. No framework, no
// network beyond this server.
(function () {
  const POLL_MS = 1000;
  const SVG = "http://www.w3.org/2000/svg";

  // The token: given once as ?token=, kept for this tab only, sent as a header.
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem("pipectl-token", params.get("token"));
    params.delete("token");
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const t = sessionStorage.getItem("pipectl-token");
    if (t) h["Authorization"] = "Bearer " + t;
    return h;
  }
  async function api(path, body) {
    const opts = { headers: headers(), cache: "no-store" };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers = headers({ "Content-Type": "application/json" });
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    const data = await resp.json().catch(() => ({ error: resp.statusText }));
    if (!resp.ok) throw new Error(data.error || resp.statusText);
    return data;
  }

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Formatting.
  function fmtDuration(s) {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m " + (s % 60) + "s";
    return s + "s";
  }
  function fmtTime(iso) {
    if (!iso) return "";
    const t = new Date(iso);
    return isNaN(t) ? "" : t.toLocaleString();
  }
  function fmtShortTime(iso) {
    const t = new Date(iso);
    if (isNaN(t)) return "";
    return t.toDateString() === new Date().toDateString() ? t.toLocaleTimeString() : t.toLocaleDateString();
  }
  function fmtBytes(n) {
    if (n == null) return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }
  function fmtRate(r) {
    if (r == null) return "–";
    return r >= 100 ? Math.round(r).toLocaleString() : r.toFixed(1);
  }
  function fmtWatermark(ms) {
    return ms ? new Date(ms).toLocaleTimeString() : "–";
  }

  // State.
  let selected = decodeURIComponent((location.hash.match(/job=([0-9a-f]+)/) || [])[1] || "");
  let detail = null;       // last GET /api/jobs/{id}
  let samples = [];        // recent {id, t, ops: {uid: {in, out}}} of the selected job
  let rates = {};          // uid -> {in, out} per second
  let busy = false;

  function select(id) {
    if (id === selected) return;
    selected = id;
    detail = null; samples = []; rates = {};
    history.replaceState(null, "", location.pathname + location.search + "#job=" + id);
    $("action-result").textContent = "";
    $("compat-report").hidden = true;
    $("compat-verdict").textContent = "";
    refresh();
  }

  let jobsShown = "";      // the jobs, statuses and selection the list shows
  function renderJobs(list) {
    const tbody = $("jobs").tBodies[0];
    $("no-jobs").hidden = list.length > 0;
    if (!selected && list.length) {
      const running = list.find((j) => j.status === "RUNNING");
      selected = (running || list[0]).id;
    }
    // Rows are rebuilt only when a job or a status changes (keeping focus); uptimes tick.
    const shown = selected + " " + list.map((j) => j.id + ":" + j.status).join(" ");
    if (shown === jobsShown) {
      list.forEach((j, i) => { tbody.rows[i].querySelector(".uptime").textContent = fmtDuration(j.uptime_s); });
      return;
    }
    jobsShown = shown;
    tbody.replaceChildren();
    for (const j of list) {
      const tr = el("tr", { "data-id": j.id, "data-status": j.status, tabindex: "0" });
      if (j.id === selected) tr.className = "selected";
      const name = el("td", { class: "name" }, j.name);
      name.append(el("div", { class: "id mono muted" }, j.id));
      const when = el("td");
      when.append(el("div", { class: "uptime" }, fmtDuration(j.uptime_s)), el("div", { class: "started muted" }, fmtShortTime(j.started)));
      tr.append(name, statusCell(j.status), when);
      tr.addEventListener("click", () => select(j.id));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") select(j.id); });
      tbody.append(tr);
    }
  }
  function statusCell(status) {
    const td = el("td");
    td.append(el("span", { class: "badge " + status.toLowerCase() }, status));
    return td;
  }

  // Rates are measured over the last few seconds of samples, timed by the server when the
  // job answered, so that neither the network nor batching makes them jump.
  const RATE_WINDOW_MS = 5000;
  function computeRates(d) {
    if (!d.live) { rates = {}; samples = []; return; }
    const ops = {};
    for (const o of d.live.operators) ops[o.uid] = { in: o.records_in, out: o.records_out };
    samples = samples.filter((s) => s.id === d.id && s.t < d.live_at_ms);
    samples.push({ id: d.id, t: d.live_at_ms, ops: ops });
    while (samples.length > 2 && d.live_at_ms - samples[1].t >= RATE_WINDOW_MS) samples.shift();
    const first = samples[0];
    if (samples.length < 2) return;
    const dt = (d.live_at_ms - first.t) / 1000;
    rates = {};
    for (const uid in ops) {
      const p = first.ops[uid];
      if (p) rates[uid] = { in: Math.max(0, ops[uid].in - p.in) / dt, out: Math.max(0, ops[uid].out - p.out) / dt };
    }
  }

  function liveOf(uid) {
    if (!detail || !detail.live) return null;
    return detail.live.operators.find((o) => o.uid === uid) || null;
  }
  function stateTotals(op) {
    let entries = 0, bytes = 0;
    for (const s of (op && op.states) || []) { entries += s.entries; bytes += s.bytes; }
    return { entries: entries, bytes: bytes, has: !!(op && op.states && op.states.length) };
  }

  function renderJob() {
    const d = detail;
    $("job").hidden = !d;
    if (!d) return;
    $("job-name").textContent = d.name;
    const st = $("job-status");
    st.textContent = d.status;
    st.className = "badge " + d.status.toLowerCase();
    $("job-id").textContent = d.id;
    $("job-pipeline").textContent = d.pipeline;
    const running = d.status === "RUNNING";
    for (const b of ["btn-savepoint", "btn-stop", "btn-cancel"]) $(b).disabled = !running || busy;
    const err = d.error || d.live_error || "";
    $("job-error").hidden = !err;
    $("job-error").textContent = err;
    renderGraph(d);
    renderOperators(d);
    renderSnapshots("savepoints", d.savepoints, true);
    renderSnapshots("checkpoints", d.checkpoints, false);
  }

  function renderOperators(d) {
    const tbody = $("operators").tBodies[0];
    tbody.replaceChildren();
    for (const n of (d.graph && d.graph.nodes) || []) {
      const op = liveOf(n.uid);
      const r = rates[n.uid];
      const s = stateTotals(op);
      const tr = el("tr", { "data-uid": n.uid });
      tr.append(el("td", { class: "mono" }, n.uid), el("td", {}, n.kind),
        el("td", { class: "num rate-in" }, op ? fmtRate(r && r.in) : "–"),
        el("td", { class: "num rate-out" }, op ? fmtRate(r && r.out) : "–"),
        el("td", { class: "num records-in" }, op ? String(op.records_in) : "–"),
        el("td", { class: "num records-out" }, op ? String(op.records_out) : "–"),
        el("td", { class: "num backpressure" }, op ? Math.round(op.backpressure * 100) + "%" : "–"),
        el("td", { class: "num state-entries" }, s.has ? String(s.entries) : "–"),
        el("td", { class: "num state-bytes" }, s.has ? fmtBytes(s.bytes) : "–"),
        el("td", { class: "watermark" }, op ? fmtWatermark(op.watermark_ms) : "–"));
      tbody.append(tr);
    }
  }

  function renderSnapshots(id, list, savepoints) {
    const tbody = $(id).tBodies[0];
    tbody.replaceChildren();
    if (!list.length) {
      const tr = el("tr");
      tr.append(el("td", { colspan: "5", class: "muted" }, savepoints ? "No savepoints yet." : "No checkpoints yet."));
      tbody.append(tr);
      return;
    }
    for (const s of list) {
      const tr = el("tr", { "data-path": s.path });
      if (!s.exists) tr.className = "gone";
      tr.append(el("td", { class: "mono path" }, s.path), el("td", {}, fmtTime(s.time)),
        el("td", { class: "num" }, fmtBytes(s.bytes)), el("td", { class: "num" }, s.duration_ms + " ms"),
        el("td", {}, savepoints ? (s.trigger || "") : (s.exists ? "" : "replaced")));
      tbody.append(tr);
    }
  }

  // The graph: one column per topological layer, sources on the left, sinks on the right;
  // in a narrow window one row per layer, sources at the top.
  const NODE_W = 190, NODE_H = 78, GAP_X = 70, GAP_Y = 22, PAD = 12;
  function renderGraph(d) {
    const g = $("graph");
    g.replaceChildren();
    $("graph-note").textContent = d.graph_error ||
      (d.live ? "" : d.status === "RUNNING" ? "Waiting for the job's figures…" : "The job is not running: no live figures.");
    if (!d.graph) return;
    const layers = [];
    for (const n of d.graph.nodes) (layers[n.layer] = layers[n.layer] || []).push(n);
    const across = Math.max(...layers.map((l) => l.length));
    const horizontal = layers.length * (NODE_W + GAP_X) <= g.parentElement.clientWidth * 1.4;
    // Layer i sits at depth i; a node's place within its layer is centred across it.
    const step = horizontal ? [NODE_W + GAP_X, NODE_H + GAP_Y] : [NODE_W + GAP_Y, NODE_H + GAP_X];
    const pos = {};
    layers.forEach((layer, depth) => {
      const off = (across - layer.length) / 2;
      layer.forEach((n, i) => {
        const along = depth, side = i + off;
        pos[n.uid] = horizontal
          ? { x: PAD + along * step[0], y: PAD + side * step[1] }
          : { x: PAD + side * step[0], y: PAD + along * step[1] };
      });
    });
    const cols = horizontal ? layers.length : across, rows = horizontal ? across : layers.length;
    const width = PAD * 2 + cols * step[0] - (step[0] - NODE_W);
    const height = PAD * 2 + rows * step[1] - (step[1] - NODE_H);
    g.setAttribute("viewBox", "0 0 " + width + " " + height);
    g.setAttribute("width", width);
    g.setAttribute("height", height);
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
    defs.append(marker);
    g.append(defs);
    for (const e of d.graph.edges) {
      const a = pos[e.from], b = pos[e.to];
      if (!a || !b) continue;
      let d;
      if (horizontal) {
        const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2, mx = (x1 + x2) / 2;
        d = "M " + x1 + " " + y1 + " C " + mx + " " + y1 + ", " + mx + " " + y2 + ", " + x2 + " " + y2;
      } else {
        const x1 = a.x + NODE_W / 2, y1 = a.y + NODE_H, x2 = b.x + NODE_W / 2, y2 = b.y, my = (y1 + y2) / 2;
        d = "M " + x1 + " " + y1 + " C " + x1 + " " + my + ", " + x2 + " " + my + ", " + x2 + " " + y2;
      }
      const path = svg("path", {
        d: d,
        class: "edge" + (e.late ? " late" : ""), "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to,
      });
      if (e.late) path.append(svg("title", {}, "late records"));
      g.append(path);
    }
    for (const n of d.graph.nodes) {
      const p = pos[n.uid], op = liveOf(n.uid), r = rates[n.uid], s = stateTotals(op);
      const bp = op ? op.backpressure : 0;
      const node = svg("g", { class: "node " + n.role, "data-uid": n.uid, transform: "translate(" + p.x + "," + p.y + ")" });
      node.append(svg("title", {}, n.uid + " (" + n.kind + ")"));
      node.append(svg("rect", { width: NODE_W, height: NODE_H, rx: "8", class: "box" }));
      node.append(svg("text", { x: "10", y: "18", class: "uid" }, clip(n.uid, 24)));
      node.append(svg("text", { x: NODE_W - 10, y: "18", class: "kind", "text-anchor": "end" }, clip(n.kind, 12)));
      const ioText = op ? "in " + fmtRate(r && r.in) + "/s · out " + fmtRate(r && r.out) + "/s" : "not running";
      node.append(svg("text", { x: "10", y: "37", class: "metric io" }, ioText));
      const stText = s.has ? s.entries + " keys · " + fmtBytes(s.bytes) : (op && op.watermark_ms ? "wm " + fmtWatermark(op.watermark_ms) : "");
      node.append(svg("text", { x: "10", y: "54", class: "metric state" }, stText));
      // Backpressure bar: green to red.
      node.append(svg("rect", { x: "10", y: "62", width: NODE_W - 20, height: "6", rx: "3", class: "bp-track" }));
      node.append(svg("rect", { x: "10", y: "62", width: Math.max(0, (NODE_W - 20) * bp), height: "6", rx: "3", class: "bp " + (bp > 0.5 ? "high" : bp > 0.1 ? "mid" : "low") }));
      node.lastChild.append(svg("title", {}, "backpressure " + Math.round(bp * 100) + "%"));
      g.append(node);
    }
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  async function refresh() {
    try {
      const list = await api("/api/jobs");
      renderJobs(list);
      $("conn").textContent = "live · " + new Date().toLocaleTimeString();
      $("conn").className = "muted";
      if (selected) {
        const d = await api("/api/jobs/" + encodeURIComponent(selected));
        if (d.id !== selected) return;
        computeRates(d);
        detail = d;
      }
      renderJob();
    } catch (e) {
      $("conn").textContent = "disconnected: " + e.message;
      $("conn").className = "error";
    }
  }

  async function act(action, question) {
    if (!detail || !confirm(question)) return;
    const id = detail.id;
    busy = true;
    renderJob();
    $("action-result").textContent = action + " of " + id.slice(0, 8) + "…";
    $("action-result").className = "";
    try {
      const r = await api("/api/jobs/" + id + "/" + action, {});
      $("action-result").textContent = r.path ? action + " done: " + r.path : action + " done";
      $("action-result").dataset.path = r.path || "";
    } catch (e) {
      $("action-result").textContent = e.message;
      $("action-result").className = "error";
    } finally {
      busy = false;
      refresh();
    }
  }
  $("btn-savepoint").addEventListener("click", () => act("savepoint", "Take a savepoint of this job? It keeps running."));
  $("btn-stop").addEventListener("click", () => act("stop", "Stop this job with a savepoint? Its sources stop and the job ends."));
  $("btn-cancel").addEventListener("click", () => act("cancel", "Cancel this job now, without a savepoint?"));

  $("compat-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!detail) return;
    const verdict = $("compat-verdict"), report = $("compat-report");
    verdict.textContent = "checking…";
    verdict.className = "";
    try {
      const r = await api("/api/jobs/" + detail.id + "/compat", { file: $("compat-file").value, format: $("compat-format").value });
      verdict.textContent = r.compatible ? "compatible" : "incompatible";
      verdict.className = "badge " + (r.compatible ? "running" : "failed");
      report.textContent = r.report;
    } catch (e) {
      verdict.textContent = e.message;
      verdict.className = "error";
      report.textContent = "";
    }
    report.hidden = !report.textContent;
  });

  refresh();
  setInterval(refresh, POLL_MS);
})();
