// The live page of a p2pnet node: the overlay as a graph (a small force layout on SVG),
// counters, recent messages whose spread replays hop by hop on click, and events from
// /events. Plain script, no build step, no library: it must work without internet.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const withToken = (path) =>
  token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

/** Positions and velocities by node id, kept across refreshes so the layout does not jump. */
const layout = new Map();
let graph = { nodes: [], links: [], counters: {} };
let settleTicks = 0;
let replay = null;

async function getJson(path) {
  const response = await fetch(withToken(path));
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function refresh() {
  try {
    const [status, network] = await Promise.all([getJson("/status"), getJson("/network")]);
    $("role").textContent = `${status.role} ${status.address ?? ""}`;
    graph = network;
    place();
    draw();
    showCounters();
  } catch (error) {
    addEvent(`cannot read the node: ${error.message}`);
  }
}

/** New nodes start near a neighbour (or on a circle); the layout then runs for a while. */
function place() {
  const box = $("graph").getBoundingClientRect();
  const cx = box.width / 2, cy = box.height / 2;
  graph.nodes.forEach((node, i) => {
    if (layout.has(node.id)) return;
    const link = graph.links.find((l) => l.source === node.id || l.target === node.id);
    const near = link && layout.get(link.source === node.id ? link.target : link.source);
    const angle = (i / Math.max(1, graph.nodes.length)) * 2 * Math.PI;
    layout.set(node.id, {
      x: near ? near.x + (Math.random() - .5) * 40 : cx + Math.cos(angle) * Math.min(cx, cy) * .7,
      y: near ? near.y + (Math.random() - .5) * 40 : cy + Math.sin(angle) * Math.min(cx, cy) * .7,
      vx: 0,
      vy: 0,
    });
  });
  for (const id of [...layout.keys()]) if (!graph.nodes.some((n) => n.id === id)) layout.delete(id);
  settleTicks = 300;
  requestAnimationFrame(tick);
}

/** One step of the force layout: nodes repel, links pull, everything drifts to the middle. */
function step() {
  const box = $("graph").getBoundingClientRect();
  const nodes = graph.nodes.map((n) => layout.get(n.id)).filter(Boolean);
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i], b = nodes[j];
      let dx = a.x - b.x, dy = a.y - b.y;
      const d2 = Math.max(dx * dx + dy * dy, 25);
      const f = 5000 / d2;
      const d = Math.sqrt(d2);
      dx /= d;
      dy /= d;
      a.vx += dx * f;
      a.vy += dy * f;
      b.vx -= dx * f;
      b.vy -= dy * f;
    }
  }
  for (const link of graph.links) {
    const a = layout.get(link.source), b = layout.get(link.target);
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y;
    const d = Math.max(Math.sqrt(dx * dx + dy * dy), 1);
    const f = (d - 130) * 0.02;
    a.vx += dx / d * f;
    a.vy += dy / d * f;
    b.vx -= dx / d * f;
    b.vy -= dy / d * f;
  }
  for (const p of nodes) {
    p.vx += (box.width / 2 - p.x) * 0.004;
    p.vy += (box.height / 2 - p.y) * 0.004;
    p.vx *= 0.6;
    p.vy *= 0.6;
    p.x = Math.min(box.width - 20, Math.max(20, p.x + p.vx));
    p.y = Math.min(box.height - 30, Math.max(20, p.y + p.vy));
  }
}

function tick() {
  if (settleTicks <= 0) return;
  settleTicks--;
  step();
  move();
  requestAnimationFrame(tick);
}

