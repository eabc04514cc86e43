/**
 * The fields by which frames prove their sender's node id (docs/protocol.md, "Node
 * identities"): the challenge that opens a connection, the proof of the frames that
 * answer it, and their checks.
 */

import { type Fields, nodeId, nonce, signature } from "./fields.ts";

/**
 * Accepting end → connecting end, first frame on every connection: the nonce the other
 * end signs to prove its node id, and the version this end speaks.
 */
export interface Challenge {
  type: "challenge";
  version: number;
  /** 16 random bytes, base64url. */
  nonce: string;
}

/** A frame that proves its sender's node id: `node` and a signature `sig` (see signatures.ts for what it covers). */
export interface Signed {
  node: string;
  sig: string;
}

/**
 * The proof of a `get_peer_list` or `peer_request`: the sender's node id, its signature
 * over the other end's challenge, and a fresh nonce for the other end to sign in its
 * answer. Present in every frame of this protocol version.
 */
export interface HandshakeProof {
  node?: string;
  nonce?: string;
  sig?: string;
}

/** The proof fields of a handshake frame, when `current` (a frame of another version is refused by version first). */
export function handshakeProof(obj: Fields, type: string, current: boolean): HandshakeProof {
  if (!current) return {};
  return {
    node: nodeId(obj, type, "node"),
    nonce: nonce(obj, type, "nonce"),
    sig: signature(obj, type, "sig"),
  };
}

/** `node` and `sig`, both or neither; `required` makes them mandatory. */
export function signedBy(obj: Fields, type: string, required = false): Partial<Signed> {
  if (!required && obj.node === undefined && obj.sig === undefined) return {};
  return { node: nodeId(obj, type, "node"), sig: signature(obj, type, "sig") };
}
