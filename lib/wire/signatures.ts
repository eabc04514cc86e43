/**
 * Node identities on the wire: how node ids, nonces and signatures are written, the
 * exact bytes each signature covers, and checking a signature against a node id with
 * a bounded cache of public keys. Ed25519 through node:crypto, the fastest path here.
 *
 * A node id is the node's Ed25519 public key, the 32 raw bytes in unpadded base64url
 * (43 characters); a signature is 64 bytes in the same encoding (86 characters).
 */

import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto";
import { Buffer } from "node:buffer";

/** A node id: 32 bytes of unpadded base64url, in canonical form (the last character carries 4 bits). */
export const NODE_ID = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** A signature: 64 bytes of unpadded base64url, canonical (the last character carries 2 bits). */
export const SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/;
/** A handshake nonce: 16 bytes of unpadded base64url. */
export const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** Prefix of every signed text: the protocol's name and the version of these layouts. */
const DOMAIN = "p2pnet/2";
const encoder = new TextEncoder();

/** What a handshake signature proves, each over a nonce the other end chose. */
export type ProofPurpose =
  | "get_peer_list"
  | "peer_list"
  | "peer_request"
  | "peer_reply"
  | "liveliness_reply"
  | "leaving";

/** A fresh random nonce for a challenge, a request or a probe. */
export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * The bytes a handshake signature covers: its purpose, the other end's nonce, the
 * signer's listening address and the connection's channel binding ("" on a connection
 * without a network key). The purpose keeps a signature made for one step from
 * standing in for another; the binding keeps it from being relayed to another connection.
 */
export function proofBytes(purpose: ProofPurpose, nonce: string, addr: string, binding: string): Uint8Array {
  return encoder.encode(`${DOMAIN} ${purpose}\n${nonce}\n${addr}\n${binding}`);
}

/** The fields of a gossip message that its origin signs, and that its id is the hash of. */
export interface SignedFields {
  originId: string;
  origin: string;
  created: number;
  content: string;
}

/** The bytes a message signature covers (lone surrogates in `content` become U+FFFD). */
export function messageBytes({ originId, origin, created, content }: SignedFields): Uint8Array {
  return encoder.encode(`${DOMAIN} message\n${originId}\n${origin}\n${created}\n${content}`);
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The public key a node id names, or undefined if it is not a key. */
export function publicKeyOf(id: string): KeyObject | undefined {
  if (!NODE_ID.test(id)) return undefined;
  try {
    return createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, Buffer.from(id, "base64url")]),
      format: "der",
      type: "spki",
    });
  } catch {
    return undefined;
  }
}

/**
 * Checks signatures against node ids. Decoding a public key costs a third of a
 * verification, so each node keeps the keys it met, at most `limit` of them (the
 * oldest go first).
 */
export class PublicKeys {
  readonly #keys = new Map<string, KeyObject | null>();
  readonly #limit: number;
  /** Signatures checked so far, good or bad. */
  verifications = 0;

  /** @param limit most keys kept decoded (the node passes `TUNING.publicKeyCacheSize`). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Whether `sig` is `id`'s signature of `bytes`. A malformed id or signature is simply false. */
  verify(id: string, bytes: Uint8Array, sig: string): boolean {
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = publicKeyOf(id) ?? null;
      if (this.#keys.size >= this.#limit) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(id, key);
    }
    if (key === null || !SIGNATURE.test(sig)) return false;
    this.verifications++;
    try {
      return verify(null, bytes, key, Buffer.from(sig, "base64url"));
    } catch {
      return false;
    }
  }
}
