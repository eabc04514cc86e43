import { hash } from "node:crypto";

/**
 * The id of a gossiped message: the first 128 bits of SHA-256 over its origin and
 * content, as 32 hex digits. Receivers recompute it, so no one can claim another
 * message's id to shadow it.
 */
export function messageId(origin: string, content: string): string {
  return hash("sha256", `${origin}\n${content}`, "hex").slice(0, 32);
}
