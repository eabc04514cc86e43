/**
 * Private networks: when nodes share a network key, every connection starts with a
 * challenge-response proving both ends know it, and every later frame is encrypted
 * and authenticated. WebCrypto only.
 *
 * Handshake, both ends at once, in ordinary frames:
 * 1. each sends `{"auth":"hello","nonce":"<64 hex digits>"}` (32 random bytes);
 * 2. each sends `{"auth":"proof","mac":"<64 hex>"}`: HMAC-SHA-256 under the key of
 *    `"p2pnet-proof:" + role + ":" + nonceI + ":" + nonceR` (hex nonces of the
 *    initiator, the end that connected, and of the responder; role is its own);
 * 3. each checks the other's proof, then derives two AES-256-GCM keys with
 *    HKDF-SHA-256 (salt nonceI‖nonceR, info "p2pnet initiator→responder" or
 *    "p2pnet responder→initiator"), one for each direction.
 * After that a frame's body is AES-GCM ciphertext with its 16-byte tag; the 12-byte
 * nonce is not sent: it is the frame's index in its direction (4 zero bytes, then a
 * 64-bit big-endian counter from 0), so a replayed, dropped or reordered frame fails
 * authentication and closes the connection.
 */

import { WireError } from "./wire_error.ts";

/** The imported network key, ready for HMAC and HKDF. */
export interface NetworkKey {
  readonly hmac: CryptoKey;
  readonly hkdf: CryptoKey;
}

export type Role = "initiator" | "responder";

const NONCE_BYTES = 32;
/** Bytes of the AES-GCM authentication tag on every sealed frame. */
export const SEAL_TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Imports a network key given as text (any length; it is used as HMAC and HKDF key material). */
export async function importNetworkKey(secret: string): Promise<NetworkKey> {
  const raw = encoder.encode(secret);
  const [hmac, hkdf] = await Promise.all([
    crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
    crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]),
  ]);
  return { hmac, hkdf };
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Fresh random hello nonce. */
export function newNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** The body of a hello frame. */
export function helloBody(nonce: Uint8Array): Uint8Array {
  return encoder.encode(JSON.stringify({ auth: "hello", nonce: toHex(nonce) }));
}

/** The body of a proof frame. */
export function proofBody(mac: Uint8Array): Uint8Array {
  return encoder.encode(JSON.stringify({ auth: "proof", mac: toHex(mac) }));
}

/**
 * Reads a handshake frame body, expecting `step`. A p2pnet message instead means the
 * remote has no network key; anything else is a failed handshake.
 */
export function parseAuthBody(body: Uint8Array, step: "hello" | "proof"): Uint8Array {
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
  const field = step === "hello" ? "nonce" : "mac";
  const hex = obj[field];
  if (obj.auth !== step || typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new WireError("auth_failed", `expected a handshake ${step} with a 64-hex-digit ${field}`);
  }
  return fromHex(hex);
}

function transcript(role: Role, nonceI: Uint8Array, nonceR: Uint8Array): Uint8Array<ArrayBuffer> {
  return encoder.encode(`p2pnet-proof:${role}:${toHex(nonceI)}:${toHex(nonceR)}`);
}

/** This end's proof of the key over both nonces. */
export async function makeProof(
  key: NetworkKey,
  role: Role,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key.hmac, transcript(role, nonceI, nonceR)));
}

/** Checks the other end's proof, in constant time. */
export function checkProof(
  key: NetworkKey,
  role: Role,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  mac: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", key.hmac, mac, transcript(role, nonceI, nonceR));
}

/** Seals or opens the frames of one direction; the frame counter is the nonce. */
export class FrameCipher {
  #counter = 0n;
  constructor(readonly key: CryptoKey) {}

  #nextIv(): Uint8Array<ArrayBuffer> {
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setBigUint64(4, this.#counter);
    this.#counter++;
    return iv;
  }

  /** Encrypts one frame body. Calls must not overlap: each takes the next counter. */
  async seal(plain: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv: this.#nextIv() }, this.key, plain),
    );
  }

  /** Decrypts one frame body; throws {@link WireError} `auth_failed` if it was tampered, replayed or reordered. */
  async open(sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv: this.#nextIv() }, this.key, sealed),
      );
    } catch {
      throw new WireError("auth_failed", "frame failed authentication (tampered, replayed or reordered)");
    }
  }
}

/** The two directions' ciphers of one connection, from its nonces. */
export async function sessionCiphers(
  key: NetworkKey,
  role: Role,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
): Promise<{ seal: FrameCipher; open: FrameCipher }> {
  const salt = new Uint8Array(nonceI.length + nonceR.length);
  salt.set(nonceI);
  salt.set(nonceR, nonceI.length);
  const derive = (info: string) =>
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt, info: encoder.encode(info) },
      key.hkdf,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  const [iToR, rToI] = await Promise.all([
    derive("p2pnet initiator→responder"),
    derive("p2pnet responder→initiator"),
  ]);
  return role === "initiator"
    ? { seal: new FrameCipher(iToR), open: new FrameCipher(rToI) }
    : { seal: new FrameCipher(rToI), open: new FrameCipher(iToR) };
}
