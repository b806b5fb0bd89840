// The mq broker status page: broker state from the HTTP API (/metrics, /api/v1/...), and a
// live topic browser speaking MQTT over the broker's websockets listener (MQTT.js).
"use strict";

const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const TREND_POINTS = 60;

const $ = (id) => document.getElementById(id);

// ---- Broker state -------------------------------------------------------------------------

/** Parses Prometheus text: unlabelled samples only, name -> number. */
function parseMetrics(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#") || line.includes("{")) continue;
    const i = line.lastIndexOf(" ");
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

const rates = { points: [], last: null };

function fmt(n) {
  if (!isFinite(n)) return "–";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return n >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1);
}

function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

function setState(id, ok, text) {
  const el = $(id);
  el.textContent = text;
  el.className = "pill " + (ok ? "ok" : "bad");
}

async function pollMetrics() {
  try {
    const resp = await fetch("/metrics", { cache: "no-store" });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    const m = parseMetrics(await resp.text());
    const now = Date.now();
    if (rates.last) {
      const dt = (now - rates.last.t) / 1000;
      const rin = Math.max(0, (m.mq_messages_received_total - rates.last.in) / dt);
      const rout = Math.max(0, (m.mq_messages_sent_total - rates.last.out) / dt);
      rates.points.push({ t: now, rin, rout });
      $("rate-in").textContent = fmt(rin);
      $("rate-out").textContent = fmt(rout);
    }
    rates.last = { t: now, in: m.mq_messages_received_total, out: m.mq_messages_sent_total };
    rates.points = rates.points.filter((p) => p.t >= now - WINDOW_MS);
    $("clients").textContent = fmt(m.mq_clients_connected);
    $("clients-max").textContent = "max " + fmt(m.mq_clients_maximum);
    $("subscriptions").textContent = fmt(m.mq_subscriptions);
    $("retained").textContent = fmt(m.mq_retained_messages);
    $("dropped").textContent = fmt(m.mq_messages_dropped_total);
    $("uptime").textContent = "up " + duration(m.mq_uptime_seconds);
    setState("api-state", true, "API ok");
    drawRates();
  } catch (e) {
    setState("api-state", false, "API " + e.message);
  }
}

async function pollListeners() {
  try {
    const list = await (await fetch("/api/v1/listeners", { cache: "no-store" })).json();
    const body = $("listeners").querySelector("tbody");
    body.replaceChildren(...list.map((l) => {
      const tr = document.createElement("tr");
      for (const v of [l.port, l.address ?? "all", l.protocol, l.tls ? "yes" : "no",
                       l.connections, l.accepted]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }));
    return list;
  } catch (e) {
    return [];
  }
}

/** The live chart: received and sent messages per second over the last minutes. */
function drawRates() {
  const canvas = $("rates");
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const left = 48, bottom = h - 18, top = 8, right = w - 8;
  const max = Math.max(1, ...rates.points.map((p) => Math.max(p.rin, p.rout))) * 1.1;
  const now = Date.now();
  const x = (t) => left + (right - left) * (1 - (now - t) / WINDOW_MS);
  const y = (v) => bottom - (bottom - top) * (v / max);
  g.strokeStyle = "#dde1e6";
  g.fillStyle = "#6b7480";
  g.font = "11px system-ui, sans-serif";
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    g.beginPath();
    g.moveTo(left, y(v));
    g.lineTo(right, y(v));
    g.stroke();
    g.fillText(fmt(v), 4, y(v) + 4);
  }
  for (let min = 0; min <= 5; min++) {
    g.textAlign = min === 0 ? "right" : min === 5 ? "left" : "center";
    g.fillText(min ? `-${min}m` : "now", x(now - min * 60000), h - 4);
  }
  g.textAlign = "left";
  const pts = rates.points;
  for (const [key, color] of [["rin", "47,111,222"], ["rout", "224,119,44"]]) {
    if (!pts.length) break;
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p[key])) : g.moveTo(x(p.t), y(p[key]))));
    g.strokeStyle = `rgb(${color})`;
    g.lineWidth = 2;
    g.stroke();
    g.lineTo(x(pts[pts.length - 1].t), bottom);
    g.lineTo(x(pts[0].t), bottom);
    g.fillStyle = `rgba(${color},0.12)`;
    g.fill();
  }
  g.fillStyle = "#6b7480";
}

// ---- Topic browser ------------------------------------------------------------------------

const NUMBER = /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/;

/** One level of the topic tree, with its DOM elements made once and updated in place. */
class TopicNode {
  constructor(name, path, parentList) {
    this.name = name;
    this.path = path;
    this.children = new Map();
    this.history = [];
    this.li = document.createElement("li");
    this.li.dataset.topic = path;
    this.details = document.createElement("details");
    this.details.open = path.split("/").length < 6;
    const summary = document.createElement("summary");
    this.row = document.createElement("span");
    this.row.className = "row";
    this.nameEl = span("name", name || "(empty)");
    this.valueEl = span("value", "");
    this.flagEl = span("retained", "retained");
    this.flagEl.hidden = true;
    this.countEl = span("count", "");
    this.trend = document.createElement("canvas");
    this.trend.width = 90;
    this.trend.height = 22;
    this.trend.hidden = true;
    this.row.append(this.nameEl, this.valueEl, this.flagEl, this.trend, this.countEl);
    summary.append(this.row);
    this.list = document.createElement("ul");
    this.details.append(summary, this.list);
    this.li.append(this.details);
    insertSorted(parentList, this.li, name);
  }

