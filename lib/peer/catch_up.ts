/**
 * Catch-up: both ends of a new link tell each other what they store (`get_data` with
 * `have`) and each sends the other the stored messages it lacks, marked as history
 * (`offTree`), a page at a time: the asker asks for the next page (`from`) when the
 * last one has arrived and its own queues have room, and the server sends a stored
 * message only while its write queue stays within TUNING.catchUpQueueShare. The same
 * frame with `ids` asks for named messages.
 */

import type { GetData } from "../wire/messages.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { Neighbour } from "./neighbours.ts";
import type { MessageStore, StoredMessage } from "./message_store.ts";
import { encodeGossip } from "../wire/gossip_frame.ts";
import { TUNING } from "../settings/config.ts";
import { joinsPage, type PageLimits, recentPageStart } from "./catch_up_rules.ts";

export class CatchUp {
  readonly #node: NodeContext;
  readonly #store: MessageStore;
  readonly #links: () => readonly Neighbour[];
  /**
   * By neighbour: ids it listed as stored when the link opened and this peer lacked
   * then. History this peer receives from others meanwhile is not passed on to it; kept
   * for one fetchTimeout, the time history is given to arrive.
   */
  readonly #holds = new Map<Neighbour, Set<string>>();
  /** By neighbour: the catch-up this peer serves it, as the sequence numbers of what it lacked when it asked. */
  readonly #serving = new Map<Neighbour, number[]>();
  /** Neighbours this peer is catching up from, page by page. */
  readonly #catchingUp = new Set<Neighbour>();

  /** @param links every neighbour: the next page is asked for when all their queues have room */
  constructor(node: NodeContext, store: MessageStore, links: () => readonly Neighbour[]) {
    this.#node = node;
    this.#store = store;
    this.#links = links;
  }

  /** A new link: ask the neighbour for the first page of what it stores and this peer lacks. */
  linkUp(neighbour: Neighbour): void {
    const have = this.#store.recentIds(this.#node.limits.maxIds);
    this.#catchingUp.add(neighbour);
    this.#node.send(neighbour.conn, { type: "get_data", have, from: 0 });
  }

  linkDown(neighbour: Neighbour): void {
    this.#holds.delete(neighbour);
    this.#serving.delete(neighbour);
    this.#catchingUp.delete(neighbour);
  }

