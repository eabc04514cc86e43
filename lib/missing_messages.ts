/**
 * Messages a peer has heard of (in `ihave` announcements) but not received: the
 * repair half of tree gossip. Each id waits `timeoutMs` for the message to arrive by
 * the push tree; then the first announcer is asked for it, then, `timeoutMs` later,
 * the next one, until none is left. Bounded: ids beyond `limit` are not tracked.
 */

/** Most announcers remembered per missing id: the ones asked in turn. */
const MAX_ANNOUNCERS = 4;

interface Entry {
  /** Neighbours (listening addresses) that announced the id and were not asked yet. */
  announcers: string[];
  /** Clock time in milliseconds of the first announcement. */
  since: number;
  /** Whether an announcer was asked for it. */
  asked: boolean;
  /** Clock time in milliseconds when the next announcer is asked. */
  due: number;
}

/** What {@link MissingMessages.takeDue} decided. */
export interface DueAsks {
  /** Ids to ask for now, by the neighbour to ask. */
  asks: Map<string, string[]>;
  /** Ids no announcer is left to ask for; they are forgotten. */
  givenUp: number;
}

export class MissingMessages {
  /** In the order of their due times: new ids go last, and so does an id just asked for. */
  readonly #entries = new Map<string, Entry>();

  /**
   * @param limit most ids tracked at once
   * @param timeoutMs milliseconds before each ask (`fetchTimeout`)
   */
  constructor(readonly limit: number, readonly timeoutMs: number) {}

  /** Records that `announcer` has these ids, which this peer lacks. */
  announced(ids: readonly string[], announcer: string, now: number): void {
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry === undefined) {
        if (this.#entries.size < this.limit) {
          this.#entries.set(id, {
            announcers: [announcer],
            since: now,
            asked: false,
            due: now + this.timeoutMs,
          });
        }
      } else if (entry.announcers.length < MAX_ANNOUNCERS && !entry.announcers.includes(announcer)) {
        entry.announcers.push(announcer);
      }
    }
  }

  /**
   * The message arrived: stop waiting for it. When it had been asked for (so the copy
   * most likely answers the ask, not the push tree), returns the clock time of its
   * first announcement; otherwise undefined.
   */
  arrived(id: string): number | undefined {
    if (this.#entries.size === 0) return undefined;
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    return entry.asked ? entry.since : undefined;
  }

  /**
   * Takes the ids whose wait is over and assigns each to its next announcer that is
   * still a neighbour; each asked id waits `timeoutMs` again before the next ask. Only
   * the ids that are due are looked at.
   */
  takeDue(now: number, isNeighbour: (addr: string) => boolean): DueAsks {
    const asks = new Map<string, string[]>();
    let givenUp = 0;
    const asked: [string, Entry][] = [];
    for (const [id, entry] of this.#entries) {
      if (entry.due > now) break;
      this.#entries.delete(id);
      let announcer = entry.announcers.shift();
      while (announcer !== undefined && !isNeighbour(announcer)) announcer = entry.announcers.shift();
      if (announcer === undefined) {
        givenUp++;
        continue;
      }
      entry.asked = true;
      entry.due = now + this.timeoutMs;
      asked.push([id, entry]);
      const ids = asks.get(announcer);
      if (ids) ids.push(id);
      else asks.set(announcer, [id]);
    }
    for (const [id, entry] of asked) this.#entries.set(id, entry);
    return { asks, givenUp };
  }

  /** Clock time of the next ask, or undefined when nothing is missing. */
  nextDue(): number | undefined {
    for (const entry of this.#entries.values()) return entry.due;
    return undefined;
  }
}
