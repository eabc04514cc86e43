/**
 * Catch-up: both ends of a new link tell each other what they store (`get_data`
 * with `have`) and each sends the other the stored messages it lacks, marked as
 * history (`offTree`). The same frame with `ids` asks for named messages.
 */

import type { GetData } from "../wire/messages.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { Neighbour } from "./neighbours.ts";
import type { MessageStore } from "./message_store.ts";
import { forwardedGossip } from "../wire/gossip_frame.ts";

export class CatchUp {
  readonly #node: NodeContext;
  readonly #store: MessageStore;
  /**
   * By neighbour: ids it listed as stored when the link opened and this peer lacked
   * then. History this peer receives from others meanwhile is not passed on to it; kept
   * for one fetchTimeout, the time history is given to arrive.
   */
  readonly #holds = new Map<Neighbour, Set<string>>();

  constructor(node: NodeContext, store: MessageStore) {
    this.#node = node;
    this.#store = store;
  }

  /** A new link: ask the neighbour for what it stores and this peer lacks. */
  linkUp(neighbour: Neighbour): void {
    const have = this.#store.recentIds(this.#node.limits.maxIds);
    this.#node.send(neighbour.conn, { type: "get_data", have });
  }

  linkDown(neighbour: Neighbour): void {
    this.#holds.delete(neighbour);
  }

  /** Whether `neighbour` said it holds `id` (see {@link #holds}). */
  holds(neighbour: Neighbour, id: string): boolean {
    if (this.#holds.size === 0) return false;
    return this.#holds.get(neighbour)?.has(id) ?? false;
  }

  /** Answers a getData: the named messages, or the stored ones the asker lacks (up to catchUpLimit). */
  serve(neighbour: Neighbour, request: GetData): void {
    const node = this.#node;
    const { catchUpLimit, fetchTimeout } = node.settings;
    const messages = request.ids
      ? request.ids.map((id) => this.#store.get(id)).filter((m) => m !== undefined).slice(0, catchUpLimit)
      : this.#store.missingSeqs(request.have ?? []).slice(-catchUpLimit).map((seq) =>
        this.#store.atSeq(seq)!
      );
    // A catch-up (no ids) serves history; asked-for ids are messages under way that the tree did not bring.
    const offTree = request.ids === undefined;
    if (offTree && request.have !== undefined && request.have.length > 0 && !this.#holds.has(neighbour)) {
      const holds = new Set<string>();
      for (const id of request.have) if (!this.#store.has(id)) holds.add(id);
      if (holds.size > 0) {
        this.#holds.set(neighbour, holds);
        node.scheduler.after(fetchTimeout, () => {
          if (this.#holds.get(neighbour) === holds) this.#holds.delete(neighbour);
        });
      }
    }
    for (const m of messages) node.send(neighbour.conn, forwardedGossip(m, offTree));
    node.log.info("served get_data to {peer}: {count} messages", {
      event: "catchup.served",
      peer: neighbour.addr,
      count: messages.length,
    });
  }
}
