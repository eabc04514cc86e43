/**
 * The p2pnet messages and their schemas. Every frame's JSON object passes
 * {@link parseMessage} before any node looks at it; docs/protocol.md documents the
 * same shapes for authors of other clients.
 */

import { isAddress } from "./address.ts";
import { decodeJson } from "./codec.ts";
import { type GossipFields, gossipMessage, MAX_HOPS } from "./gossip_frame.ts";
import { NODE_ID, NONCE, SIGNATURE } from "./signatures.ts";
import { WireError } from "./wire_error.ts";

/**
 * The version of the protocol this code speaks, carried by the frames that open a
 * connection ({@link GetPeerList}, {@link PeerRequest}); a node refuses any other.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Accepting end → connecting end, first frame on every connection: the nonce the other
 * end signs to prove its node id ({@link GetPeerList}, {@link PeerRequest}), and the
 * version this end speaks.
 */
export interface Challenge {
  type: "challenge";
  version: number;
  /** 16 random bytes, base64url. */
  nonce: string;
}

/** Peer → seed, first frame on a seed connection and later refreshes: register `addr` and ask for peers. */
export interface GetPeerList {
  type: "get_peer_list";
  /** The protocol version the peer speaks, {@link PROTOCOL_VERSION}; 0 when the frame carries none. */
  version: number;
  /** The asking peer's listening address, `host:port`. */
  addr: string;
  /** The peer's node id; with `nonce` and `sig`, present in every frame of this version (see {@link Signed}). */
  node?: string;
  /** A fresh nonce for the seed to sign in its {@link PeerList}. */
  nonce?: string;
  /** The peer's signature over the seed's {@link Challenge} nonce. */
  sig?: string;
}
/**
 * A frame that proves its sender's node id: `node` and a signature `sig` (see
 * lib/wire/signatures.ts for what it covers).
 */
export interface Signed {
  node: string;
  sig: string;
}
/** Seed → peer: the other active peers (a random sample when there are many). */
export interface PeerList {
  type: "peer_list";
  peers: string[];
  /** The seed's node id. */
  node: string;
  /** The seed's signature over the nonce of the first {@link GetPeerList} on this connection. */
  sig: string;
}
/** Peer → peer, first frame on an overlay connection: the sender, listening at `addr`, asks to be a neighbour. */
export interface PeerRequest {
  type: "peer_request";
  /** The protocol version the sender speaks, {@link PROTOCOL_VERSION}; 0 when the frame carries none. */
  version: number;
  addr: string;
  /** As in {@link GetPeerList}: present in every frame of this version. */
  node?: string;
  nonce?: string;
  sig?: string;
}
/** Peer → peer: answer to {@link PeerRequest}; a declined request carries a reason and the connection closes. */
export interface PeerReply {
  type: "peer_reply";
  accepted: boolean;
  /** The answering peer's listening address. */
  addr: string;
  reason?: string;
  /** The answering peer's node id and its signature over the request's nonce; required when accepted. */
  node?: string;
  sig?: string;
}
/** A probe; any node answers it with {@link LivelinessReply} echoing `ts`. */
export interface Liveliness {
  type: "liveliness";
  /** Sender's clock in milliseconds since the epoch when it sent the probe. */
  ts: number;
  /** Asks the target to prove its node id by signing this nonce in its reply. */
  nonce?: string;
}
export interface LivelinessReply {
  type: "liveliness_reply";
  ts: number;
  /** With a probe's `nonce`: the target's node id and signature over it. */
  node?: string;
  sig?: string;
}
/**
 * Ask a neighbour for messages. With `ids`, those messages; without, every stored
 * message whose id is not in `have` (up to the neighbour's catch-up limit).
 */
export interface GetData {
  type: "get_data";
  ids?: string[];
  have?: string[];
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
  | GossipMessage
  | IHave
  | Graft
  | Prune
  | Death
  | Refused;

export type MessageType = Message["type"];

/** Bounds that a decoded message must respect; the node passes its settings (see `messageLimits`). */
export interface MessageLimits {
  /** Most entries of `peers` in a Peer List. */
  maxPeers: number;
  /** Most entries of `ids` or `have` in a getData, and of `ids` in an ihave. */
  maxIds: number;
  /** Longest `content` of a message, in UTF-16 code units. */
  maxContent: number;
}

/** Longest reason text a Peer Reply or a Refused may carry. */
const MAX_REASON = 200;
/** Longest address text, with room for a bracketed IPv6 host name. */
const MAX_ADDRESS = 300;
const MESSAGE_ID = /^[0-9a-f]{32}$/;

type Fields = Record<string, unknown>;

function fail(type: string, field: string, problem: string, value: unknown): never {
  const shown = value === undefined ? "nothing" : JSON.stringify(value)?.slice(0, 60) ?? String(value);
  throw new WireError("invalid_field", `${type}.${field}: ${problem}, got ${shown}`, field);
}

function address(obj: Fields, type: string, field: string): string {
  return addressValue(obj[field], type, field);
}

function addressValue(value: unknown, type: string, field: string): string {
  if (typeof value !== "string" || value.length > MAX_ADDRESS || !isAddress(value)) {
    fail(type, field, 'must be a "host:port" string', value);
  }
  return value;
}

/** Whether `value` is a whole number from `min` to {@link MAX_HOPS}. */
function isHopCount(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= MAX_HOPS;
}

function matching(obj: Fields, type: string, field: string, pattern: RegExp, what: string): string {
  const value = obj[field];
  if (typeof value !== "string" || !pattern.test(value)) fail(type, field, `must be ${what}`, value);
  return value;
}

const ID_TEXT = "a node id (43 base64url characters)";
const SIG_TEXT = "a signature (86 base64url characters)";
const NONCE_TEXT = "a nonce (22 base64url characters)";

/** The proof fields of a handshake frame of this version; another version's frame is refused by version first. */
function handshakeProof(obj: Fields, type: "get_peer_list" | "peer_request", version: number) {
  if (version !== PROTOCOL_VERSION) return {};
  return {
    node: matching(obj, type, "node", NODE_ID, ID_TEXT),
    nonce: matching(obj, type, "nonce", NONCE, NONCE_TEXT),
    sig: matching(obj, type, "sig", SIGNATURE, SIG_TEXT),
  };
}

/** Optional `node` and `sig`, both or neither; `required` makes them mandatory. */
function optionalProof(obj: Fields, type: string, required = false): Partial<Signed> {
  if (!required && obj.node === undefined && obj.sig === undefined) return {};
  return {
    node: matching(obj, type, "node", NODE_ID, ID_TEXT),
    sig: matching(obj, type, "sig", SIGNATURE, SIG_TEXT),
  };
}

function timestamp(obj: Fields, type: string, field: string): number {
  const value = obj[field];
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(type, field, "must be a non-negative number of milliseconds", value);
  }
  return value;
}

