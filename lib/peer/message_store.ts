/**
 * What a peer has seen and kept: the messages themselves (bounded by count and by bytes,
 * oldest dropped first) and the ids of dropped ones (bounded by count and age). A stored
 * message counts as seen without an entry of its own: one map lookup per check, one
 * insert per new message.
 */

import { SeenSet } from "./seen_set.ts";
import { type Settings, TUNING } from "../settings/config.ts";
import { utf8Length } from "../util/utf8.ts";

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
export type MessageStoreLimits = Pick<Settings, "storeLimit" | "storeBytes" | "seenLimit" | "seenTtl">;

/** Bytes a message counts against storeBytes: its content and origin in UTF-8, and a fixed overhead. */
export function storedBytes({ content, origin }: Pick<StoredMessage, "content" | "origin">): number {
  return utf8Length(content) + origin.length + TUNING.storedMessageBytes;
}

/** Told of every change to a store, to keep a copy of it elsewhere (see persistence.ts). */
export interface StoreJournal {
  /** A message was stored. */
  added(message: StoredMessage): void;
  /** A message was dropped to stay within the bounds; its id stays seen. */
  dropped(message: StoredMessage): void;
}

export class MessageStore {
  readonly #seen: SeenSet;
  #journal: StoreJournal | undefined;
  readonly #byId = new Map<string, StoredMessage>();
  /**
   * Messages in the order first seen, from {@link #head}. Only the oldest is ever
   * evicted, so each one's sequence number is its place: {@link #headSeq} plus its offset.
   */
  #order: StoredMessage[] = [];
  #head = 0;
  /** The sequence number of the oldest stored message. */
  #headSeq = 0;
  #bytes = 0;
  readonly #limit: number;
  readonly #budget: number;

  constructor({ storeLimit, storeBytes, seenLimit, seenTtl }: MessageStoreLimits) {
    this.#seen = new SeenSet(seenLimit, seenTtl);
    this.#limit = storeLimit;
    this.#budget = storeBytes;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Bytes the stored messages count against storeBytes (see {@link storedBytes}). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when the id is stored or was seen recently. */
  has(id: string): boolean {
    return this.#byId.has(id) || (this.#seen.size > 0 && this.#seen.has(id));
  }

  get(id: string): StoredMessage | undefined {
    return this.#byId.get(id);
  }

  /**
   * Records a message seen for the first time. Past either bound (storeLimit messages,
   * storeBytes bytes) the oldest go, their ids kept as seen; the newest always stays.
   */
  add(message: StoredMessage): void {
    this.#put(message);
    this.#journal?.added(message);
    this.#fit();
  }

  /** From now on, tells `journal` of every message stored and dropped. */
  attach(journal: StoreJournal): void {
    this.#journal = journal;
  }

  /**
   * Puts back what an earlier run kept: `messages` oldest first (not told to the journal
   * again), then the ids of dropped ones with when they were first seen (monotonic
   * milliseconds). Past the bounds (lowered since) the oldest are dropped as usual.
   */
  restore(messages: readonly StoredMessage[], seen: readonly { id: string; firstSeen: number }[]): void {
    for (const { id, firstSeen } of seen) this.#seen.add(id, firstSeen);
    for (const message of messages) this.#put(message);
    this.#fit();
  }

  #put(message: StoredMessage): void {
    this.#byId.set(message.id, message);
    this.#order.push(message);
    this.#bytes += storedBytes(message);
  }

  #fit(): void {
    while (this.#byId.size > 1 && (this.#byId.size > this.#limit || this.#bytes > this.#budget)) {
      this.#evictOldest();
    }
  }

  /** Stored messages in the order first seen. */
  values(): StoredMessage[] {
    return this.#order.slice(this.#head);
  }

  /** The ids of the `max` most recent messages. */
  recentIds(max: number): string[] {
    return this.#order.slice(Math.max(this.#head, this.#order.length - max)).map((m) => m.id);
  }

  /**
   * The sequence numbers of the stored messages whose ids are not in `have`, oldest
   * first: a snapshot that {@link atSeq} reads from later, whatever has been evicted meanwhile.
   */
  missingSeqs(have: Iterable<string>): number[] {
    const known = new Set(have);
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#order.length; i++) {
      if (!known.has(this.#order[i]!.id)) seqs.push(this.#headSeq + i - this.#head);
    }
    return seqs;
  }

  /** The message stored under sequence number `seq`; undefined once it is evicted. */
  atSeq(seq: number): StoredMessage | undefined {
    return seq < this.#headSeq ? undefined : this.#order[this.#head + seq - this.#headSeq];
  }

  /** Forgets the ids of dropped messages past their age. */
  prune(now: number): void {
    this.#seen.prune(now);
  }

  #evictOldest(): void {
    const oldest = this.#order[this.#head]!;
    this.#order[this.#head++] = undefined!;
    this.#headSeq++;
    this.#byId.delete(oldest.id);
    this.#bytes -= storedBytes(oldest);
    this.#seen.add(oldest.id, oldest.firstSeen);
    this.#journal?.dropped(oldest);
    // Drop the evicted front now and then, so the array does not grow for ever.
    if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
