/**
 * The repair half of tree gossip: messages announced to this peer but not pushed
 * to it in time are asked for (`get_data` with ids) from their announcers, and the
 * peer keeps track of how late the push tree runs, so that it asks for messages the
 * tree lost rather than for messages only queued behind a burst.
 */

import { TUNING } from "../settings/config.ts";
import type { NodeContext } from "../node/node_core.ts";
import { DecayingMax } from "../util/decaying_max.ts";
import { type Arrival, MissingMessages } from "./missing_messages.ts";
import { firstAskAllowance } from "./tree_rules.ts";

/** What the fetcher needs of the links. */
export interface FetchLinks {
  /** Whether any link pushes to this peer. */
  hasPushLink(): boolean;
  isNeighbour(addr: string): boolean;
  /** Sends a getData for `ids` to neighbour `addr`. */
  ask(addr: string, ids: string[]): void;
}

export class Fetcher {
  readonly #node: NodeContext;
  readonly #links: FetchLinks;
  readonly #missing: MissingMessages;
  /**
   * Ids whose first copy was fetched, with the clock time of their first announcement:
   * a pushed repeat of one is the tree lagging, not a loop (oldest first).
   */
  readonly #fetched = new Map<string, number>();
  /** How late the push tree ran behind announcements lately (see {@link firstAskAllowance}). */
  readonly #pushLag: DecayingMax;
  /** Clock time a link that pushed to this peer last stopped (a prune received, or the neighbour lost). */
  #pushLinkLostAt = -Infinity;
  #armed = false;
  /** getData frames sent for announced messages. */
  fetches = 0;

  constructor(node: NodeContext, links: FetchLinks) {
    this.#node = node;
    this.#links = links;
    this.#missing = new MissingMessages(node.settings.storeLimit, node.settings.fetchTimeout);
    this.#pushLag = new DecayingMax(TUNING.pushLagHalfLife * node.settings.fetchTimeout);
  }

  /** Neighbour `addr` announced these ids, which this peer lacks: they wait for the push tree, then are asked for. */
  announced(ids: string[], hops: number[], addr: string): void {
    this.#missing.announced(ids, hops, addr, this.#node.clock.now());
    this.#arm();
  }

  /** A message arrived: stops waiting for it. Undefined when it was not missing. */
  arrived(id: string): Arrival | undefined {
    return this.#missing.arrived(id);
  }

  /** A push arrived after its announcement: the tree runs that late. */
  pushedLate(announcedAt: number): void {
    const now = this.#node.clock.now();
    this.#pushLag.note(now - announcedAt, now);
  }

  /** Remembers (boundedly) that a message's first copy was fetched, not pushed. */
  fetched(id: string, announcedAt: number): void {
    if (this.#fetched.size >= this.#node.limits.maxIds) {
      this.#fetched.delete(this.#fetched.keys().next().value!);
    }
    this.#fetched.set(id, announcedAt);
  }

  wasFetched(id: string): boolean {
    return this.#fetched.has(id);
  }

  /** The push of a fetched message arrived after all: the tree runs that late. */
  pushedAfterFetch(id: string): void {
    const announcedAt = this.#fetched.get(id);
    if (announcedAt === undefined) return;
    this.#fetched.delete(id);
    this.pushedLate(announcedAt);
  }

  /** A link that pushed to this peer stopped: for a while, asks wait no extra time. */
  pushLinkLost(): void {
    this.#pushLinkLostAt = this.#node.clock.now();
  }

  /** Milliseconds the first ask for a missing message waits beyond fetchTimeout (see {@link firstAskAllowance}). */
  #allowance(now: number): number {
    return firstAskAllowance({
      now,
      fetchTimeout: this.#node.settings.fetchTimeout,
      pushLinkLostAt: this.#pushLinkLostAt,
      pushLag: this.#pushLag.valueAt(now),
      pushLinks: this.#links.hasPushLink(),
    });
  }

  #arm(): void {
    if (this.#armed) return;
    const now = this.#node.clock.now();
    const next = this.#missing.nextDue(this.#allowance(now));
    if (next === undefined) return;
    this.#armed = true;
    // Checked again within fetchTimeout at the latest: a push link cut meanwhile ends the extra wait.
    this.#node.scheduler.after(Math.min(Math.max(0, next - now), this.#node.settings.fetchTimeout), () => {
      this.#armed = false;
      this.#fetchDue();
      this.#arm();
    });
  }

  /** Asks announcers for the messages the push tree has not brought in time. */
  #fetchDue(): void {
    const node = this.#node;
    const now = node.clock.now();
    const isNeighbour = (addr: string) => this.#links.isNeighbour(addr);
    const { asks, givenUp } = this.#missing.takeDue(now, isNeighbour, this.#allowance(now));
    for (const [addr, ids] of asks) {
      node.log.info("fetching {count} announced messages from {peer}: the push tree did not bring them", {
        event: "gossip.fetch",
        peer: addr,
        count: ids.length,
      });
      this.fetches++;
      this.#links.ask(addr, ids);
    }
    if (givenUp > 0) {
      node.log.warn("gave up on {count} announced messages: no announcer left to ask", {
        event: "gossip.gave_up",
        count: givenUp,
      });
    }
  }
}
