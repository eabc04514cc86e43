/**
 * The checks of single fields that the schemas of messages.ts are made of: each throws
 * {@link WireError} `invalid_field` naming the type, the field and the value it got.
 */

import { isAddress } from "./address.ts";
import { MAX_HOPS } from "./gossip_frame.ts";
import { WireError } from "./wire_error.ts";
import { NODE_ID, NONCE, SIGNATURE } from "./signatures.ts";

/** Longest reason text a Peer Reply or a Refused may carry. */
export const MAX_REASON = 200;
/** Longest address text, with room for a bracketed IPv6 host name. */
export const MAX_ADDRESS = 300;
export const MESSAGE_ID = /^[0-9a-f]{32}$/;

/** A decoded JSON object whose fields are being checked. */
export type Fields = Record<string, unknown>;

export function fail(type: string, field: string, problem: string, value: unknown): never {
  const shown = value === undefined ? "nothing" : JSON.stringify(value)?.slice(0, 60) ?? String(value);
  throw new WireError("invalid_field", `${type}.${field}: ${problem}, got ${shown}`, field);
}

export function address(obj: Fields, type: string, field: string): string {
  return addressValue(obj[field], type, field);
}

export function addressValue(value: unknown, type: string, field: string): string {
  if (typeof value !== "string" || value.length > MAX_ADDRESS || !isAddress(value)) {
    fail(type, field, 'must be a "host:port" string', value);
  }
  return value;
}

/** Whether `value` is a whole number from `min` to {@link MAX_HOPS}. */
export function isHopCount(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= MAX_HOPS;
}

export function timestamp(obj: Fields, type: string, field: string): number {
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
export function version(obj: Fields, type: string, required = false): number {
  const value = obj.version;
  if (value === undefined && !required) return 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(type, "version", "must be a whole number", value);
  }
  return value;
}

/** An optional place in a catch-up: a whole number from 0. */
export function position(obj: Fields, type: string, field: string): number | undefined {
  const value = obj[field];
  if (value !== undefined && (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)) {
    fail(type, field, "must be a whole number from 0", value);
  }
  return value as number | undefined;
}

export function reasonText(obj: Fields, type: string): string | undefined {
  const reason = obj.reason;
  if (reason !== undefined && (typeof reason !== "string" || reason.length > MAX_REASON)) {
    fail(type, "reason", `must be a string of at most ${MAX_REASON} characters`, reason);
  }
  return reason as string | undefined;
}

/** A list of at most `max` addresses in `obj[field]`; undefined when absent (unless `required`). */
export function addressList(
  obj: Fields,
  type: string,
  field: string,
  max: number,
  required = false,
): string[] | undefined {
  const value = obj[field];
  if (value === undefined && !required) return undefined;
  if (!Array.isArray(value) || value.length > max) {
    fail(type, field, `must be a list of at most ${max} addresses`, value);
  }
  value.forEach((entry, i) => addressValue(entry, type, `${field}[${i}]`));
  return value as string[];
}

export function idList(obj: Fields, type: string, field: string, max: number): string[] | undefined {
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

function matching(obj: Fields, type: string, field: string, pattern: RegExp, what: string): string {
  const value = obj[field];
  if (typeof value !== "string" || !pattern.test(value)) fail(type, field, `must be ${what}`, value);
  return value;
}

/** A node id field (lib/wire/signatures.ts). */
export function nodeId(obj: Fields, type: string, field: string): string {
  return matching(obj, type, field, NODE_ID, "a node id (43 base64url characters)");
}

/** A signature field. */
export function signature(obj: Fields, type: string, field: string): string {
  return matching(obj, type, field, SIGNATURE, "a signature (86 base64url characters)");
}

/** A nonce field. */
export function nonce(obj: Fields, type: string, field: string): string {
  return matching(obj, type, field, NONCE, "a nonce (22 base64url characters)");
}
