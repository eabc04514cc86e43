/**
 * The path a message took through the network, rebuilt from each peer's account of
 * its first copy (the `message.delivered` records of the JSON logs, or the peers'
 * stores): who got it from whom, at what hop and when, and which running peers never
 * got it. Pure: `p2pnet trace` reads the files, the live page reads the peers.
 */

/** One peer's first copy of the message. */
export interface Delivery {
  /** The peer that got it, `host:port`. */
  peer: string;
  /** The neighbour it came from; `self` at the origin. */
  from: string;
  hops: number;
  /** `self`, `push`, `fetch` or `catch_up`. */
  via: string;
  /** Wall-clock milliseconds. */
  time: number;
}

/** A peer in the tree, with the peers that got their first copy from it. */
export interface TraceNode extends Delivery {
  /** Milliseconds after the origin published it (or after the earliest delivery). */
  afterMs: number;
  children: TraceNode[];
}

export interface Trace {
  id: string;
  /** The tree from the origin; undefined when the origin's record is missing. */
  root: TraceNode | undefined;
  /** Deliveries whose sender is not in the tree (its record is missing): subtrees of their own. */
  detached: TraceNode[];
  /** Peers running when the message was published that never got it. */
  missing: string[];
  /** Peers that got it. */
  reached: number;
}

/** When a peer ran, as its records show: from its first record to its last. */
export interface PeerSpan {
  peer: string;
  first: number;
  last: number;
}

/**
 * The tree of message `id` from its deliveries. A delivery's parent is the delivery at
 * its `from`; a peer listed in `spans` that was running when the message was published
 * (first record at or before it, last at or after it) and has no delivery is missing.
 */
export function buildTrace(
  id: string,
  deliveries: readonly Delivery[],
  spans: readonly PeerSpan[] = [],
): Trace {
  // A peer delivers a message once; should a log hold two records, the first counts.
  const byPeer = new Map<string, TraceNode>();
  const start = Math.min(...deliveries.map((d) => d.time));
  for (const d of [...deliveries].sort((a, b) => a.time - b.time)) {
    if (!byPeer.has(d.peer)) byPeer.set(d.peer, { ...d, afterMs: d.time - start, children: [] });
  }
  let root: TraceNode | undefined;
  const detached: TraceNode[] = [];
  for (const node of byPeer.values()) {
    if (node.from === "self") {
      root ??= node;
      continue;
    }
    const parent = byPeer.get(node.from);
    if (parent && parent !== node) parent.children.push(node);
    else detached.push(node);
  }
  const sortChildren = (node: TraceNode) => {
    node.children.sort((a, b) => a.time - b.time || a.peer.localeCompare(b.peer));
    node.children.forEach(sortChildren);
  };
  if (root) sortChildren(root);
  detached.forEach(sortChildren);
  const published = root?.time ?? start;
  const missing = spans
    .filter((s) => !byPeer.has(s.peer) && s.first <= published && s.last >= published)
    .map((s) => s.peer)
    .sort();
  return { id, root, detached, missing, reached: byPeer.size };
}

/**
 * The deliveries of message `id` and the span of every peer, from parsed JSON log
 * records (`{time, event, role, addr, ...}`); records of other shapes are skipped.
 */
export function fromRecords(
  id: string,
  records: Iterable<Record<string, unknown>>,
): { deliveries: Delivery[]; spans: PeerSpan[] } {
  const deliveries: Delivery[] = [];
  const spans = new Map<string, PeerSpan>();
  for (const r of records) {
    if (r.role !== "peer" || typeof r.addr !== "string" || typeof r.time !== "string") continue;
    const time = Date.parse(r.time);
    if (Number.isNaN(time)) continue;
    const span = spans.get(r.addr);
    if (span === undefined) spans.set(r.addr, { peer: r.addr, first: time, last: time });
    else {
      span.first = Math.min(span.first, time);
      span.last = Math.max(span.last, time);
    }
    if (r.event !== "message.delivered" || r.id !== id) continue;
    deliveries.push({
      peer: r.addr,
      from: typeof r.from === "string" ? r.from : "self",
      hops: typeof r.hops === "number" ? r.hops : 0,
      via: typeof r.via === "string" ? r.via : "",
      time,
    });
  }
  return { deliveries, spans: [...spans.values()] };
}

/** The tree as indented lines for a person: `peer  hop N  +Tms  via`, children under their sender. */
export function formatTrace(trace: Trace): string {
  const lines = [`message ${trace.id}: reached ${trace.reached} peers, ${trace.missing.length} never got it`];
  const walk = (node: TraceNode, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? "" : last ? "└─ " : "├─ ";
    const at = `+${node.afterMs.toFixed(0)}ms`;
    const how = node.via === "self" ? "origin" : `${node.via} from ${node.from}`;
    lines.push(`${prefix}${branch}${node.peer}  hop ${node.hops}  ${at}  ${how}`);
    const next = top ? prefix : prefix + (last ? "   " : "│  ");
    node.children.forEach((child, i) => walk(child, next, i === node.children.length - 1, false));
  };
  if (trace.root) walk(trace.root, "", true, true);
  else lines.push("(no record from the origin)");
  for (const node of trace.detached) {
    lines.push(`sender's record missing:`);
    walk(node, "  ", true, true);
  }
  if (trace.missing.length > 0) lines.push(`never got it: ${trace.missing.join(", ")}`);
  return lines.join("\n");
}
