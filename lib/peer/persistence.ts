/**
 * A peer's durable state, with a data directory: its messages (and the ids of those it
 * dropped) and its known peers, in its database. The store's changes are queued as they
 * happen and committed in one transaction per batch: at the end of the turn, or at once
 * when a batch reaches TUNING.storeBatchMessages. A message is delivered to the user
 * (event, console, `message.delivered`) only once its batch is committed, so whatever a
 * peer said it delivered survives a crash. Gossip does not wait: forwarding and catch-up
 * work on the store in memory.
 */

import type { NodeContext } from "../node/node_core.ts";
import type { NodeDatabase } from "../store/node_database.ts";
import { DataDirError } from "../store/database.ts";
import { TUNING } from "../settings/config.ts";
import type { MessageStore, StoredMessage, StoreJournal } from "./message_store.ts";

/** What a peer knows of its own past: messages and dropped ids restored, peers known. */
export interface Restored {
  messages: number;
  seen: number;
  peers: number;
}

/** What the persistence needs of the peer. */
export interface PersistenceHooks {
  /** Delivers a message to the user (event, console, log): called once it is committed. */
  deliver(message: StoredMessage): void;
  /** The peers known now, in the order learnt. */
  candidates(): readonly string[];
}

export class PeerPersistence implements StoreJournal {
  readonly #node: NodeContext;
  readonly #db: NodeDatabase;
  readonly #store: MessageStore;
  readonly #hooks: PersistenceHooks;
  /** Messages stored in the batch being gathered, delivered once it is committed. */
  #waiting: StoredMessage[] = [];
  #armed = false;
  #failures = 0;
  /** Whether {@link restore} ran: only then is there anything to write. */
  #restored = false;
  /** The known peers as last saved, to write only a change. */
  #savedPeers = "";

  constructor(node: NodeContext, db: NodeDatabase, store: MessageStore, hooks: PersistenceHooks) {
    this.#node = node;
    this.#db = db;
    this.#store = store;
    this.#hooks = hooks;
  }

  /**
   * Puts the messages and dropped ids of earlier runs back in the store (nothing there is
   * delivered again), logs what was restored, and from then on keeps the store's changes.
   * Throws {@link DataDirError} for a damaged row.
   */
  restore(): Restored {
    const { clock, settings } = this.#node;
    const wall = clock.wallNow();
    const now = clock.now();
    const saved = this.#db.guard(() => this.#db.messages.load(wall - settings.seenTtl, settings.seenLimit));
    const messages = saved.bodies.map((body, i) => this.#parse(body, i, now - wall));
    const seen = saved.seen.map(({ id, seenAt }) => ({ id, firstSeen: now - (wall - seenAt) }));
    // Attached first: messages past bounds lowered since the last run are dropped from the database too.
    this.#store.attach(this);
    this.#store.restore(messages, seen);
    this.#restored = true;
    const peers = this.knownPeers();
    this.#savedPeers = peers.join(",");
    const restored = { messages: this.#store.size, seen: seen.length, peers: peers.length };
    this.#node.scheduler.every(settings.overlayInterval, () => this.#sweep());
    this.#node.log.info("restored {messages} messages from {dir}", {
      event: "store.restored",
      dir: this.#db.dataDir,
      ...restored,
    });
    return restored;
  }

  /** The peers known at the end of the last run, candidates for neighbours. */
  knownPeers(): string[] {
    return this.#db.peers.load();
  }

  added(message: StoredMessage): void {
    // firstSeen goes along, read back as nothing: it is this run's monotonic time.
    this.#db.messages.add(message.id, JSON.stringify(message));
    this.#arm();
  }

  dropped(message: StoredMessage): void {
    this.#db.messages.drop(message.id, message.seenAt);
    this.#arm();
  }

  /** Delivers `message` once the batch that stores it is committed. */
  deliver(message: StoredMessage): void {
    this.#waiting.push(message);
    if (this.#waiting.length >= TUNING.storeBatchMessages && this.#failures === 0) this.flush();
  }

  /** Commits the batch and delivers its messages; a failed commit is logged and tried again later. */
  flush(): void {
    this.#armed = false;
    try {
      this.#db.messages.commit();
    } catch (error) {
      this.#failures++;
      this.#node.log.error("cannot write messages to {dir}: {error}; delivering them once it works", {
        event: "store.write_failed",
        dir: this.#db.dataDir,
        error: (error as Error).message,
        waiting: this.#waiting.length,
        attempt: this.#failures,
      });
      if (!this.#node.stopping) this.#arm(TUNING.storeRetryMs);
      return;
    }
    this.#failures = 0;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const message of waiting) this.#hooks.deliver(message);
  }

  /** Housekeeping, every overlayInterval: saves the known peers if they changed, forgets old dropped ids. */
  #sweep(): void {
    const { clock, settings } = this.#node;
    const peers = this.#hooks.candidates().slice(-TUNING.savedPeers);
    const key = peers.join(",");
    try {
      // None known (yet, or for now): the saved ones stay, for the next run to try.
      if (key !== this.#savedPeers && peers.length > 0) this.#db.peers.save(peers);
      this.#savedPeers = key;
      this.#db.messages.pruneSeen(clock.wallNow() - settings.seenTtl, settings.seenLimit);
    } catch (error) {
      this.#node.log.error("cannot write known peers to {dir}: {error}", {
        event: "store.write_failed",
        dir: this.#db.dataDir,
        error: (error as Error).message,
      });
    }
  }

  /** Commits and delivers what is waiting, saves the known peers, and closes the database. */
  close(): void {
    if (!this.#db.isOpen) return;
    if (this.#restored) {
      this.flush();
      this.#sweep();
    }
    this.#db.close();
  }

  /** Commits at the end of this turn (or after `delayMs`), unless a commit is due already. */
  #arm(delayMs = 0): void {
    if (this.#armed) return;
    this.#armed = true;
    this.#node.scheduler.after(delayMs, () => this.flush());
  }

  /** A message row as the store holds it; `offset` turns wall-clock times into this run's monotonic ones. */
  #parse(body: string, row: number, offset: number): StoredMessage {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body);
    } catch {
      m = {};
    }
    const ok = typeof m.id === "string" && typeof m.origin === "string" && typeof m.originId === "string" &&
      typeof m.content === "string" && typeof m.created === "number" && typeof m.seenAt === "number" &&
      typeof m.hops === "number" && typeof m.offTree === "boolean" && typeof m.via === "string" &&
      (m.from === undefined || typeof m.from === "string") &&
      (m.sig === undefined || typeof m.sig === "string");
    if (!ok) {
      throw new DataDirError(
        this.#db.dataDir,
        `p2pnet.db: stored message ${row + 1} is not one p2pnet wrote; move the file away to start afresh`,
      );
    }
    const message = m as unknown as StoredMessage;
    return { ...message, from: message.from, sig: message.sig, firstSeen: message.seenAt + offset };
  }
}
