/**
 * Gossip frames: the one place that knows how a gossip message is laid out on the wire.
 * Its keys always come in this order:
 *
 *   {"type":"message","id":"<32 hex>","hops":<n>[,"offTree":true],"origin":…,"originId":…,"content":…,"created":…[,"sig":…]}
 *
 * so that a peer can read the id, hop count and mark of a repeat from the raw frame,
 * without parsing it ({@link peekGossipId}). Peers, the parser and tests build gossip
 * messages with {@link gossipMessage}; a frame laid out otherwise is still valid, only
 * parsed in full.
 */

import { encodeFrame, type FramePool } from "./codec.ts";
import type { GossipMessage } from "./messages.ts";

/** Largest hop count of a gossip message; a forwarder never counts past it. */
export const MAX_HOPS = 65_535;

/** What a gossip message says whatever path it took. */
export type GossipFields = Pick<GossipMessage, "id" | "origin" | "originId" | "content" | "created" | "sig">;

/** The gossip message with `hops` and, when `offTree`, the off-tree mark, in wire key order. */
export function gossipMessage(
  { id, origin, originId, content, created, sig }: GossipFields,
  hops: number,
  offTree = false,
): GossipMessage {
  const message: GossipMessage = offTree
    ? { type: "message", id, hops, offTree, origin, originId, content, created }
    : { type: "message", id, hops, origin, originId, content, created };
  if (sig !== undefined) message.sig = sig;
  return message;
}

/**
 * The copy a peer passes on of a message it has `message.hops` links from its origin:
 * one link further, at most {@link MAX_HOPS}; `offTree` marks it as having come by no
 * path of the push tree (see {@link GossipMessage.offTree}).
 */
export function forwardedGossip(message: GossipFields & { hops: number }, offTree: boolean): GossipMessage {
  return gossipMessage(message, Math.min(message.hops + 1, MAX_HOPS), offTree);
}

/** The frame of {@link forwardedGossip}: encode it once, send it to every push neighbour. */
export function encodeGossip(
  message: GossipFields & { hops: number },
  offTree: boolean,
  maxFrameBytes: number,
  pool?: FramePool,
): Uint8Array {
  return encodeFrame(forwardedGossip(message, offTree), maxFrameBytes, pool);
}

const GOSSIP_PREFIX = new TextEncoder().encode('{"type":"message","id":"');
const ID_END = GOSSIP_PREFIX.length + 32;
const HOPS_PREFIX = new TextEncoder().encode('","hops":');
const HOPS_START = ID_END + HOPS_PREFIX.length;
const OFF_TREE_MARK = new TextEncoder().encode(',"offTree":true');

/**
 * The id of a gossip frame body, read from its raw bytes without parsing, when the frame
 * starts the way {@link gossipMessage} lays it out; otherwise undefined. Used only to drop
 * repeats early: a frame whose id is new is decoded and checked in full, so a frame that
 * merely looks like a repeat can only drop itself.
 */
export function peekGossipId(body: Uint8Array): string | undefined {
  if (body.length <= ID_END || body[ID_END] !== 0x22) return undefined;
  for (let i = 0; i < GOSSIP_PREFIX.length; i++) if (body[i] !== GOSSIP_PREFIX[i]) return undefined;
  // apply() over the typed array is several times faster than spreading it.
  return String.fromCharCode.apply(null, body.subarray(GOSSIP_PREFIX.length, ID_END) as unknown as number[]);
}

/** Where the hop count of a gossip frame that {@link peekGossipId} recognised ends (the comma after its digits), or -1. */
function hopsEnd(body: Uint8Array): number {
  for (let i = 0; i < HOPS_PREFIX.length; i++) if (body[ID_END + i] !== HOPS_PREFIX[i]) return -1;
  let at = HOPS_START;
  while (at < body.length && at < HOPS_START + 6 && body[at]! >= 0x30 && body[at]! <= 0x39) at++;
  return at === HOPS_START || body[at] !== 0x2c ? -1 : at;
}

/**
 * The hop count of a gossip frame that {@link peekGossipId} recognised, read from its
 * raw bytes when it follows the id (`…","hops":12,…`); otherwise undefined. Like the id,
 * only used for repeats, which are never forwarded.
 */
export function peekGossipHops(body: Uint8Array): number | undefined {
  const end = hopsEnd(body);
  if (end < 0) return undefined;
  let hops = 0;
  for (let at = HOPS_START; at < end; at++) hops = hops * 10 + body[at]! - 0x30;
  return hops >= 1 && hops <= MAX_HOPS ? hops : undefined;
}

/**
 * Whether a gossip frame that {@link peekGossipId} recognised is marked as off the tree
 * right after its hop count (`…"hops":3,"offTree":true,…`). Only used for repeats: it
 * spares the link that brought one from being pruned.
 */
export function peekGossipOffTree(body: Uint8Array): boolean {
  const end = hopsEnd(body);
  if (end < 0) return false;
  for (let i = 0; i < OFF_TREE_MARK.length; i++) if (body[end + i] !== OFF_TREE_MARK[i]) return false;
  return true;
}
