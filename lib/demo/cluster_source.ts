/**
 * The control API of a whole demo network (`p2pnet demo --web`): the live page reads
 * the cluster directly, every peer's neighbours and every peer's record of each
 * message, so it needs nothing from the peers' own APIs.
 */

import {
  type ApiSource,
  followPeer,
  type Graph,
  type GraphLink,
  type GraphNode,
  VERSION,
} from "../api/source.ts";
import { buildTrace, type Delivery } from "../log/trace.ts";
import type { Family } from "../api/prometheus.ts";
import type { PeerNode } from "../peer/peer_node.ts";
import type { Cluster } from "./cluster.ts";

/** The network a cluster runs, as a graph: seeds, peers (crashed ones marked dead), links. */
export function clusterGraph(cluster: Cluster): Graph {
  const nodes: GraphNode[] = cluster.seeds.map((s) => ({ id: s.label, role: "seed", state: "up" }));
  const links = new Map<string, GraphLink>();
  for (const peer of cluster.peers) {
    if (!isListening(peer)) continue;
    const state = !peer.isStopped ? "up" : cluster.wasKilled(peer.label) ? "dead" : "left";
    nodes.push({ id: peer.label, role: "peer", state });
    if (peer.isStopped) continue;
    for (const n of peer.neighbours()) {
      const [source, target] = peer.label < n.addr ? [peer.label, n.addr] : [n.addr, peer.label];
      const key = `${source}|${target}`;
      const link = links.get(key) ?? { source, target, push: false };
      link.push ||= n.gossip === "push";
      links.set(key, link);
    }
  }
  return {
    nodes,
    links: [...links.values()],
    counters: {
      "peers running": cluster.live.length,
      links: links.size,
      "messages published": cluster.published,
      deliveries: cluster.deliveries,
      "peers killed": cluster.killed,
      "removed by all seeds": cluster.detected,
      "false removals": cluster.falseRemovals,
    },
  };
}

/** A peer that never got to listen has no address to show. */
function isListening(peer: PeerNode): boolean {
  try {
    return peer.label !== "";
  } catch {
    return false;
  }
}

/** The API of a demo network: status, members, the graph, traces of messages and the events of every node. */
export function clusterSource(cluster: Cluster): ApiSource {
  return {
    role: "demo",
    maxContent: 0,
    maxBodyBytes: 1024,
    status: () => ({
      role: "demo",
      address: `${cluster.seeds.length} seeds, ${cluster.live.length} peers`,
      version: VERSION,
      seeds: cluster.seeds.map((s) => s.label),
      ...clusterGraph(cluster).counters,
    }),
    members: () => cluster.live.map((p) => ({ addr: p.label })),
    graph: () => clusterGraph(cluster),
    trace(id) {
      const deliveries: Delivery[] = [];
      for (const peer of cluster.peers) {
        const m = isListening(peer) ? peer.messages().find((m) => m.id === id) : undefined;
        if (m) {
          deliveries.push({
            peer: peer.label,
            from: m.from ?? "self",
            hops: m.hops,
            via: m.via,
            time: m.seenAt,
          });
        }
      }
      if (deliveries.length === 0) return undefined;
      const spans = cluster.live.map((p) => ({ peer: p.label, first: -Infinity, last: Infinity }));
      return buildTrace(id, deliveries, spans);
    },
    metrics: (): Family[] => [],
    subscribe(listener) {
      const offs: (() => void)[] = [];
      // Publications only: every delivery of every peer would flood the page.
      const follow = (peer: PeerNode) => offs.push(followPeer(peer, listener, "published"));
      cluster.peers.forEach(follow);
      offs.push(cluster.events.on("peerAdded", follow));
      for (const seed of cluster.seeds) {
        offs.push(seed.events.on("removed", (r) => {
          listener({
            event: "seed.peer_removed",
            data: { peer: r.addr, reason: r.reason, seed: seed.label },
          });
        }));
      }
      return () => offs.forEach((off) => off());
    },
  };
}
