/** What a peer shows the code that embeds it: its options, neighbours, traffic and events. */

import type { Traffic } from "../net/endpoint.ts";
import type { CoreOptions } from "../node/node_core.ts";
import type { GossipControl, LinkMode } from "./broadcast_tree.ts";
import type { StoredMessage } from "./message_store.ts";
import type { Direction } from "./neighbours.ts";

/** Options of a peer; its port defaults to `settings.port` (0: a free one). */
export type PeerNodeOptions = CoreOptions;

/** A neighbour as the console and tests see it. */
export interface NeighbourInfo {
  /** The neighbour's listening address. */
  addr: string;
  /** The neighbour's node id, as it proved it when the link opened. */
  id: string;
  direction: Direction;
  /** When the link opened, in monotonic clock milliseconds. */
  since: number;
  /** Round-trip time of the last answered probe, in milliseconds. */
  rttMs: number | undefined;
  /** Consecutive unanswered probes. */
  misses: number;
  /**
   * How new messages reach it: `push` sends them in full, `announce` sends their ids
   * in batched ihave frames (tree gossip; with gossipMode `flood` always `push`).
   */
  gossip: LinkMode;
}

/**
 * A peer's traffic: frames and bytes, repeats received, tree upkeep sent, and message
 * signatures verified (at most one per message first seen from a neighbour).
 */
export type PeerTraffic = Traffic & GossipControl & { repeats: number; verifications: number };

export interface PeerEvents extends Record<string, unknown> {
  /** A message seen for the first time (published here when `from` is undefined). */
  message: StoredMessage;
  neighbourAdded: { addr: string; direction: Direction };
  neighbourRemoved: { addr: string; reason: string };
  /** A neighbour found dead and reported to the seeds. */
  deathReported: { addr: string; why: string };
}