/** Rebuilds the SVG elements of the graph; {@link move} only moves them. */
function draw() {
  const links = $("links"), nodes = $("nodes");
  links.replaceChildren();
  nodes.replaceChildren();
  for (const link of graph.links) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("class", `link ${link.push ? "push" : "announce"}`);
    line.dataset.source = link.source;
    line.dataset.target = link.target;
    links.append(line);
  }
  for (const node of graph.nodes) {
    const circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("class", `node ${node.role} ${node.state === "up" ? "" : node.state}`);
    circle.setAttribute("r", node.role === "seed" ? 9 : 7);
    circle.dataset.id = node.id;
    circle.dataset.state = node.state;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${node.role} ${node.id} (${node.state})`;
    circle.append(title);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("class", "label");
    label.dataset.id = node.id;
    label.textContent = node.id.split(":").pop();
    nodes.append(circle, label);
  }
  const svg = $("graph");
  svg.dataset.nodes = graph.nodes.length;
  svg.dataset.peers = graph.nodes.filter((n) => n.role === "peer" && n.state === "up").length;
  svg.dataset.links = graph.links.length;
  svg.dataset.pushLinks = graph.links.filter((l) => l.push).length;
  move();
  if (replay) paintReplay(replay.shown);
}

function move() {
  for (const line of $("links").children) {
    const a = layout.get(line.dataset.source), b = layout.get(line.dataset.target);
    if (!a || !b) continue;
    line.setAttribute("x1", a.x);
    line.setAttribute("y1", a.y);
    line.setAttribute("x2", b.x);
    line.setAttribute("y2", b.y);
  }
  for (const el of $("nodes").children) {
    const p = layout.get(el.dataset.id);
    if (!p) continue;
    if (el.tagName === "circle") {
      el.setAttribute("cx", p.x);
      el.setAttribute("cy", p.y);
    } else {
      el.setAttribute("x", p.x + 10);
      el.setAttribute("y", p.y + 4);
    }
  }
}

function showCounters() {
  const dl = $("counters");
  dl.replaceChildren();
  for (const [name, value] of Object.entries(graph.counters)) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    dl.append(dt, dd);
  }
}

/** Replays a message's spread: one hop level at a time, the peers it reached and the links it took. */
async function startReplay(id, item) {
  let trace;
  try {
    trace = await getJson(`/trace?id=${id}`);
  } catch (error) {
    addEvent(`replay ${id.slice(0, 12)}: ${error.message}`);
    return;
  }
  for (const li of $("messages").children) li.classList.toggle("active", li === item);
  const levels = [];
  const walk = (node, depth) => {
    (levels[depth] ??= []).push(node);
    node.children.forEach((child) => walk(child, depth + 1));
  };
  if (trace.root) walk(trace.root, 0);
  trace.detached.forEach((node) => walk(node, 1));
  replay = { id, levels, shown: 0 };
  const run = replay;
  for (let level = 0; level <= levels.length && replay === run; level++) {
    run.shown = level;
    paintReplay(level);
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
}

function paintReplay(shown) {
  const reached = new Set(), hops = new Set();
  replay.levels.slice(0, shown + 1).flat().forEach((node) => {
    reached.add(node.peer);
    if (node.from !== "self") hops.add(`${node.from}|${node.peer}`);
  });
  for (const el of $("nodes").querySelectorAll("circle")) {
    el.classList.toggle("reached", reached.has(el.dataset.id));
  }
  for (const line of $("links").children) {
    const { source, target } = line.dataset;
    line.classList.toggle("hop", hops.has(`${source}|${target}`) || hops.has(`${target}|${source}`));
  }
  $("graph").dataset.replayed = reached.size;
}

/** With `?replay=first` the page replays the first message it hears of by itself (for screenshots and tests). */
let autoReplay = new URLSearchParams(location.search).get("replay") === "first";

function addMessage(data) {
  const li = document.createElement("li");
  li.textContent = `${data.id.slice(0, 12)} from ${data.origin.split(":").pop()}`;
  li.title = `${data.id}: ${data.content}`;
  li.dataset.id = data.id;
  li.addEventListener("click", () => startReplay(data.id, li));
  const list = $("messages");
  list.prepend(li);
  while (list.children.length > 30) list.lastChild.remove();
  if (autoReplay) {
    autoReplay = false;
    setTimeout(() => startReplay(data.id, li), 800);
  }
}

function addEvent(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toISOString().slice(11, 19)} ${text}`;
  const list = $("events");
  list.prepend(li);
  while (list.children.length > 60) list.lastChild.remove();
}

let refreshQueued = false;
function queueRefresh() {
  if (refreshQueued) return;
  refreshQueued = true;
  setTimeout(() => {
    refreshQueued = false;
    refresh();
  }, 500);
}

function follow() {
  const events = new EventSource(withToken("/events"));
  events.onopen = () => {
    $("live").textContent = "live";
    $("live").className = "";
  };
  events.onerror = () => {
    $("live").textContent = "reconnecting…";
    $("live").className = "off";
  };
  const on = (name, describe, structural = true) =>
    events.addEventListener(name, (e) => {
      const data = JSON.parse(e.data);
      addEvent(describe(data));
      if (structural) queueRefresh();
      if (name === "message.delivered" && data.via === "self") addMessage(data);
    });
  on("message.delivered", (d) => `message ${d.id.slice(0, 12)} at ${d.peer} (${d.via})`, false);
  on("neighbour.added", (d) => `${d.peer} linked to ${d.addr}`);
  on("neighbour.removed", (d) => `${d.peer} lost ${d.addr}: ${d.reason}`);
  on("neighbour.dead", (d) => `${d.peer} reports ${d.addr} dead`);
  on("seed.peer_registered", (d) => `registered ${d.peer}`);
  on("seed.peer_removed", (d) => `removed ${d.peer}: ${d.reason}`);
  on("network.links", () => "links reported", true);
}

refresh();
follow();
setInterval(refresh, 3000);