/**
 * The protocol version of a handshake frame: any whole number, so that the node, not the
 * parser, refuses another version, with a reason the sender can read. A frame without
 * one comes from before versions existed: version 0.
 */
function version(obj: Fields, type: string): number {
  const value = obj.version;
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(type, "version", "must be a whole number", value);
  }
  return value;
}

/** Why a handshake frame of protocol `version` is refused, or undefined when this node speaks it. */
export function versionRefusal(version: number): string | undefined {
  if (version === PROTOCOL_VERSION) return undefined;
  return `protocol version ${version} not supported; this node speaks ${PROTOCOL_VERSION}`;
}

function reasonText(obj: Fields, type: string): string | undefined {
  const reason = obj.reason;
  if (reason !== undefined && (typeof reason !== "string" || reason.length > MAX_REASON)) {
    fail(type, "reason", `must be a string of at most ${MAX_REASON} characters`, reason);
  }
  return reason as string | undefined;
}

function idList(obj: Fields, type: string, field: string, max: number): string[] | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > max) {
    fail(type, field, `must be a list of at most ${max} ids`, value);
  }
  for (const id of value) {
    if (typeof id !== "string" || !MESSAGE_ID.test(id)) fail(type, field, "must hold 32-hex-digit ids", id);
  }
  return value as string[];
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
    case "challenge": {
      const v = obj.version;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
        fail(type, "version", "must be a whole number", v);
      }
      return { type, version: v, nonce: matching(obj, type, "nonce", NONCE, NONCE_TEXT) };
    }
    case "get_peer_list":
    case "peer_request": {
      const v = version(obj, type);
      return { type, version: v, addr: address(obj, type, "addr"), ...handshakeProof(obj, type, v) };
    }
    case "peer_list": {
      const peers = obj.peers;
      if (!Array.isArray(peers) || peers.length > limits.maxPeers) {
        fail(type, "peers", `must be a list of at most ${limits.maxPeers} addresses`, peers);
      }
      peers.forEach((peer, i) => addressValue(peer, type, `peers[${i}]`));
      const { node, sig } = optionalProof(obj, type, true) as Signed;
      return { type, peers: peers as string[], node, sig };
    }
    case "peer_reply": {
      if (typeof obj.accepted !== "boolean") fail(type, "accepted", "must be true or false", obj.accepted);
      const reason = reasonText(obj, type);
      const reply: PeerReply = { type, accepted: obj.accepted, addr: address(obj, type, "addr") };
      if (reason !== undefined) reply.reason = reason;
      return { ...reply, ...optionalProof(obj, type, obj.accepted) };
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
      if (obj.nonce !== undefined) probe.nonce = matching(obj, type, "nonce", NONCE, NONCE_TEXT);
      return probe;
    }
    case "liveliness_reply":
      return { type, ts: timestamp(obj, type, "ts"), ...optionalProof(obj, type) };
    case "get_data": {
      const ids = idList(obj, type, "ids", limits.maxIds);
      const have = idList(obj, type, "have", limits.maxIds);
      const request: GetData = { type };
      if (ids) request.ids = ids;
      if (have) request.have = have;
      return request;
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
      if (typeof content !== "string" || content.length > limits.maxContent) {
        fail(type, "content", `must be a string of at most ${limits.maxContent} characters`, content);
      }
      address(obj, type, "origin");
      matching(obj, type, "originId", NODE_ID, ID_TEXT);
      if (!Number.isSafeInteger(obj.created) || (obj.created as number) < 0) {
        fail(type, "created", "must be a whole, non-negative number of milliseconds", obj.created);
      }
      if (obj.sig !== undefined) matching(obj, type, "sig", SIGNATURE, SIG_TEXT);
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
      if (obj.reason === "leaving" || obj.sig !== undefined) {
        death.sig = matching(obj, type, "sig", SIGNATURE, SIG_TEXT);
      }
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
