/**
 * What a peer has seen and kept: the messages themselves (bounded by count, oldest
 * dropped first) and the ids of dropped ones (bounded by count and age). A stored
 * message counts as seen without an entry of its own: one map lookup per check, one
 * insert per new message.
 */

import { SeenSet } from "./seen_set.ts";
import type { Settings } from "../settings/config.ts";

/** How a peer got the first copy of a message. */
export type Via = "self" | "push" | "fetch" | "catch_up";

/** A message as a peer stored it. */
export interface StoredMessage {
  id: string;
  origin: string;
  /** The origin's node id. */
  originId: string;
  content: string;
  /** Origin's clock when created, in milliseconds since the epoch. */
  created: number;
  /** The origin's signature, passed on with the message; undefined where signing is off. */
  sig: string | undefined;
  /** This peer's monotonic clock when it first saw the message, in milliseconds. */
  firstSeen: number;
  /** Wall-clock time when this peer first saw the message, in milliseconds since the epoch. */
  seenAt: number;
  /** The neighbour it came from; undefined for a message this peer published. */
  from: string | undefined;
  /** Links between the origin and this peer along the path of the first copy; 0 at the origin. */
  hops: number;
  /** Whether the first copy came by no path of the push tree (see GossipMessage.offTree in messages.ts). */
  offTree: boolean;
  /** How the first copy came: published here, pushed, fetched after an announcement, or in a catch-up. */
  via: Via;
}

/** The settings that bound a store; see their rows in lib/settings/table.ts. */
export type MessageStoreLimits = Pick<Settings, "storeLimit" | "seenLimit" | "seenTtl">;

export class MessageStore {
  readonly #seen: SeenSet;
  readonly #messages = new Map<string, StoredMessage>();
  readonly #limit: number;

  constructor({ storeLimit, seenLimit, seenTtl }: MessageStoreLimits) {
    this.#seen = new SeenSet(seenLimit, seenTtl);
    this.#limit = storeLimit;
  }

  get size(): number {
    return this.#messages.size;
  }

  /** True when the id is stored or was seen recently. */
  has(id: string): boolean {
    return this.#messages.has(id) || (this.#seen.size > 0 && this.#seen.has(id));
  }

  get(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** Records a message seen for the first time; past the limit the oldest goes, its id kept as seen. */
  add(message: StoredMessage): void {
    this.#messages.set(message.id, message);
    if (this.#messages.size > this.#limit) {
      const oldest = this.#messages.values().next().value!;
      this.#messages.delete(oldest.id);
      this.#seen.add(oldest.id, oldest.firstSeen);
    }
  }

  /** Stored messages in the order first seen. */
  values(): StoredMessage[] {
    return [...this.#messages.values()];
  }

  /** The ids of the `max` most recent messages. */
  recentIds(max: number): string[] {
    return [...this.#messages.keys()].slice(-max);
  }

  /** The most recent `max` stored messages whose ids are not in `have`, oldest first. */
  missingFrom(have: Iterable<string>, max: number): StoredMessage[] {
    const known = new Set(have);
    return this.values().filter((m) => !known.has(m.id)).slice(-max);
  }

  /** Forgets the ids of dropped messages past their age. */
  prune(now: number): void {
    this.#seen.prune(now);
  }
}