  /** Whether `neighbour` said it holds `id` (see {@link #holds}). */
  holds(neighbour: Neighbour, id: string): boolean {
    if (this.#holds.size === 0) return false;
    return this.#holds.get(neighbour)?.has(id) ?? false;
  }

  /** Answers a getData: the named messages, or a page of the stored ones the asker lacks. */
  serve(neighbour: Neighbour, request: GetData): void {
    if (request.ids !== undefined) {
      // Messages under way that the tree did not bring: not history.
      const messages = request.ids.map((id) => this.#store.get(id)).filter((m) => m !== undefined);
      void this.#send(neighbour, messages.slice(0, this.#node.settings.catchUpLimit), false);
      return;
    }
    let seqs = this.#serving.get(neighbour);
    if (request.have !== undefined || request.from === undefined) {
      seqs = this.#store.missingSeqs(request.have ?? []);
      this.#hold(neighbour, request.have ?? []);
    }
    if (request.from === undefined) {
      // An asker that does not page gets one page, of the most recent.
      const all = seqs!.map((seq) => this.#store.atSeq(seq));
      const size = (i: number) => all[i] === undefined ? 0 : this.#frame(all[i]!, true).length;
      const start = recentPageStart(all.length, size, this.#pageLimits());
      void this.#send(neighbour, all.slice(start).filter((m) => m !== undefined), true);
      return;
    }
    if (request.have !== undefined) this.#serving.set(neighbour, seqs!);
    void this.#servePage(neighbour, seqs ?? [], request.from);
  }

  /** The page asked for from `neighbour` is complete: ask for the next, or the catch-up is over. */
  onPageEnd(neighbour: Neighbour, next: number | undefined): void {
    if (!this.#catchingUp.has(neighbour)) return;
    if (next === undefined) this.#catchingUp.delete(neighbour);
    else void this.#askNext(neighbour, next);
  }

  /**
   * Sends the page of `seqs` that starts at `from`, then a page_end. A page holds at
   * most catchUpLimit messages and (past its first) maxQueuedBytes ×
   * TUNING.catchUpPageShare bytes.
   */
  async #servePage(neighbour: Neighbour, seqs: number[], from: number): Promise<void> {
    const limits = this.#pageLimits();
    let at = from;
    let count = 0;
    let bytes = 0;
    for (; at < seqs.length; at++) {
      const message = this.#store.atSeq(seqs[at]!);
      if (message === undefined) continue;
      const frame = this.#frame(message, true);
      if (!joinsPage(count, bytes, frame.length, limits)) break;
      if (!await this.#sendFrame(neighbour, frame)) return;
      count++;
      bytes += frame.length;
    }
    const done = at >= seqs.length;
    if (done && this.#serving.get(neighbour) === seqs) this.#serving.delete(neighbour);
    this.#served(neighbour, count, done ? undefined : at);
    this.#node.send(neighbour.conn, done ? { type: "page_end" } : { type: "page_end", next: at });
  }

  /** Sends `messages` in order, each as soon as the write queue has room for it. */
  async #send(neighbour: Neighbour, messages: StoredMessage[], offTree: boolean): Promise<void> {
    let count = 0;
    for (const message of messages) {
      if (!await this.#sendFrame(neighbour, this.#frame(message, offTree))) return;
      count++;
    }
    this.#served(neighbour, count, undefined);
  }

  /**
   * Queues `frame` once the write queue, with it, stays within TUNING.catchUpQueueShare
   * of maxQueuedBytes: catch-up never fills the queue past its limit, whatever gossip
   * queues meanwhile. False when the link closed first.
   */
  async #sendFrame(neighbour: Neighbour, frame: Uint8Array): Promise<boolean> {
    const conn = neighbour.conn;
    const room = this.#room() - frame.length;
    if (conn.queuedBytes > room && !await conn.whenQueuedAtMost(room)) return false;
    return conn.sendFrame(frame);
  }

  /** Asks `neighbour` for the next page once this peer's queues have room for what that page brings. */
  async #askNext(neighbour: Neighbour, next: number): Promise<void> {
    const room = this.#room();
    for (;;) {
      const busy = this.#links().find((n) => n.conn.queuedBytes > room);
      if (busy === undefined) break;
      await busy.conn.whenQueuedAtMost(room);
    }
    if (!this.#catchingUp.has(neighbour)) return;
    this.#node.send(neighbour.conn, { type: "get_data", from: next });
  }

  /** Remembers the ids a neighbour listed and this peer lacks (see {@link #holds}). */
  #hold(neighbour: Neighbour, have: string[]): void {
    if (have.length === 0 || this.#holds.has(neighbour)) return;
    const holds = new Set<string>();
    for (const id of have) if (!this.#store.has(id)) holds.add(id);
    if (holds.size === 0) return;
    this.#holds.set(neighbour, holds);
    this.#node.scheduler.after(this.#node.settings.fetchTimeout, () => {
      if (this.#holds.get(neighbour) === holds) this.#holds.delete(neighbour);
    });
  }

  #frame(message: StoredMessage, offTree: boolean): Uint8Array {
    const node = this.#node;
    return encodeGossip(message, offTree, node.settings.maxFrameBytes, node.endpoint.pool);
  }

  #pageLimits(): PageLimits {
    const { catchUpLimit, maxQueuedBytes } = this.#node.settings;
    return { count: catchUpLimit, bytes: maxQueuedBytes * TUNING.catchUpPageShare };
  }

  #room(): number {
    return this.#node.settings.maxQueuedBytes * TUNING.catchUpQueueShare;
  }

  #served(neighbour: Neighbour, count: number, next: number | undefined): void {
    this.#node.log.info("served get_data to {peer}: {count} messages", {
      event: "catchup.served",
      peer: neighbour.addr,
      count,
      ...(next === undefined ? {} : { next }),
    });
  }
}
