/**
 * What a peer has seen and kept: the ids of messages seen (bounded by count and
 * age) and the messages themselves (bounded by count, oldest dropped first).
 */

import { SeenSet } from "./seen_set.ts";

/** A message as a peer stored it. */
export interface StoredMessage {
  id: string;
  origin: string;
  content: string;
  /** Origin's clock when created, in milliseconds since the epoch. */
  created: number;
  /** This peer's clock when it first saw the message. */
  firstSeen: number;
  /** The neighbour it came from; undefined for a message this peer published. */
  from: string | undefined;
  /** Links between the origin and this peer along the path of the first copy; 0 at the origin. */
  hops: number;
}

export interface MessageStoreLimits {
  /** Most messages kept. @default 10000 */
  storeLimit: number;
  /** Most ids remembered as seen. @default 100000 */
  seenLimit: number;
  /** Milliseconds an id is remembered as seen. @default 600000 */
  seenTtl: number;
}

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

  /** True when the id was seen (recently) or is still stored. */
  has(id: string): boolean {
    return this.#seen.has(id) || this.#messages.has(id);
  }

  get(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** Records a message seen for the first time; the oldest goes past the limit. */
  add(message: StoredMessage): void {
    this.#seen.add(message.id, message.firstSeen);
    this.#messages.set(message.id, message);
    if (this.#messages.size > this.#limit) this.#messages.delete(this.#messages.keys().next().value!);
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

  /** Forgets seen ids past their age. */
  prune(now: number): void {
    this.#seen.prune(now);
  }
}
