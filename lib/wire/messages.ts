/**
 * The p2pnet messages and their schemas. Every frame's JSON object passes
 * {@link parseMessage} before any node looks at it; docs/protocol.md documents the
 * same shapes for authors of other clients.
 */

import { decodeJson } from "./codec.ts";
import { type GossipFields, gossipMessage, MAX_HOPS } from "./gossip_frame.ts";
import { WireError } from "./wire_error.ts";
import { fitsUtf8 } from "../util/utf8.ts";
import {
  address,
  addressList,
  fail,
  type Fields,
  idList,
  isHopCount,
  MAX_REASON,
  MESSAGE_ID,
  nodeId,
  nonce,
  position,
  reasonText,
  signature,
  timestamp,
  version,
} from "./fields.ts";
import {
  type Challenge,
  type HandshakeProof,
  handshakeProof,
  type Signed,
  signedBy,
} from "./proof_fields.ts";

export { MAX_ADDRESS, MAX_REASON } from "./fields.ts";
export type { Challenge, HandshakeProof, Signed };

/**
 * The version of the protocol this code speaks, carried by the frames that open a
 * connection ({@link GetPeerList}, {@link PeerRequest}); a node refuses any other.
 */
export const PROTOCOL_VERSION = 2;

/** Peer → seed, first frame on a seed connection and later refreshes: register `addr` and ask for peers. */
export interface GetPeerList extends HandshakeProof {
  type: "get_peer_list";
  /** The protocol version the peer speaks, {@link PROTOCOL_VERSION}; 0 when the frame carries none. */
  version: number;
  /** The asking peer's listening address, `host:port`. */
  addr: string;
  /**
   * Optional: the sender's neighbours, for the seed's view of the overlay (its live page).
   * Older seeds ignore it.
   */
  neighbours?: string[];
  /** Optional: the neighbours among `neighbours` the sender pushes messages to (push-tree links). */
  push?: string[];
}
/** Seed → peer: the other active peers (a random sample when there are many). */
export interface PeerList extends Signed {
  type: "peer_list";
  peers: string[];
}
/** Peer → peer, first frame on an overlay connection: the sender, listening at `addr`, asks to be a neighbour. */
export interface PeerRequest extends HandshakeProof {
  type: "peer_request";
  /** The protocol version the sender speaks, {@link PROTOCOL_VERSION}; 0 when the frame carries none. */
  version: number;
  addr: string;
}
/** Peer → peer: answer to {@link PeerRequest}; a declined request carries a reason and the connection closes. */
export interface PeerReply extends Partial<Signed> {
  type: "peer_reply";
  accepted: boolean;
  /** The answering peer's listening address. */
  addr: string;
  reason?: string;
}
/** A probe; any node answers it with {@link LivelinessReply} echoing `ts`. */
export interface Liveliness {
  type: "liveliness";
  /** Sender's monotonic clock in milliseconds when it sent the probe (not the time of day); echoed as is. */
  ts: number;
  /** Asks the target to prove its node id by signing this nonce in its reply. */
  nonce?: string;
}
/** With a probe's `nonce`, it carries the target's node id and signature over it. */
export interface LivelinessReply extends Partial<Signed> {
  type: "liveliness_reply";
  ts: number;
}
/**
 * Ask a neighbour for messages. With `ids`, those messages. Without, a catch-up on the
 * stored messages whose ids are not in `have`: with `from`, one page of them, oldest
 * first, closed by a {@link PageEnd} that gives the `from` of the next page (a later
 * page leaves out `have`: the neighbour keeps what it listed); without `from`, one page
 * of the most recent ones and no {@link PageEnd}.
 */
export interface GetData {
  type: "get_data";
  ids?: string[];
  have?: string[];
  /** Where the page starts: 0 for the first, then the `next` of the last {@link PageEnd}. */
  from?: number;
}
/**
 * Neighbour → neighbour, after the messages of a catch-up page asked for with `from`:
 * the page is complete; with `next`, more follow on asking for it, without, the catch-up is over.
 */
export interface PageEnd {
  type: "page_end";
  next?: number;
}
/** A gossiped message. `id` is {@link messageId} of the fields its origin signs. */
export interface GossipMessage {
  type: "message";
  id: string;
  /**
   * Links this copy has crossed from its origin, counting the one it arrives on (1 when
   * the origin sends it), at most {@link MAX_HOPS}. Tree gossip keeps the shorter of two
   * paths by it.
   */
  hops: number;
  /** Listening address of the peer that created it. */
  origin: string;
  /** Node id of the peer that created it. */
  originId: string;
  content: string;
  /** Origin's clock in whole milliseconds since the epoch when it created the message. */
  created: number;
  /** The origin's signature over origin id and address, created and content; absent only where signing is off. */
  sig?: string;
  /**
   * Set on a copy that came by no path of the push tree, and on every copy passed on from
   * one: history served in answer to a catch-up (a {@link GetData} without `ids`) on a new
   * link, or a message pushed to a peer over a link it had pruned (its prune still on the
   * way). It is delivered and passed on like any message, but the tree is not judged by
   * it: its hop counts describe no tree path, so its repeats prune nothing.
   */
  offTree?: true;
}
/**
 * Neighbour → neighbour: ids of messages the sender has and did not push to the
 * receiver, gathered for up to `announceInterval`. A receiver missing one of them asks
 * the announcer for it with {@link GetData} if it does not arrive by another path
 * within `fetchTimeout`, the closest announcer first.
 */
