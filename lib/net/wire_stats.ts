/**
 * What went over a node's connections, by message type: frames and bytes in and out,
 * and connections refused or closed for cause, by reason. One per node (its endpoint),
 * never shared between nodes.
 */

import { HEADER_BYTES } from "../wire/codec.ts";
import { MESSAGE_TYPES } from "../wire/messages.ts";

/** A frame whose type cannot be read from its first bytes (another layout, or garbage). */
export const OTHER_TYPE = "other";

const encoder = new TextEncoder();
const TYPE_PREFIX = encoder.encode('{"type":"');
/** Each type's name followed by its closing quote, in {@link MESSAGE_TYPES} order. */
const TYPE_BYTES = MESSAGE_TYPES.map((type) => encoder.encode(`${type}"`));

/**
 * The index in {@link MESSAGE_TYPES} of the type a JSON frame body names first, read from
 * its raw bytes (every message is encoded with `type` first); `MESSAGE_TYPES.length` when
 * it names none of them.
 */
export function peekTypeIndex(bytes: Uint8Array, offset: number): number {
  const start = offset + TYPE_PREFIX.length;
  if (bytes.length < start) return MESSAGE_TYPES.length;
  for (let i = 0; i < TYPE_PREFIX.length; i++) {
    if (bytes[offset + i] !== TYPE_PREFIX[i]) return MESSAGE_TYPES.length;
  }
  next: for (let t = 0; t < TYPE_BYTES.length; t++) {
    const name = TYPE_BYTES[t]!;
    if (bytes.length < start + name.length) continue;
    for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) continue next;
    return t;
  }
  return MESSAGE_TYPES.length;
}

/** Counts of one direction: frames and bytes (headers included) by type. */
export interface TypeCounts {
  frames: Record<string, number>;
  bytes: Record<string, number>;
}

/** Frames and bytes by type in both directions, and refusals by reason. */
export interface WireStatsSnapshot {
  sent: TypeCounts;
  received: TypeCounts;
  /** Connections refused or closed for cause, by reason (`banned`, `connection_limit`, `bad_frame`, ...). */
  refused: Record<string, number>;
}

const TYPE_NAMES: readonly string[] = [...MESSAGE_TYPES, OTHER_TYPE];

export class WireStats {
  readonly #framesOut = new Float64Array(TYPE_NAMES.length);
  readonly #bytesOut = new Float64Array(TYPE_NAMES.length);
  readonly #framesIn = new Float64Array(TYPE_NAMES.length);
  readonly #bytesIn = new Float64Array(TYPE_NAMES.length);
  readonly #refused = new Map<string, number>();

  /** A frame (header and body) queued to be sent. */
  sent(frame: Uint8Array): void {
    const t = peekTypeIndex(frame, HEADER_BYTES);
    this.#framesOut[t]!++;
    this.#bytesOut[t]! += frame.length;
  }

  /** A frame body received (after opening, on a private network). */
  received(body: Uint8Array): void {
    const t = peekTypeIndex(body, 0);
    this.#framesIn[t]!++;
    this.#bytesIn[t]! += body.length + HEADER_BYTES;
  }

  /** A connection refused or closed for `reason`. */
  refused(reason: string): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
  }

  snapshot(): WireStatsSnapshot {
    return {
      sent: { frames: byType(this.#framesOut), bytes: byType(this.#bytesOut) },
      received: { frames: byType(this.#framesIn), bytes: byType(this.#bytesIn) },
      refused: Object.fromEntries(this.#refused),
    };
  }
}

function byType(counts: Float64Array): Record<string, number> {
  const result: Record<string, number> = {};
  for (let i = 0; i < TYPE_NAMES.length; i++) if (counts[i]! > 0) result[TYPE_NAMES[i]!] = counts[i]!;
  return result;
}
