/**
 * Private networks: when nodes share a network key, every connection starts with a
 * handshake proving that both ends know it, agreeing on fresh keys by an ephemeral
 * X25519 exchange (forward secrecy), and after it the byte stream travels in sealed
 * records. node:crypto throughout, synchronously. docs/protocol.md has the layout and
 * test vectors; the handshake, both ends at once, in ordinary frames:
 *
 * 1. each sends `{"auth":"hello","nonce":"<64 hex>","dh":"<64 hex>"}`: 32 random bytes
 *    and a fresh X25519 public key;
 * 2. each sends `{"auth":"proof","mac":"<64 hex>"}`: HMAC-SHA-256 under the network key
 *    of `"p2pnet-proof/2:" + role + ":" + nonceI + ":" + nonceR + ":" + dhI + ":" + dhR`;
 * 3. each checks the other's proof and derives, with HKDF-SHA-256 over the X25519 shared
 *    secret and the network key, one ChaCha20-Poly1305 key per direction and the
 *    connection's channel binding.
 *
 * A record is a 4-byte length, then ChaCha20-Poly1305 ciphertext of up to
 * {@link RECORD_BYTES} bytes of the frame stream, then its 16-byte tag. Its nonce is not
 * sent: 4 zero bytes, then the record's index in its direction as a 64-bit big-endian
 * counter, so a replayed, dropped, reordered or altered record fails and closes the
 * connection.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { WireError } from "./wire_error.ts";
import { HEADER_BYTES, writeHeader } from "./codec.ts";

/** The network key's bytes, for HMAC and HKDF. */
export interface NetworkKey {
  readonly bytes: Uint8Array;
}

export type Role = "initiator" | "responder";

/** Most bytes of the frame stream sealed in one record. */
export const RECORD_BYTES = 65_536;
/** Bytes of the Poly1305 tag at the end of every record. */
export const TAG_BYTES = 16;
const CIPHER = "chacha20-poly1305";
const NONCE_BYTES = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The network key given as text (any length; it is HMAC and HKDF key material). */
export function importNetworkKey(secret: string): NetworkKey {
  return { bytes: encoder.encode(secret) };
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

/** This end's half of a handshake: its nonce and its ephemeral X25519 key pair. */
export interface Hello {
  readonly nonce: Uint8Array;
  /** The raw 32-byte X25519 public key. */
  readonly dh: Uint8Array;
  readonly dhPrivate: KeyObject;
}

/** DER prefixes of X25519 keys; the 32 raw key bytes follow. */
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");

/** A fresh hello; `fixed` gives the nonce and private key (for test vectors only). */
export function newHello(fixed?: { nonce: Uint8Array; dhPrivate: Uint8Array }): Hello {
  const dhPrivate = fixed
    ? createPrivateKey({ key: Buffer.concat([X25519_PKCS8, fixed.dhPrivate]), format: "der", type: "pkcs8" })
    : generateKeyPairSync("x25519").privateKey;
  const jwk = createPublicKey(dhPrivate).export({ format: "jwk" }) as { x: string };
  return {
    nonce: fixed?.nonce ?? randomBytes(NONCE_BYTES),
    dh: Buffer.from(jwk.x, "base64url"),
    dhPrivate,
  };
}

/** The body of a hello frame. */
export function helloBody(hello: Hello): Uint8Array {
  return encoder.encode(JSON.stringify({ auth: "hello", nonce: toHex(hello.nonce), dh: toHex(hello.dh) }));
}

/** The body of a proof frame. */
export function proofBody(mac: Uint8Array): Uint8Array {
  return encoder.encode(JSON.stringify({ auth: "proof", mac: toHex(mac) }));
}

/** The other end's hello as received: its nonce and X25519 public key. */
export interface PeerHello {
  readonly nonce: Uint8Array;
  readonly dh: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;

function authObject(body: Uint8Array, step: "hello" | "proof"): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    throw new WireError(
      "auth_failed",
      `expected a handshake ${step}, got undecodable bytes (different network key?)`,
    );
  }
  const obj = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof obj.type === "string") {
    throw new WireError(
      "auth_required",
      "remote sent messages without authenticating: it has no network key",
    );
  }
  return obj;
}

/** Reads a hello frame body. A p2pnet message instead means the remote has no network key. */
export function parseHello(body: Uint8Array): PeerHello {
  const obj = authObject(body, "hello");
  const { nonce, dh } = obj;
  if (
    obj.auth !== "hello" || typeof nonce !== "string" || !HEX64.test(nonce) || typeof dh !== "string" ||
    !HEX64.test(dh)
  ) {
    throw new WireError("auth_failed", "expected a handshake hello with a 64-hex-digit nonce and dh");
  }
  return { nonce: Buffer.from(nonce, "hex"), dh: Buffer.from(dh, "hex") };
}

/** Reads a proof frame body: its MAC. */
export function parseProof(body: Uint8Array): Uint8Array {
  const obj = authObject(body, "proof");
  if (obj.auth !== "proof" || typeof obj.mac !== "string" || !HEX64.test(obj.mac)) {
    throw new WireError("auth_failed", "expected a handshake proof with a 64-hex-digit mac");
  }
  return Buffer.from(obj.mac, "hex");
}