export interface IHave {
  type: "ihave";
  ids: string[];
  /** For each id, links between the message's origin and the announcer (0: it is the origin). */
  hops: number[];
}
/**
 * Neighbour → neighbour: "a message reached me first through you although you only
 * announce to me: push new messages to me again". Repairs the push tree; no fields.
 */
export interface Graft {
  type: "graft";
}
/**
 * Neighbour → neighbour: "a message you pushed reached me first by another path: push
 * no more, announce instead". Sent at most once per switch; no fields.
 */
export interface Prune {
  type: "prune";
}
/**
 * Seed → peer: the seed will not serve this connection (a {@link GetPeerList} of another
 * protocol version) and closes it after this frame.
 */
export interface Refused {
  type: "refused";
  /** Why, for the person running the peer. */
  reason: string;
}
/** Peer → seed (and → neighbours when leaving): `addr` left (`leaving`) or was found dead (`dead`). */
export interface Death {
  type: "death";
  addr: string;
  reason: "leaving" | "dead";
  /** The reporting peer's listening address. */
  reporter: string;
  /** Required for `leaving`: the leaver's signature over the receiver's nonce of this connection. */
  sig?: string;
}

export type Message =
  | Challenge
  | GetPeerList
  | PeerList
  | PeerRequest
  | PeerReply
  | Liveliness
  | LivelinessReply
  | GetData
  | PageEnd
  | GossipMessage
  | IHave
  | Graft
  | Prune
  | Death
  | Refused;

export type MessageType = Message["type"];

/** Every message type, the most frequent first (wire_stats.ts matches frames against them in this order). */
export const MESSAGE_TYPES = [
  "message",
  "ihave",
  "liveliness",
  "liveliness_reply",
  "get_data",
  "page_end",
  "graft",
  "prune",
  "get_peer_list",
  "peer_list",
  "peer_request",
  "peer_reply",
  "death",
  "refused",
  "challenge",
] as const satisfies readonly MessageType[];

/** Bounds that a decoded message must respect; the node passes its settings (see `messageLimits`). */
export interface MessageLimits {
  /** Most entries of `peers` in a Peer List. */
  maxPeers: number;
  /** Most entries of `ids` or `have` in a getData, and of `ids` in an ihave. */
  maxIds: number;
  /** Longest `content` of a message, in bytes of UTF-8. */
  maxContentBytes: number;
}

/** Why a handshake frame of protocol `version` is refused, or undefined when this node speaks it. */
export function versionRefusal(version: number): string | undefined {
  if (version === PROTOCOL_VERSION) return undefined;
  return `protocol version ${version} not supported; this node speaks ${PROTOCOL_VERSION}`;
}

/** `text` cut to the longest reason a Peer Reply or a Refused may carry. */
export function fitReason(text: string): string {
  return text.length <= MAX_REASON ? text : text.slice(0, MAX_REASON - 1) + "…";
}

/**
 * Checks a decoded JSON value against the schema of its `type` and returns a
 * fresh message holding only the known fields. Throws {@link WireError}.
 */
