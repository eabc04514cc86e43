/**
 * The control API's bearer token. On a network with a key, the token is an HMAC of a
 * fixed label under that key: every node and client that holds the key derives the same
 * token, and no one needs to print, store or type it.
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** The label the token is derived under; another label gives another, unrelated token. */
const TOKEN_LABEL = "p2pnet control api token v1";

/** The API token for `networkKey`, 64 hex digits; "" (no token needed) on a network without a key. */
export function apiToken(networkKey: string): string {
  if (networkKey === "") return "";
  return createHmac("sha256", networkKey).update(TOKEN_LABEL).digest("hex");
}

/**
 * Whether a request proves the token: `Authorization: Bearer <token>`, or `token=<token>`
 * in the query (for the browser's EventSource, which cannot set headers). Compared in
 * constant time. Always true when `token` is "".
 */
export function authorized(token: string, header: string | null, query: string | null): boolean {
  if (token === "") return true;
  const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : query ?? "";
  const expected = new TextEncoder().encode(token);
  const given = new TextEncoder().encode(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
