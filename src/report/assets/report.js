// report.html's renderer. The data (hostnames, URLs, user agents ...) comes
// from captured traffic and is hostile: every node is built with
// createElement/textContent, never from HTML text, so no value can become
// markup. No network access of any kind (the page's CSP forbids it too).
"use strict";

(function () {
  const D = JSON.parse(document.getElementById("trawl-data").textContent);
  const SEVERITIES = ["critical", "high", "medium", "low", "info"];
  const SVGNS = "http://www.w3.org/2000/svg";
  const main = document.getElementById("main");
  const findings = D.findings || [];
  document.body.setAttribute("data-findings-count", String(findings.length));

  // ---- DOM helpers (text only) ------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === "onclick") e.addEventListener("click", v);
        else if (k === "oninput") e.addEventListener("input", v);
        else if (k === "class") e.className = v;
        else e.setAttribute(k, String(v));
      }
    }
    add(e, kids);
    return e;
  }
  function add(e, kids) {
    for (const k of kids) {
      if (k === undefined || k === null || k === false) continue;
      if (Array.isArray(k)) add(e, k);
      else if (k instanceof Node) e.appendChild(k);
      else e.appendChild(document.createTextNode(String(k)));
    }
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs || {})) e.setAttribute(k, String(attrs[k]));
    add(e, kids);
    return e;
  }
  // A link to a view of this page; `route` is data, so it is encoded.
  function link(text, route) {
    return el("a", { href: "#" + route.split("/").map(encodeURIComponent).join("/") }, text);
  }
  function hostLink(ip) {
    return ip ? link(ip, "host/" + ip) : "";
  }

  // ---- Formatting ----------------------------------------------------------
  function n(x) {
    return typeof x === "number" ? x.toLocaleString("en-US") : String(x === undefined ? "" : x);
  }
  function bytes(b) {
    if (typeof b !== "number") return "";
    const u = ["B", "KB", "MB", "GB", "TB", "PB"];
    let i = 0;
    while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
    return (i === 0 ? b.toFixed(0) : b.toFixed(b < 10 ? 2 : 1)) + " " + u[i];
  }
  function utc(t) {
    if (typeof t !== "number" || !(t > 0)) return "";
    return new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
  }
  function span(s) {
    if (!(s >= 0)) return "";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    if (s < 86400) return (s / 3600).toFixed(1) + " h";
    return (s / 86400).toFixed(1) + " days";
  }
  function fts(f) {  // a finding's time: ISO text or seconds
    if (typeof f === "number") return f;
    const t = Date.parse(f);
    return isNaN(t) ? 0 : t / 1000;
  }
  function sevBadge(s) {
    const known = SEVERITIES.indexOf(s) >= 0;
    return el("span", { class: "sev " + (known ? "sev-" + s : "") }, s || "?");
  }
  function sevRank(s) {
    const i = SEVERITIES.indexOf(s);
    return i < 0 ? SEVERITIES.length : i;
  }
  function dsts(f) {
    return Array.isArray(f.dst) ? f.dst.filter((x) => typeof x === "string") : [];
  }

  // ---- Sortable, filterable table --------------------------------------------
  // cols: [{label, value(row) -> sort key, show(row) -> node/text, num}]
  function table(cols, rows, opts) {
    opts = opts || {};
    const limit = opts.limit || 500;
    let order = rows.slice();
    let sortCol = -1, sortDir = 1, query = "", showAll = false;
    const wrap = el("div", { class: "tablewrap" });
    const note = el("div", { class: "note" });
    const filter = el("input", { class: "filter", type: "search", placeholder: "Filter rows\u2026",
                                 "aria-label": "filter" });
    const thead = el("thead");
    const tbody = el("tbody");
    const tbl = el("table", { class: opts.cls || "" }, thead, tbody);
    const heads = cols.map((c, i) => el("th", { class: c.num ? "num" : "", onclick: () => sortBy(i) }, c.label));
    thead.appendChild(el("tr", null, heads));
    const text = rows.map((r) => cols.map((c) => String(c.value(r))).join(" \u0001 ").toLowerCase());
    const index = new Map(rows.map((r, i) => [r, i]));
    function sortBy(i) {
      sortDir = sortCol === i ? -sortDir : (cols[i].num ? -1 : 1);
      sortCol = i;
      heads.forEach((h, k) => {
        h.classList.remove("sorted-asc", "sorted-desc");
        if (k === i) h.classList.add(sortDir > 0 ? "sorted-asc" : "sorted-desc");
      });
      const v = cols[i].value;
      order = rows.slice().sort((a, b) => {
        const x = v(a), y = v(b);
        if (x < y) return -sortDir;
        if (x > y) return sortDir;
        return index.get(a) - index.get(b);
      });
      draw();
    }
    function draw() {
      tbody.textContent = "";
      let shown = 0, matched = 0;
      for (const r of order) {
        if (query && text[index.get(r)].indexOf(query) < 0) continue;
        matched++;
        if (!showAll && shown >= limit) continue;
        shown++;
        const tr = el("tr", { class: (opts.rowClass || "") + (opts.onRow ? " clickable" : "") },
          cols.map((c) => el("td", { class: c.num ? "num" : c.wrap ? "wrap" : "" }, c.show ? c.show(r) : c.value(r))));
        if (opts.onRow) tr.addEventListener("click", (ev) => {
          if (ev.target.tagName !== "A") opts.onRow(r, tr);
        });
        tbody.appendChild(tr);
      }
      note.textContent = "";
      add(note, [n(shown) + " of " + n(matched) + " rows" + (query ? " matching" : "") +
                 (opts.more ? " \u00b7 " + opts.more : "")]);
      if (matched > shown) {
        add(note, [" ", el("button", { onclick: () => { showAll = true; draw(); } }, "show all")]);
      }
    }
    filter.addEventListener("input", () => { query = filter.value.toLowerCase(); draw(); });
    draw();
    add(wrap, [tbl]);
    return el("div", null, rows.length > 8 ? filter : null, wrap, note);
  }
  // [[name, count], ...] lists as a two-column table.
  function pairsTable(rows, label, count, opts) {
    return table([
      { label: label, value: (r) => r[0], wrap: true },
      { label: count || "count", value: (r) => r[1], show: (r) => n(r[1]), num: true },
    ], rows || [], opts);
  }

  // ---- Charts (hand-written SVG) -------------------------------------------------
  function timeline(width, height) {
    const b = (D.timeline && D.timeline.buckets) || [];
    const w = D.timeline ? D.timeline.width_s : 1;
    const s = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height,
                           role: "img", "aria-label": "timeline" });
    if (!b.length) {
      s.appendChild(svg("text", { x: 10, y: 20 }, "no traffic"));
      return s;
    }
    const t0 = b[0][0], t1 = b[b.length - 1][0] + w;
    const fs = findings.map((f) => [fts(f.ts), f]).filter((x) => x[0] > 0);
    const lo = Math.min(t0, ...fs.map((x) => x[0])), hi = Math.max(t1, ...fs.map((x) => x[0]));
    const X = (t) => 40 + ((t - lo) / Math.max(hi - lo, 1)) * (width - 50);
    const top = 28, base = height - 20;
    const maxC = Math.max(1, ...b.map((r) => r[1] + r[3]));
    const bw = Math.max(1, ((width - 50) * w) / Math.max(hi - lo, 1) - 0.5);
    for (const r of b) {
      const h = ((r[1] + r[3]) / maxC) * (base - top);
      s.appendChild(svg("rect", { x: X(r[0]), y: base - h, width: bw, height: Math.max(h, 0.5), fill: "#7ea6e0" },
        svg("title", {}, utc(r[0]) + ": " + n(r[1]) + " connections, " + n(r[3]) + " other records, " + bytes(r[2]))));
    }
    const colors = { critical: "#7a0019", high: "#c62828", medium: "#e07b00", low: "#2e7d32", info: "#607d8b" };
    fs.forEach(([t, f], i) => {
      const g = svg("a", { href: "#finding/" + i });
      g.appendChild(svg("rect", { x: X(t) - 2, y: 4 + (sevRank(f.severity) * 4), width: 4, height: 12,
                                  fill: colors[f.severity] || "#333" },
        svg("title", {}, utc(t) + " " + f.severity + " " + f.id + ": " + (f.summary || ""))));
      s.appendChild(g);
    });
    s.appendChild(svg("line", { x1: 40, y1: base, x2: width - 10, y2: base, stroke: "#999" }));
    s.appendChild(svg("text", { x: 40, y: height - 5 }, utc(lo)));
    s.appendChild(svg("text", { x: width - 10, y: height - 5, "text-anchor": "end" }, utc(hi)));
    s.appendChild(svg("text", { x: 2, y: top + 8 }, n(maxC)));
    return s;
  }

  // Intervals between a beacon's connections over time, with the period.
  function beaconPlot(bc, width, height) {
    const t = (bc.times || []).filter((x) => typeof x === "number");
    const s = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img",
                           "aria-label": "beacon intervals" });
    if (t.length < 3) {
      s.appendChild(svg("text", { x: 10, y: 20 }, "connection times not kept for this pair"));
      return s;
    }
    const iv = [];
    for (let i = 1; i < t.length; i++) iv.push([t[i], t[i] - t[i - 1]]);
    const sorted = iv.map((x) => x[1]).sort((a, b) => a - b);
    const cap = Math.max(sorted[Math.floor(sorted.length * 0.95)] * 1.5, Number(bc.period_s) * 2 || 1);
    const lo = t[0], hi = t[t.length - 1];
    const X = (x) => 50 + ((x - lo) / Math.max(hi - lo, 1e-9)) * (width - 60);
    const Y = (y) => height - 20 - (Math.min(y, cap) / cap) * (height - 30);
    s.appendChild(svg("line", { x1: 50, y1: height - 20, x2: width - 10, y2: height - 20, stroke: "#999" }));
    const p = Number(bc.period_s);
    if (p > 0) {
      s.appendChild(svg("line", { x1: 50, y1: Y(p), x2: width - 10, y2: Y(p), stroke: "#c62828",
                                  "stroke-dasharray": "4 3" }));
      s.appendChild(svg("text", { x: width - 12, y: Y(p) - 3, "text-anchor": "end" }, "period " + p.toFixed(1) + " s"));
    }
    for (const [x, y] of iv) {
      s.appendChild(svg("circle", { cx: X(x), cy: Y(y), r: 2.2, fill: "#1f5fbf" },
        svg("title", {}, utc(x) + ": " + y.toFixed(2) + " s after the previous")));
    }
    s.appendChild(svg("text", { x: 2, y: 12 }, cap.toFixed(1) + " s"));
    s.appendChild(svg("text", { x: 2, y: height - 22 }, "0 s"));
    s.appendChild(svg("text", { x: 50, y: height - 5 }, utc(lo)));
    s.appendChild(svg("text", { x: width - 10, y: height - 5, "text-anchor": "end" }, utc(hi)));
    return s;
  }

  function bars(values, width, height, label) {
    const v = (values || []).filter((x) => typeof x === "number");
    const s = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img",
                           "aria-label": label });
    const m = Math.max(1, ...v);
    const bw = (width - 10) / Math.max(v.length, 1);
    v.forEach((x, i) => {
      const h = (x / m) * (height - 16);
      s.appendChild(svg("rect", { x: 5 + i * bw, y: height - 14 - h, width: Math.max(bw - 1, 1), height: h,
                                  fill: "#8da9c4" }, svg("title", {}, n(x))));
    });
    s.appendChild(svg("text", { x: 5, y: height - 2 }, label));
    return s;
  }

  // ---- Views ---------------------------------------------------------------------
  const views = [
    ["overview", "Overview"], ["findings", "Findings"], ["timeline", "Timeline"], ["hosts", "Hosts"],
    ["traffic", "Traffic"], ["beacons", "Beacons"], ["dns", "DNS"], ["logins", "Logins"], ["web", "Web & TLS"],
    ["about", "About"],
  ];
  const nav = document.getElementById("nav");
  for (const [id, label] of views) nav.appendChild(el("a", { href: "#" + id, "data-view": id }, label));

  function findingsOf(ip) {
    const did = [], done = [];
    findings.forEach((f, i) => {
      if (f.src === ip) did.push(i);
      else if (dsts(f).indexOf(ip) >= 0) done.push(i);
    });
    return [did, done];
  }

  function findingRows(idx, opts) {
    const rows = idx.map((i) => ({ i: i, f: findings[i] }));
    return table([
      { label: "severity", value: (r) => sevRank(r.f.severity), show: (r) => sevBadge(r.f.severity) },
      { label: "finding", value: (r) => String(r.f.id || ""), show: (r) => link(String(r.f.id || "?"), "finding/" + r.i) },
      { label: "ATT&CK", value: (r) => String(r.f.attack || "") },
      { label: "actor", value: (r) => String(r.f.src || ""), show: (r) => hostLink(String(r.f.src || "")) },
      { label: "targets", value: (r) => Number(r.f.dst_count) || dsts(r.f).length,
        show: (r) => { const d = dsts(r.f); return [d.slice(0, 3).join(", "), d.length > 3 || r.f.dst_count > 3 ? " (" + n(r.f.dst_count || d.length) + ")" : ""]; } },
      { label: "first", value: (r) => fts(r.f.ts), show: (r) => utc(fts(r.f.ts)) },
      { label: "summary", value: (r) => String(r.f.summary || ""), wrap: true },
    ], rows, Object.assign({ rowClass: "finding", limit: 100000,
      onRow: (r, tr) => {
        const next = tr.nextSibling;
        if (next && next.classList && next.classList.contains("detail")) { next.remove(); return; }
        tr.after(el("tr", { class: "detail" }, el("td", { colspan: 7 }, findingDetail(r.f, r.i))));
      } }, opts || {}));
  }

  function findingDetail(f, i) {
    const kv = el("div", { class: "kv" });
    const put = (k, v) => { if (v !== undefined && v !== "" && v !== null) add(kv, [el("div", null, k), el("div", null, v)]); };
    put("finding", [String(f.id), " (", link("page", "finding/" + i), ")"]);
    put("severity", [sevBadge(f.severity), " confidence " + (f.confidence !== undefined ? f.confidence : "?")]);
    put("summary", f.summary);
    put("ATT&CK", f.attack);
    put("actor", hostLink(String(f.src || "")));
    put("targets", dsts(f).map((d, k) => [k ? ", " : "", hostLink(d)]));
    put("targets in all", f.dst_count);
    put("ports", Array.isArray(f.ports) ? f.ports.join(", ") : "");
    put("service", f.service);
    put("time", utc(fts(f.ts)) + " \u2013 " + utc(fts(f.last_ts)));
    if (Array.isArray(f.counts)) put("counts", f.counts.map((c) => Array.isArray(c) ? c.join(" ") : JSON.stringify(c)).join(", "));
    else if (f.counts && typeof f.counts === "object") put("counts", Object.keys(f.counts).map((k) => k + " " + f.counts[k]).join(", "));
    const ev = Array.isArray(f.evidence) ? f.evidence : [];
    put("evidence", [el("span", { class: "mono" }, ev.join(" ")),
      f.evidence_total > ev.length ? " (" + n(f.evidence_total) + " records in all; trawl query --finding " + f.id + ")" : ""]);
    put("details", el("pre", null, JSON.stringify(f.details === undefined ? {} : f.details, null, 2)));
    return kv;
  }

  function cards(list) {
    return el("div", { class: "cards" }, list.map(([k, v]) => el("div", { class: "card" },
      el("div", { class: "k" }, k), el("div", { class: "v" }, v))));
  }

  function viewOverview() {
    const o = D.overview || {};
    const sev = D.findings_by_severity || {};
    const out = [el("h1", null, "Overview")];
    out.push(cards([
      ["capture start", o.first_utc || "\u2013"], ["capture end", o.last_utc || "\u2013"],
      ["duration", span((o.last || 0) - (o.first || 0))], ["hosts", n(o.hosts) + (o.hosts_capped ? "+" : "")],
      ["connections", n(o.connections)], ["data", bytes(o.bytes)], ["packets", n(o.packets)],
      ["findings", n(D.findings_total)],
    ]));
    out.push(el("h2", null, "Findings by severity"));
    out.push(cards(SEVERITIES.map((s) => [s, n(sev[s] || 0)])));
    out.push(el("h2", null, "Timeline"),
      el("div", { class: "panel" }, timeline(1000, 150),
        el("div", { class: "note" }, "bars: connections and other records per time slice; marks at the top: findings (hover or click)")));
    const top = findings.map((f, i) => i).filter((i) => sevRank(findings[i].severity) <= 2).slice(0, 15);
    out.push(el("h2", null, "Most severe findings"),
      top.length ? findingRows(top) : el("p", { class: "muted" }, "No findings of medium severity or above."));
    out.push(el("div", { class: "grid2" },
      el("div", null, el("h2", null, "Top talkers"), talkersTable((D.talkers || []).slice(0, 10))),
      el("div", null, el("h2", null, "Top services"), servicesTable((D.services || []).slice(0, 10)))));
    return out;
  }

  function viewFindings() {
    const all = findings.map((f, i) => i);
    const out = [el("h1", null, "Findings (" + n(D.findings_total) + ")")];
    if (D.findings_total > findings.length)
      out.push(el("p", { class: "note" }, n(D.findings_total - findings.length) + " more in findings.jsonl"));
    out.push(el("p", { class: "note" }, "Click a row for its evidence and details; click a header to sort."));
    out.push(all.length ? findingRows(all) : el("p", { class: "muted" }, "No findings."));
    return out;
  }

  function viewFinding(i) {
    const f = findings[Number(i)];
    if (!f) return [el("h1", null, "No such finding")];
    const out = [el("h1", null, [sevBadge(f.severity), " ", String(f.id)]), el("div", { class: "panel" }, findingDetail(f, Number(i)))];
    const bc = (D.beacons || []).find((b) => b.finding === Number(i));
    if (bc) out.push(beaconPanel(bc));
    return out;
  }

  function viewTimeline() {
    const idx = findings.map((f, i) => i).sort((a, b) => fts(findings[a].ts) - fts(findings[b].ts) || a - b);
    return [el("h1", null, "Timeline"),
      el("div", { class: "panel" }, timeline(1300, 220)),
      el("h2", null, "Findings in time order"),
      idx.length ? findingRows(idx) : el("p", { class: "muted" }, "No findings.")];
  }

  function talkersTable(rows) {
    return table([
      { label: "client", value: (r) => r[0], show: (r) => hostLink(r[0]) },
      { label: "server", value: (r) => r[1], show: (r) => hostLink(r[1]) },
      { label: "connections", value: (r) => r[2], show: (r) => n(r[2]), num: true },
      { label: "bytes", value: (r) => r[3], show: (r) => bytes(r[3]), num: true },
    ], rows);
  }
  function servicesTable(rows) {
    return table([
      { label: "service", value: (r) => r[0] },
      { label: "connections", value: (r) => r[1], show: (r) => n(r[1]), num: true },
      { label: "bytes", value: (r) => r[2], show: (r) => bytes(r[2]), num: true },
    ], rows);
  }
  function connTable(rows, more) {
    return table([
      { label: "start", value: (r) => r[0], show: (r) => utc(r[0]) },
      { label: "uid", value: (r) => r[1], show: (r) => el("span", { class: "mono" }, r[1]) },
      { label: "client", value: (r) => r[2], show: (r) => [hostLink(r[2]), ":" + r[3]] },
      { label: "server", value: (r) => r[4], show: (r) => [hostLink(r[4]), ":" + r[5]] },
      { label: "proto", value: (r) => r[6] },
      { label: "service", value: (r) => r[7] },
      { label: "state", value: (r) => r[8] },
      { label: "duration", value: (r) => r[9], show: (r) => span(r[9]), num: true },
      { label: "sent", value: (r) => r[10], show: (r) => bytes(r[10]), num: true },
      { label: "received", value: (r) => r[11], show: (r) => bytes(r[11]), num: true },
    ], rows, { more: more });
  }

  function viewHosts() {
    const h = D.hosts || [];
    const fc = new Map();
    for (const f of findings) {
      for (const ip of [f.src].concat(dsts(f))) fc.set(ip, (fc.get(ip) || 0) + 1);
    }
    return [el("h1", null, "Hosts"),
      el("p", { class: "note" }, "The " + n(Math.min(h.length, (D.limits || {}).hosts_shown || h.length)) +
        " busiest hosts by bytes and every host a finding names (" + n(D.hosts_total) + " hosts seen" +
        (D.hosts_untracked ? "; more past the tracking limit" : "") + "). Click a host for its page."),
      table([
        { label: "host", value: (r) => r.ip, show: (r) => hostLink(r.ip) },
        { label: "findings", value: (r) => fc.get(r.ip) || 0, show: (r) => n(fc.get(r.ip) || 0), num: true },
        { label: "conns out", value: (r) => r.conns_out, show: (r) => n(r.conns_out), num: true },
        { label: "conns in", value: (r) => r.conns_in, show: (r) => n(r.conns_in), num: true },
        { label: "sent", value: (r) => r.bytes_out, show: (r) => bytes(r.bytes_out), num: true },
        { label: "received", value: (r) => r.bytes_in, show: (r) => bytes(r.bytes_in), num: true },
        { label: "failed out", value: (r) => r.failed_out, show: (r) => n(r.failed_out), num: true },
        { label: "first", value: (r) => r.first, show: (r) => utc(r.first) },
        { label: "last", value: (r) => r.last, show: (r) => utc(r.last) },
      ], h, { onRow: (r) => { location.hash = "#host/" + encodeURIComponent(r.ip); } })];
  }

  function viewHost(ip) {
    const h = (D.hosts || []).find((x) => x.ip === ip);
    const [did, done] = findingsOf(ip);
    const out = [el("h1", null, "Host " + ip)];
    if (!h) out.push(el("p", { class: "muted" }, "No traffic summary kept for this host (not among the busiest)."));
    else {
      out.push(cards([
        ["active", utc(h.first) + " \u2013 " + utc(h.last)], ["connections out", n(h.conns_out)],
        ["connections in", n(h.conns_in)], ["sent", bytes(h.bytes_out)], ["received", bytes(h.bytes_in)],
        ["failed attempts out", n(h.failed_out)], ["DNS queries", n(h.dns_queries) + (h.dns_nx ? " (" + n(h.dns_nx) + " NXDOMAIN)" : "")],
        ["HTTP requests", n(h.http_requests)],
        ["logins made", n(h.logins_out) + (h.logins_out_failed ? " (" + n(h.logins_out_failed) + " failed)" : "")],
        ["logins to it", n(h.logins_in) + (h.logins_in_failed ? " (" + n(h.logins_in_failed) + " failed)" : "")],
      ]));
    }
    const intel = did.concat(done).filter((i) => String(findings[i].id || "").indexOf("intel") === 0);
    out.push(el("h2", null, "Threat intelligence and GeoIP"));
    if (intel.length) {
      out.push(table([
        { label: "indicator", value: (i) => String((findings[i].details || {}).indicator || "") },
        { label: "feed", value: (i) => String((findings[i].details || {}).feed || "") },
        { label: "name", value: (i) => String((findings[i].details || {}).name || "") },
        { label: "finding", value: (i) => String(findings[i].summary || ""), wrap: true },
      ], intel));
    } else {
      out.push(el("p", { class: "muted" }, "No intel match names this host (run trawl analyze with --intel feeds)."));
    }
    out.push(el("p", { class: "note" }, "GeoIP is not part of the case; `trawl check` shows it for live destinations."));
    out.push(el("h2", null, "What it did (" + did.length + " findings as actor)"),
      did.length ? findingRows(did) : el("p", { class: "muted" }, "None."));
    out.push(el("h2", null, "What was done to it (" + done.length + " findings as target)"),
      done.length ? findingRows(done) : el("p", { class: "muted" }, "None."));
    if (h) {
      out.push(el("div", { class: "grid2" },
        el("div", null, el("h3", null, "Services it used"), pairsTable(h.services_out, "service", "connections")),
        el("div", null, el("h3", null, "Services it offered"), pairsTable(h.services_in, "service", "connections")),
        el("div", null, el("h3", null, "Servers it talked to"), peerTable(h.peers_out, "server")),
        el("div", null, el("h3", null, "Clients that talked to it"), peerTable(h.peers_in, "client"))));
      out.push(el("p", { class: "note" }, "Per host the first " + 10 + " distinct services and peers keep exact counts; the rest are summed as (others)."));
    }
    const conns = (D.conns || []).filter((r) => r[2] === ip || r[4] === ip);
    out.push(el("h2", null, "Its largest connections"), connTable(conns, "among the report's largest connections; all in conn.jsonl"));
    return out;
  }
  function peerTable(rows, label) {
    return table([
      { label: label, value: (r) => r[0], show: (r) => r[0] === "(others)" ? r[0] : hostLink(r[0]) },
      { label: "bytes", value: (r) => r[1], show: (r) => bytes(r[1]), num: true },
    ], rows || []);
  }

  function viewTraffic() {
    return [el("h1", null, "Traffic"),
      el("div", { class: "grid2" },
        el("div", null, el("h2", null, "Top talkers"), talkersTable(D.talkers || [])),
        el("div", null, el("h2", null, "Services"), servicesTable(D.services || []))),
      el("h2", null, "Connection states"), pairsTable(D.conn_states, "state", "connections"),
      el("h2", null, "Largest connections"),
      connTable(D.conns || [], D.conns_more ? n(D.conns_more) + " more in conn.jsonl" : "")];
  }

  function beaconPanel(bc) {
    const f = findings[bc.finding] || {};
    return el("div", { class: "panel" },
      el("h3", null, [sevBadge(f.severity), " ", link(String(f.summary || f.id || "beacon"), "finding/" + bc.finding)]),
      el("div", { class: "note" }, "period " + (bc.period_s !== undefined ? bc.period_s + " s" : "?") +
        ", jitter " + (bc.jitter_s !== undefined ? bc.jitter_s + " s" : "?") + ", score " + (bc.score !== undefined ? bc.score : "?") +
        ", " + n((bc.times || []).length) + " connection times plotted"),
      beaconPlot(bc, 900, 180),
      Array.isArray(bc.hist_bars) && bc.hist_bars.length ? bars(bc.hist_bars, 300, 70, "interval histogram (detector)") : null);
  }

  function viewBeacons() {
    const b = D.beacons || [];
    return [el("h1", null, "Beacons"),
      el("p", { class: "note" }, "Each dot is one connection: its time, and the seconds since the previous connection of the same pair. A beacon is a flat band at its period."),
      b.length ? b.map(beaconPanel) : el("p", { class: "muted" }, "No beacon findings.")];
  }

  function viewDns() {
    const d = D.dns || {};
    return [el("h1", null, "DNS"),
      cards([["queries", n(d.queries)]].concat((d.rcodes || []).slice(0, 5).map((r) => [r[0], n(r[1])]))),
      el("h2", null, "Clients by NXDOMAIN answers"),
      table([
        { label: "client", value: (r) => r[0], show: (r) => hostLink(r[0]) },
        { label: "queries", value: (r) => r[1], show: (r) => n(r[1]), num: true },
        { label: "NXDOMAIN", value: (r) => r[2], show: (r) => n(r[2]), num: true },
        { label: "ratio", value: (r) => r[1] ? r[2] / r[1] : 0, show: (r) => r[1] ? (100 * r[2] / r[1]).toFixed(0) + " %" : "", num: true },
      ], d.nx_clients || []),
      el("h2", null, "Odd names"),
      el("p", { class: "note" }, "Long names or labels, unusual characters, many digits: worth a look, not a verdict."),
      table([
        { label: "name", value: (r) => r[0], wrap: true },
        { label: "queries", value: (r) => r[1], show: (r) => n(r[1]), num: true },
        { label: "why", value: (r) => r[2] },
      ], d.odd || []),
      el("div", { class: "grid2" },
        el("div", null, el("h2", null, "TXT queries"), pairsTable(d.txt, "name", "queries")),
        el("div", null, el("h2", null, "Most queried names"), pairsTable(d.top_names, "name", "queries"))),
      el("h2", null, "Query types"), pairsTable(d.qtypes, "type", "queries")];
  }

  function viewLogins() {
    const a = D.auth || {};
    return [el("h1", null, "Login attempts (" + n(a.total) + ")"),
      el("h2", null, "By client, server, protocol and outcome"),
      table([
        { label: "client", value: (r) => r.client, show: (r) => hostLink(r.client) },
        { label: "server", value: (r) => r.server, show: (r) => hostLink(r.server) },
        { label: "protocol", value: (r) => r.proto },
        { label: "outcome", value: (r) => r.outcome },
        { label: "attempts", value: (r) => r.count, show: (r) => n(r.count), num: true },
        { label: "users (first 5)", value: (r) => (r.users || []).join(", "), wrap: true },
        { label: "first", value: (r) => r.first, show: (r) => utc(r.first) },
        { label: "last", value: (r) => r.last, show: (r) => utc(r.last) },
      ], a.groups || []),
      el("h2", null, "First attempts"),
      table([
        { label: "time", value: (r) => r.ts, show: (r) => utc(r.ts) },
        { label: "client", value: (r) => r.client, show: (r) => hostLink(r.client) },
        { label: "server", value: (r) => r.server, show: (r) => [hostLink(r.server), ":" + r.port] },
        { label: "protocol", value: (r) => r.proto },
        { label: "method", value: (r) => r.method },
        { label: "user", value: (r) => r.user, wrap: true },
        { label: "outcome", value: (r) => r.outcome },
      ], a.rows || [], { more: a.total > (a.rows || []).length ? "all in auth.jsonl" : "" })];
  }

  function viewWeb() {
    const h = D.http || {}, t = D.tls || {}, s = D.ssh || {};
    return [el("h1", null, "Web, TLS and SSH"),
      el("div", { class: "grid2" },
        el("div", null, el("h2", null, "HTTP hosts"), pairsTable(h.hosts, "host", "requests")),
        el("div", null, el("h2", null, "User agents"), pairsTable(h.user_agents, "user agent", "requests")),
        el("div", null, el("h2", null, "TLS server names (SNI)"), pairsTable(t.snis, "server name", "handshakes")),
        el("div", null, el("h2", null, "JA3"), pairsTable(t.ja3, "ja3", "handshakes")),
        el("div", null, el("h2", null, "SSH clients"), pairsTable(s.clients, "client version", "sessions")),
        el("div", null, el("h2", null, "SSH servers"), pairsTable(s.servers, "server version", "sessions"))),
      el("h2", null, "First HTTP requests"),
      table([
        { label: "time", value: (r) => r.ts || 0, show: (r) => utc(r.ts) },
        { label: "client", value: (r) => r.client || "", show: (r) => hostLink(r.client) },
        { label: "server", value: (r) => r.server || "", show: (r) => hostLink(r.server) },
        { label: "method", value: (r) => r.method || "" },
        { label: "host", value: (r) => r.host || "", wrap: true },
        { label: "uri", value: (r) => r.uri || "", wrap: true },
        { label: "status", value: (r) => r.status || "" },
        { label: "user agent", value: (r) => r.ua || "", wrap: true },
      ], h.rows || [], { more: "all in http.jsonl" })];
  }

  function viewAbout() {
    const m = D.meta || {}, o = D.overview || {};
    const kv = el("div", { class: "kv" });
    const put = (k, v) => add(kv, [el("div", null, k), el("div", null, v)]);
    put("made by", "trawl " + (m.version || "") + " (" + (m.source || "") + ")");
    if (m.command_line) put("command", el("span", { class: "mono" }, m.command_line));
    if (m.started) put("run started", m.started);
    put("captures", (m.inputs || []).length ? el("div", null, (m.inputs || []).map((p) => el("div", { class: "mono" }, p))) : "\u2013");
    put("records", Object.keys(o.records || {}).map((k) => k + " " + n(o.records[k])).join(", "));
    if (o.unreadable_lines) put("unreadable records", n(o.unreadable_lines));
    put("limits", "tables show at most " + n((D.limits || {}).conns_shown) + " connections, " +
      n((D.limits || {}).hosts_shown) + " busiest hosts (plus hosts in findings), " + n((D.limits || {}).rows) +
      " listed records; the JSONL files and case.db hold everything");
    return [el("h1", null, "About this report"), el("div", { class: "panel" }, kv)];
  }

  function route() {
    const h = location.hash.replace(/^#/, "");
    const parts = h.split("/").map((p) => { try { return decodeURIComponent(p); } catch (e) { return p; } });
    const v = parts[0] || "overview";
    let body;
    if (v === "host" && parts.length > 1) body = viewHost(parts.slice(1).join("/"));
    else if (v === "finding" && parts.length > 1) body = viewFinding(parts[1]);
    else {
      const fn = { overview: viewOverview, findings: viewFindings, timeline: viewTimeline, hosts: viewHosts,
                   traffic: viewTraffic, beacons: viewBeacons, dns: viewDns, logins: viewLogins, web: viewWeb,
                   about: viewAbout }[v] || viewOverview;
      body = fn();
    }
    main.textContent = "";
    add(main, [body]);
    for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.getAttribute("data-view") === v);
    document.body.setAttribute("data-view", v);
    window.scrollTo(0, 0);
  }
  window.addEventListener("hashchange", route);
  route();
})();
