/**
 * The largest body each message type can have within given limits, with JSON escaping
 * at its worst. A peer forwards gossip as it arrived, so every message that passes the
 * schema must also fit in a frame this node may send: settings are checked against
 * these bounds when they are read (resolveSettings), not when a frame is refused.
 */

import { MAX_HOPS } from "./gossip_frame.ts";
import {
  MAX_ADDRESS,
  MAX_REASON,
  type MessageLimits,
  type MessageType,
  PROTOCOL_VERSION,
} from "./messages.ts";

/** Most bytes JSON takes for one UTF-16 code unit of a string: a control character or a lone surrogate is `\uXXXX`. */
export const JSON_ESCAPE_BYTES = 6;
/** Longest JSON text of a finite number >= 0, such as `0.0000012345678901234567` or `1.7976931348623157e+308`. */
const NUMBER_CHARS = 24;
/** Longest JSON text of a protocol version, a catch-up position or a creation time: a safe integer. */
const VERSION_CHARS = String(Number.MAX_SAFE_INTEGER).length;
const HOPS_CHARS = String(MAX_HOPS).length;
/** A message id with its quotes. */
const ID_BYTES = 34;
/** A node id, a signature and a nonce (base64url, never escaped). */
const NODE_ID_BYTES = 43;
const SIG_BYTES = 86;
const NONCE_BYTES = 22;

/** The largest body of one message type, and the limit that sizes it (none: small and fixed). */
export interface BodyBound {
  type: MessageType;
  bytes: number;
  limit: keyof MessageLimits | undefined;
}

/** Worst extra bytes of a string field of at most `units` code units over the skeleton's `""`. */
const text = (units: number) => JSON_ESCAPE_BYTES * units;
/** Worst extra bytes of a number field over the skeleton's `0`. */
const number = (chars: number) => chars - 1;
/** Extra bytes of `count` items of `itemBytes` each over the skeleton's `[]`. */
const list = (count: number, itemBytes: number) => count * itemBytes + Math.max(0, count - 1);
/** Bytes of a body with every string empty, every number 0 and every list empty. */
const skeleton = (value: object) => JSON.stringify(value).length;

/**
 * The largest body of every message type within `limits`. Content counts bytes of UTF-8,
 * and none takes more than 6 bytes in JSON (a control character); other strings count
 * code units, each at most 6 bytes.
 */
export function largestBodies(limits: MessageLimits): BodyBound[] {
  const addr = text(MAX_ADDRESS);
  const reason = text(MAX_REASON);
  // A frame of this version carries its proof; one of another version only its version and address.
  const handshake = (type: "get_peer_list" | "peer_request") =>
    addr + Math.max(
      skeleton({ type, version: 0, addr: "" }) + number(VERSION_CHARS),
      skeleton({ type, version: PROTOCOL_VERSION, addr: "", node: "", nonce: "", sig: "" }) + NODE_ID_BYTES +
        NONCE_BYTES + SIG_BYTES,
    );
  const signed = NODE_ID_BYTES + SIG_BYTES;
  const addresses = list(limits.maxPeers, 2 + addr);
  const probe = skeleton({ type: "liveliness", ts: 0, nonce: "" }) + number(NUMBER_CHARS) + NONCE_BYTES;
  const reply = skeleton({ type: "liveliness_reply", ts: 0, node: "", sig: "" }) + number(NUMBER_CHARS) +
    signed;
  // A record, so that a new message type cannot be left out.
  const bounds: Record<MessageType, [number, (keyof MessageLimits)?]> = {
    challenge: [skeleton({ type: "challenge", version: 0, nonce: "" }) + number(VERSION_CHARS) + NONCE_BYTES],
    get_peer_list: [
      handshake("get_peer_list") + skeleton({ neighbours: [], push: [] }) - 1 + 2 * addresses,
      "maxPeers",
    ],
    peer_request: [handshake("peer_request")],
    peer_list: [
      skeleton({ type: "peer_list", peers: [], node: "", sig: "" }) + addresses + signed,
      "maxPeers",
    ],
    peer_reply: [
      skeleton({ type: "peer_reply", accepted: false, addr: "", reason: "", node: "", sig: "" }) + addr +
      reason +
      signed,
    ],
    refused: [skeleton({ type: "refused", reason: "" }) + reason],
    liveliness: [probe],
    liveliness_reply: [reply],
    get_data: [
      skeleton({ type: "get_data", ids: [], have: [], from: 0 }) + 2 * list(limits.maxIds, ID_BYTES) +
      number(VERSION_CHARS),
      "maxIds",
    ],
    page_end: [skeleton({ type: "page_end", next: 0 }) + number(VERSION_CHARS)],
    ihave: [
      skeleton({ type: "ihave", ids: [], hops: [] }) + list(limits.maxIds, ID_BYTES) +
      list(limits.maxIds, HOPS_CHARS),
      "maxIds",
    ],
    message: [
      skeleton({
        type: "message",
        id: "",
        hops: 0,
        offTree: true,
        origin: "",
        originId: "",
        content: "",
        created: 0,
        sig: "",
      }) + (ID_BYTES - 2) + number(HOPS_CHARS) + addr + JSON_ESCAPE_BYTES * limits.maxContentBytes +
      number(VERSION_CHARS) + signed,
      "maxContentBytes",
    ],
    graft: [skeleton({ type: "graft" })],
    prune: [skeleton({ type: "prune" })],
    death: [
      skeleton({ type: "death", addr: "", reason: "leaving", reporter: "", sig: "" }) + 2 * addr + SIG_BYTES,
    ],
  };
  return Object.entries(bounds).map(([type, [bytes, limit]]) => ({
    type: type as MessageType,
    bytes,
    limit,
  }));
}
