import { hash } from "node:crypto";
import { messageBytes, type SignedFields } from "./signatures.ts";

/**
 * The id of a gossiped message: the first 128 bits of SHA-256 over the bytes its origin
 * signs ({@link messageBytes}: origin id and address, created, content), as 32 hex
 * digits. Receivers recompute it, so no one can claim another message's id to shadow it.
 * Pass the bytes when they are at hand, so they are built once for the id and the signature.
 */
export function messageId(message: SignedFields | Uint8Array): string {
  const bytes = message instanceof Uint8Array ? message : messageBytes(message);
  return hash("sha256", bytes, "hex").slice(0, 32);
}