/** Both halves of a handshake, in initiator-responder order. */
export interface Transcript {
  readonly nonceI: Uint8Array;
  readonly nonceR: Uint8Array;
  readonly dhI: Uint8Array;
  readonly dhR: Uint8Array;
}

/** The MAC by which `role` proves the network key over the whole transcript. */
export function makeProof(key: NetworkKey, role: Role, t: Transcript): Uint8Array {
  const text = `p2pnet-proof/2:${role}:${toHex(t.nonceI)}:${toHex(t.nonceR)}:${toHex(t.dhI)}:${toHex(t.dhR)}`;
  return createHmac("sha256", key.bytes).update(text).digest();
}

/** Checks the other end's proof, in constant time. */
export function checkProof(key: NetworkKey, role: Role, t: Transcript, mac: Uint8Array): boolean {
  const expected = makeProof(key, role, t);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}

/** What a finished handshake gives a connection. */
export interface Session {
  seal: RecordSealer;
  open: RecordOpener;
  /** Names this connection's keys: handshake signatures cover it, so they cannot be relayed elsewhere. */
  binding: string;
}

/**
 * The session keys: HKDF-SHA-256 with input the X25519 shared secret followed by the
 * network key, salt nonceI ‖ nonceR, and an info text per key.
 */
export function deriveSession(key: NetworkKey, role: Role, t: Transcript, mine: Hello): Session {
  const peerDh = role === "initiator" ? t.dhR : t.dhI;
  let shared: Uint8Array;
  try {
    const publicKey = createPublicKey({
      key: Buffer.concat([X25519_SPKI, peerDh]),
      format: "der",
      type: "spki",
    });
    shared = diffieHellman({ privateKey: mine.dhPrivate, publicKey });
  } catch {
    throw new WireError("auth_failed", "the remote's handshake key is not a valid X25519 key");
  }
  const ikm = Buffer.concat([shared, key.bytes]);
  const salt = Buffer.concat([t.nonceI, t.nonceR]);
  const derive = (info: string, bytes = 32) => Buffer.from(hkdfSync("sha256", ikm, salt, info, bytes));
  const iToR = derive("p2pnet/2 initiator→responder");
  const rToI = derive("p2pnet/2 responder→initiator");
  const binding = derive("p2pnet/2 binding").toString("base64url");
  return role === "initiator"
    ? { seal: new RecordSealer(iToR), open: new RecordOpener(rToI), binding }
    : { seal: new RecordSealer(rToI), open: new RecordOpener(iToR), binding };
}

/** The nonce of record `counter`: 4 zero bytes, then the counter, 64 bits big-endian. */
function nonceOf(iv: Buffer, counter: bigint): Buffer {
  iv.writeBigUInt64BE(counter, 4);
  return iv;
}

/** Seals one direction's byte stream into records; the record counter is the nonce. */
export class RecordSealer {
  #counter = 0n;
  readonly #iv = Buffer.alloc(12);
  constructor(readonly key: Uint8Array) {}

  /** The records for `plain`, ready to write: one per {@link RECORD_BYTES} of it. */
  seal(plain: Uint8Array): Uint8Array {
    const count = Math.max(1, Math.ceil(plain.length / RECORD_BYTES));
    const out = new Uint8Array(plain.length + count * (HEADER_BYTES + TAG_BYTES));
    let at = 0;
    for (let from = 0; from < plain.length || at === 0; from += RECORD_BYTES) {
      const piece = plain.subarray(from, Math.min(plain.length, from + RECORD_BYTES));
      const cipher = createCipheriv(CIPHER, this.key, nonceOf(this.#iv, this.#counter++), {
        authTagLength: TAG_BYTES,
      });
      writeHeader(out.subarray(at), piece.length + TAG_BYTES);
      at += HEADER_BYTES;
      const body = cipher.update(piece);
      out.set(body, at);
      at += body.length;
      cipher.final();
      out.set(cipher.getAuthTag(), at);
      at += TAG_BYTES;
    }
    return out;
  }
}

/** Opens one direction's records, in order. */
export class RecordOpener {
  #counter = 0n;
  readonly #iv = Buffer.alloc(12);
  constructor(readonly key: Uint8Array) {}

  /** The plaintext of one record body (ciphertext and tag); throws {@link WireError} `auth_failed` if it does not authenticate. */
  open(record: Uint8Array): Uint8Array {
    if (record.length < TAG_BYTES) {
      throw new WireError("auth_failed", `record of ${record.length} bytes is shorter than its tag`);
    }
    const end = record.length - TAG_BYTES;
    try {
      const decipher = createDecipheriv(CIPHER, this.key, nonceOf(this.#iv, this.#counter++), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(record.subarray(end));
      const plain = decipher.update(record.subarray(0, end));
      decipher.final();
      return plain;
    } catch {
      throw new WireError("auth_failed", "record failed authentication (tampered, replayed or reordered)");
    }
  }
}