  child(name) {
    let c = this.children.get(name);
    if (!c) {
      const path = this.path === null ? name : this.path + "/" + name;
      c = new TopicNode(name, path, this.list);
      this.children.set(name, c);
    }
    return c;
  }

  /** A message for this exact topic. */
  set(text, retained) {
    this.valueEl.textContent = text;
    this.valueEl.title = text;
    this.flagEl.hidden = !retained;
    this.valueEl.classList.remove("fresh");
    void this.valueEl.offsetWidth; // restart the highlight animation
    this.valueEl.classList.add("fresh");
    if (NUMBER.test(text)) {
      this.history.push(Number(text));
      if (this.history.length > TREND_POINTS) this.history.shift();
      this.drawTrend();
    }
  }

  drawTrend() {
    const h = this.history;
    this.trend.hidden = h.length < 2;
    if (h.length < 2) return;
    const g = this.trend.getContext("2d");
    const w = this.trend.width, ht = this.trend.height;
    const lo = Math.min(...h), hi = Math.max(...h), span = hi - lo || 1;
    g.clearRect(0, 0, w, ht);
    g.strokeStyle = "#2f6fde";
    g.lineWidth = 1.5;
    g.beginPath();
    h.forEach((v, i) => {
      const px = (i / (h.length - 1)) * (w - 2) + 1;
      const py = ht - 2 - ((v - lo) / span) * (ht - 4);
      i ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
  }

  /** Topics at and below this node. */
  count() {
    let n = this.valueEl.textContent !== "" ? 1 : 0;
    for (const c of this.children.values()) n += c.count();
    if (this.children.size) this.countEl.textContent = n === 1 ? "(1 topic)" : `(${n} topics)`;
    return n;
  }
}

function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

function insertSorted(list, li, name) {
  const after = [...list.children].find((other) => other.dataset.name > name);
  li.dataset.name = name;
  list.insertBefore(li, after || null);
}

/** The invisible root: its children are the first topic levels. */
const root = { path: null, children: new Map(), list: null, child: TopicNode.prototype.child };

function resetTree() {
  root.list = $("tree");
  root.list.replaceChildren();
  root.children = new Map();
}

function showMessage(topic, payload, retained) {
  let node = root;
  for (const level of topic.split("/")) node = node.child(level);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch (_) {
    text = `<${payload.length} bytes of binary>`;
  }
  node.set(text.length > 500 ? text.slice(0, 500) + "…" : text, retained);
  scheduleCount();
}

let countTimer = null;
function scheduleCount() {
  if (countTimer) return;
  countTimer = setTimeout(() => {
    countTimer = null;
    let n = 0;
    for (const c of root.children.values()) n += c.count();
    $("topic-count").textContent = n === 1 ? "1 topic" : `${n} topics`;
  }, 300);
}

let client = null;

/** The URL of the broker's websockets listener: `?ws=` on the page, or the first listed.
 *  (`?filter=` on the page sets the topic filter.) */
function websocketUrl(listeners) {
  const given = new URLSearchParams(location.search).get("ws");
  if (given) return given;
  const secure = location.protocol === "https:";
  const ws = listeners.filter((l) => l.protocol === "websockets");
  const pick = ws.find((l) => l.tls === secure) || ws[0];
  if (!pick) return null;
  return `${pick.tls ? "wss" : "ws"}://${location.hostname}:${pick.port}/mqtt`;
}

function connect(listeners) {
  if (client) client.end(true);
  resetTree();
  const url = websocketUrl(listeners);
  const error = $("mqtt-error");
  if (!url) {
    error.hidden = false;
    error.textContent = "The broker has no websockets listener: add `listener 8080` and `protocol websockets`.";
    setState("mqtt-state", false, "MQTT: no websockets listener");
    return;
  }
  const filter = $("filter").value.trim() || "#";
  const options = {
    clientId: "mq-web-" + Math.random().toString(16).slice(2, 10),
    protocolVersion: 4,
    reconnectPeriod: 3000,
    connectTimeout: 10000,
  };
  if ($("user").value) {
    options.username = $("user").value;
    options.password = $("pass").value;
  }
  client = mqtt.connect(url, options);
  client.on("connect", () => {
    error.hidden = true;
    setState("mqtt-state", true, "MQTT " + url);
    client.subscribe(filter, { qos: 0 }, (err, granted) => {
      if (err || (granted && granted.some((g) => g.qos === 128))) {
        error.hidden = false;
        error.textContent = `Subscription to ${filter} refused.`;
      }
    });
  });
  client.on("message", (topic, payload, packet) => showMessage(topic, payload, packet.retain));
  client.on("error", (e) => {
    error.hidden = false;
    error.textContent = "MQTT: " + e.message;
    setState("mqtt-state", false, "MQTT error");
  });
  client.on("close", () => setState("mqtt-state", false, "MQTT disconnected"));
}

async function start() {
  const wanted = new URLSearchParams(location.search).get("filter");
  if (wanted) $("filter").value = wanted;
  try {
    const v = await (await fetch("/api/v1/version")).json();
    $("version").textContent = "version " + v.version;
  } catch (_) { /* shown by the API state */ }
  const listeners = await pollListeners();
  $("browse").addEventListener("submit", (e) => {
    e.preventDefault();
    connect(listeners);
  });
  connect(listeners);
  pollMetrics();
  setInterval(pollMetrics, POLL_MS);
  setInterval(pollListeners, 5 * POLL_MS);
  window.addEventListener("resize", drawRates);
}

start();
