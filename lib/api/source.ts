/**
 * What the control API reads from a node, through small interfaces rather than the
 * node's internals: one adapter for a peer, one for a seed (the demo adds one for a
 * whole cluster). Everything returned is plain JSON.
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { PeerNode, StoredMessage } from "../peer/peer_node.ts";
import type { SeedNode } from "../seed/seed_node.ts";
import type { Family } from "./prometheus.ts";
import { peerFamilies, seedFamilies } from "./metrics.ts";
import type { Trace } from "../log/trace.ts";

export const VERSION: string = denoJson.version;

/** One server-sent event: named as the log event it mirrors (`message.delivered`, `seed.peer_removed`, ...). */
export interface ApiEvent {
  event: string;
  data: Record<string, unknown>;
}

/** A message as the API shows it. */
export interface ApiMessage {
  id: string;
  origin: string;
  content: string;
  /** Origin's wall clock at creation, milliseconds since the epoch. */
  created: number;
  /** This node's wall clock when it first saw the message. */
  seenAt: number;
  /** The neighbour the first copy came from; null when published here. */
  from: string | null;
  hops: number;
  via: string;
}

/** A node of the live page's graph. */
export interface GraphNode {
  id: string;
  role: "seed" | "peer";
  /** `up`; `dead` (crashed, or removed as dead); `left` (said goodbye). */
  state: "up" | "dead" | "left";
}

/** A link of the graph; `push` when either end pushes messages over it (a push-tree link). */
export interface GraphLink {
  source: string;
  target: string;
  push: boolean;
}

export interface Graph {
  nodes: GraphNode[];
  links: GraphLink[];
  counters: Record<string, number>;
}

/** The answer to `GET /messages`: up to `limit` messages after `since`, oldest first. */
export interface MessagePage {
  messages: ApiMessage[];
  /** The id to pass as `since` for the next page; null when there were none. */
  next: string | null;
}

