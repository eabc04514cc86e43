/** Small measures of a network in one process: percentiles of latencies, whether the overlay is connected. */

import type { PeerNode } from "../peer/peer_node.ts";

/** The value at fraction `p` (0-1) of an ascending list; nearest rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index]!;
}

/** True when every one of `peers` reaches every other through neighbour links among them. */
export function isOverlayConnected(peers: PeerNode[]): boolean {
  if (peers.length === 0) return true;
  const byLabel = new Map(peers.map((p) => [p.label, p]));
  const reached = new Set([peers[0]!.label]);
  const queue = [peers[0]!];
  while (queue.length > 0) {
    for (const n of queue.pop()!.neighbours()) {
      const next = byLabel.get(n.addr);
      if (next && !reached.has(n.addr)) {
        reached.add(n.addr);
        queue.push(next);
      }
    }
  }
  return reached.size === peers.length;
}
