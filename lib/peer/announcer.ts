/**
 * The lazy half of tree gossip: the ids of new messages go, batched, to every
 * neighbour the peer does not push to (`ihave`), so each still learns of every
 * message for a fraction of the frames of pushing it.
 */

import { TUNING } from "../settings/config.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { StoredMessage } from "./message_store.ts";
import type { TreeLink } from "./broadcast_tree.ts";

export class Announcer {
  readonly #node: NodeContext;
  readonly #links: () => readonly TreeLink[];
  /** Messages first seen since the last announcement round, for the neighbours not pushed to. */
  #batch: StoredMessage[] = [];
  #armed = false;
  /** ihave frames sent (each carries every id gathered for one neighbour). */
  announcements = 0;

  constructor(node: NodeContext, links: () => readonly TreeLink[]) {
    this.#node = node;
    this.#links = links;
  }

  /** Whether ids are being gathered for the next round. */
  get gathering(): boolean {
    return this.#batch.length > 0;
  }

  /** Gathers a new message for the next round; a full batch goes out at once. */
  add(message: StoredMessage): void {
    this.#batch.push(message);
    if (this.#batch.length >= this.#node.limits.maxIds) this.flush();
    else this.#arm();
  }

  /** Notes that `link`'s neighbour has `id` (it announced or sent it): it is not announced back to it this round. */
  knows(link: TreeLink, id: string): void {
    if (this.#batch.length > 0) link.knows.add(id);
  }

  /** One announcement round: the messages gathered since the last one go to every neighbour not pushed to. */
  flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    for (const link of this.#links()) {
      if (link.mode === "announce") this.#announceTo(link, batch);
      if (link.knows.size > 0) link.knows.clear();
    }
  }

  /** Announces what is gathered to a link about to turn to pushing, so that it misses none of it. */
  catchUpLink(link: TreeLink): void {
    this.#announceTo(link, this.#batch);
  }

  /** Schedules the next round, announceInterval × (1 ± TUNING.announceJitter) away, so peers do not announce in step. */
  #arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    const jitter = TUNING.announceJitter;
    const delay = this.#node.settings.announceInterval * (1 - jitter + 2 * jitter * this.#node.random());
    this.#node.scheduler.after(delay, () => {
      this.#armed = false;
      this.flush();
    });
  }

  /** Announces to `link` the messages of `batch` that its neighbour did not bring or announce itself. */
  #announceTo(link: TreeLink, batch: readonly StoredMessage[]): void {
    const addr = link.neighbour.addr;
    const ids: string[] = [];
    const hops: number[] = [];
    for (const m of batch) {
      if (m.from === addr || link.knows.has(m.id)) continue;
      ids.push(m.id);
      hops.push(m.hops);
    }
    if (ids.length === 0) return;
    this.announcements++;
    this.#node.send(link.neighbour.conn, { type: "ihave", ids, hops });
  }
}