/** Why an API call cannot be answered: becomes a 4xx JSON error. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** What the API serves of one node (or, for the demo, one network). Optional parts answer 404 when absent. */
export interface ApiSource {
  readonly role: "seed" | "peer" | "demo";
  status(): Record<string, unknown>;
  members(): Record<string, unknown>[];
  neighbours?(): Record<string, unknown>[];
  messages?(since: string | undefined, limit: number): MessagePage;
  /** Publishes `content`; throws {@link ApiError} when it cannot. */
  publish?(content: string): ApiMessage;
  /** Longest content `publish` takes, in bytes of UTF-8. */
  readonly maxContent: number;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
  metrics(): Family[];
  graph?(): Graph;
  /** The path message `id` took, or undefined when unknown. */
  trace?(id: string): Trace | undefined;
  /** Calls `listener` on each event until the returned function is called. */
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

export function apiMessage(m: StoredMessage): ApiMessage {
  return {
    id: m.id,
    origin: m.origin,
    content: m.content,
    created: m.created,
    seenAt: m.seenAt,
    from: m.from ?? null,
    hops: m.hops,
    via: m.via,
  };
}

/** Up to `limit` of `messages` after the one with id `since` (all from the oldest without it). */
export function pageOf(
  messages: readonly StoredMessage[],
  since: string | undefined,
  limit: number,
): MessagePage {
  let start = 0;
  if (since !== undefined) {
    const at = messages.findIndex((m) => m.id === since);
    if (at < 0) throw new ApiError(404, `unknown message id: ${since} is not stored here`);
    start = at + 1;
  }
  const page = messages.slice(start, start + limit).map(apiMessage);
  return { messages: page, next: page.at(-1)?.id ?? since ?? null };
}

/** Subscribes `listener` to several emitters, returning one function that unsubscribes from all. */
export function unsubscribeAll(offs: (() => void)[]): () => void {
  return () => offs.forEach((off) => off());
}

/**
 * Passes a peer's events on as API events: its deliveries (`all`, or only the messages
 * it `published`), its links opening and closing, the deaths it reports.
 */
export function followPeer(
  peer: PeerNode,
  listener: (event: ApiEvent) => void,
  deliveries: "all" | "published",
): () => void {
  const e = peer.events;
  const send = (event: string, data: object) => listener({ event, data: { ...data, peer: peer.label } });
  return unsubscribeAll([
    e.on("message", (m) => {
      if (deliveries === "all" || m.via === "self") send("message.delivered", apiMessage(m));
    }),
    e.on("neighbourAdded", (n) => send("neighbour.added", n)),
    e.on("neighbourRemoved", (n) => send("neighbour.removed", n)),
    e.on("deathReported", (d) => send("neighbour.dead", d)),
  ]);
}

/** The API of one peer. */
export function peerSource(peer: PeerNode): ApiSource {
  const s = peer.settings;
  return {
    role: "peer",
    maxContent: s.maxContentBytes,
    // JSON may spend up to 6 bytes on one byte of content (\uXXXX), plus room for the object around it.
    maxBodyBytes: Math.min(s.maxFrameBytes, s.maxContentBytes * 6 + 1024),
    status() {
      const stats = peer.view.stats();
      return {
        role: "peer",
        address: peer.label,
        version: VERSION,
        uptimeMs: Math.round(stats.uptimeMs),
        startedAt: new Date(stats.startedAt).toISOString(),
        seeds: peer.registeredSeeds(),
        neighbours: stats.neighbours,
        candidates: stats.candidates,
        messages: stats.storedMessages,
        gossipMode: s.gossipMode,
      };
    },
    members: () => peer.view.candidates().map((addr) => ({ addr })),
    neighbours: () => {
      const now = peer.view.now();
      return peer.neighbours().map((n) => ({
        addr: n.addr,
        direction: n.direction,
        connectedMs: Math.round(now - n.since),
        rttMs: n.rttMs === undefined ? null : Math.round(n.rttMs * 100) / 100,
        misses: n.misses,
        gossip: n.gossip,
      }));
    },
    messages: (since, limit) => pageOf(peer.messages(), since, limit),
    publish(content) {
      if (peer.isStopped) throw new ApiError(409, "the peer is stopping");
      return apiMessage(peer.publish(content));
    },
    metrics: () => peerFamilies(peer.view.stats()),
    graph: () => {
      const neighbours = peer.neighbours();
      return {
        nodes: [peer.label, ...neighbours.map((n) => n.addr)].map((id) => ({
          id,
          role: "peer",
          state: "up",
        })),
        links: neighbours.map((n) => ({ source: peer.label, target: n.addr, push: n.gossip === "push" })),
        counters: { neighbours: neighbours.length, "messages stored": peer.messages().length },
      };
    },
    subscribe: (listener) => followPeer(peer, listener, "all"),
  };
}

/**
 * A seed's view of the overlay: itself, its registered peers, the peers it removed lately
 * (dead or left), and the links the registered peers reported with their last registration.
 */
export function seedGraph(seed: SeedNode): Graph {
  const members = seed.members();
  const listed = new Set(members.map((m) => m.addr));
  const nodes: GraphNode[] = [
    { id: seed.label, role: "seed", state: "up" },
    ...members.map((m): GraphNode => ({ id: m.addr, role: "peer", state: "up" })),
    ...seed.recentRemovals().map((r): GraphNode => ({
      id: r.addr,
      role: "peer",
      state: r.reason === "leaving" ? "left" : "dead",
    })),
  ];
  const links = new Map<string, GraphLink>();
  for (const m of members) {
    for (const n of m.neighbours) {
      if (!listed.has(n) || n === m.addr) continue;
      const [source, target] = m.addr < n ? [m.addr, n] : [n, m.addr];
      const link = links.get(`${source}|${target}`) ?? { source, target, push: false };
      link.push ||= m.push.includes(n);
      links.set(`${source}|${target}`, link);
    }
  }
  const stats = seed.stats();
  return {
    nodes,
    links: [...links.values()],
    counters: {
      "peers registered": stats.peers,
      "links reported": links.size,
      "registrations": stats.registered,
      "removed dead": stats.removed.dead,
      "removed leaving": stats.removed.leaving,
      "death reports": stats.reports.received,
      "reports rejected": stats.reports.rejected,
    },
  };
}

/** The API of one seed: its registered peers are its members, its graph the overlay they report. */
export function seedSource(seed: SeedNode): ApiSource {
  const s = seed.settings;
  return {
    role: "seed",
    maxContent: s.maxContentBytes,
    maxBodyBytes: 4096,
    status() {
      const stats = seed.stats();
      return {
        role: "seed",
        address: seed.label,
        version: VERSION,
        uptimeMs: Math.round(stats.uptimeMs),
        startedAt: new Date(stats.startedAt).toISOString(),
        peers: stats.peers,
        registered: stats.registered,
        removed: stats.removed,
      };
    },
    members: () =>
      seed.members().map((m) => ({ addr: m.addr, registeredAt: new Date(m.registeredAt).toISOString() })),
    metrics: () => seedFamilies(seed.stats()),
    graph: () => seedGraph(seed),
    subscribe(listener) {
      const e = seed.events;
      return unsubscribeAll([
        e.on("registered", ({ addr }) => listener({ event: "seed.peer_registered", data: { peer: addr } })),
        e.on(
          "removed",
          (r) =>
            listener({
              event: "seed.peer_removed",
              data: { peer: r.addr, reason: r.reason, reporter: r.reporter },
            }),
        ),
      ]);
    },
  };
}