export function parseMessage(value: unknown, limits: MessageLimits): Message {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireError(
      "not_object",
      `frame must hold a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  const obj = value as Fields;
  const type = obj.type;
  switch (type) {
    case "challenge":
      return { type, version: version(obj, type, true), nonce: nonce(obj, type, "nonce") };
    case "get_peer_list": {
      const v = version(obj, type);
      const request: GetPeerList = { type, version: v, addr: address(obj, type, "addr") };
      const neighbours = addressList(obj, type, "neighbours", limits.maxPeers);
      const push = addressList(obj, type, "push", limits.maxPeers);
      if (neighbours) request.neighbours = neighbours;
      if (push) request.push = push;
      return { ...request, ...handshakeProof(obj, type, v === PROTOCOL_VERSION) };
    }
    case "peer_request": {
      const v = version(obj, type);
      return {
        type,
        version: v,
        addr: address(obj, type, "addr"),
        ...handshakeProof(obj, type, v === PROTOCOL_VERSION),
      };
    }
    case "peer_list": {
      const peers = addressList(obj, type, "peers", limits.maxPeers, true)!;
      return { type, peers, ...(signedBy(obj, type, true) as Signed) };
    }
    case "peer_reply": {
      if (typeof obj.accepted !== "boolean") fail(type, "accepted", "must be true or false", obj.accepted);
      const reason = reasonText(obj, type);
      const reply: PeerReply = { type, accepted: obj.accepted, addr: address(obj, type, "addr") };
      if (reason !== undefined) reply.reason = reason;
      return { ...reply, ...signedBy(obj, type, obj.accepted) };
    }
    case "refused": {
      const reason = reasonText(obj, type);
      if (reason === undefined) {
        fail(type, "reason", `must be a string of at most ${MAX_REASON} characters`, reason);
      }
      return { type, reason };
    }
    case "liveliness": {
      const probe: Liveliness = { type, ts: timestamp(obj, type, "ts") };
      if (obj.nonce !== undefined) probe.nonce = nonce(obj, type, "nonce");
      return probe;
    }
    case "liveliness_reply":
      return { type, ts: timestamp(obj, type, "ts"), ...signedBy(obj, type) };
    case "get_data": {
      const ids = idList(obj, type, "ids", limits.maxIds);
      const have = idList(obj, type, "have", limits.maxIds);
      const from = position(obj, type, "from");
      const request: GetData = { type };
      if (ids) request.ids = ids;
      if (have) request.have = have;
      if (from !== undefined) request.from = from;
      return request;
    }
    case "page_end": {
      const next = position(obj, type, "next");
      return next === undefined ? { type } : { type, next };
    }
    case "ihave": {
      const ids = idList(obj, type, "ids", limits.maxIds);
      if (ids === undefined || ids.length === 0) {
        fail(type, "ids", "must be a non-empty list of ids", obj.ids);
      }
      const hops = obj.hops;
      if (!Array.isArray(hops) || hops.length !== ids.length || !hops.every((h) => isHopCount(h, 0))) {
        fail(type, "hops", `must list a whole number from 0 to ${MAX_HOPS} for each id`, hops);
      }
      return { type, ids, hops: hops as number[] };
    }
    case "graft":
    case "prune":
      return { type };
    case "message": {
      if (typeof obj.id !== "string" || !MESSAGE_ID.test(obj.id)) {
        fail(type, "id", "must be 32 hex digits", obj.id);
      }
      const content = obj.content;
      if (typeof content !== "string" || !fitsUtf8(content, limits.maxContentBytes)) {
        fail(
          type,
          "content",
          `must be a string of at most ${limits.maxContentBytes} bytes of UTF-8`,
          content,
        );
      }
      address(obj, type, "origin");
      nodeId(obj, type, "originId");
      if (!Number.isSafeInteger(obj.created) || (obj.created as number) < 0) {
        fail(type, "created", "must be a whole, non-negative number of milliseconds", obj.created);
      }
      if (obj.sig !== undefined) signature(obj, type, "sig");
      const hops = obj.hops;
      if (!isHopCount(hops, 1)) {
        fail(type, "hops", `must be a whole number from 1 to ${MAX_HOPS}`, hops);
      }
      const offTree = obj.offTree;
      if (offTree !== undefined && typeof offTree !== "boolean") {
        fail(type, "offTree", "must be true or false", offTree);
      }
      // Its fields are checked now. Built in the key order of gossip frames, so that a copy
      // passed on as decoded can be peeked at; read from obj, so no copy is made first.
      return gossipMessage(obj as unknown as GossipFields, hops, offTree === true);
    }
    case "death": {
      if (obj.reason !== "leaving" && obj.reason !== "dead") {
        fail(type, "reason", 'must be "leaving" or "dead"', obj.reason);
      }
      const death: Death = {
        type,
        addr: address(obj, type, "addr"),
        reason: obj.reason,
        reporter: address(obj, type, "reporter"),
      };
      if (obj.reason === "leaving" || obj.sig !== undefined) death.sig = signature(obj, type, "sig");
      return death;
    }
    default:
      if (type === undefined && "auth" in obj) {
        throw new WireError("auth_required", "remote requires a network key: set networkKey or P2PNET_KEY");
      }
      if (typeof type !== "string") fail("message", "type", "must be a string", type);
      throw new WireError(
        "unknown_type",
        `unknown message type ${JSON.stringify(type.slice(0, 40))}`,
        "type",
      );
  }
}

/**
 * Decodes one frame body into a checked message: UTF-8 JSON ({@link decodeJson}) that
 * passes {@link parseMessage}. Throws {@link WireError}.
 */
export function decodeMessage(body: Uint8Array, limits: MessageLimits): Message {
  return parseMessage(decodeJson(body), limits);
}
