/**
 * Messages a peer has heard of (in `ihave` announcements) but not received: the
 * repair half of tree gossip. Each id waits `timeoutMs` (plus the caller's allowance
 * for pushes running late) for the message to arrive by the push tree; then the first
 * announcer is asked for it, then, `timeoutMs` later, the next one, until none is
 * left. Bounded: ids beyond `limit` are not tracked.
 */

/** Most announcers remembered per missing id: the ones asked in turn, closest to the origin first. */
const MAX_ANNOUNCERS = 4;

interface Entry {
  /** Neighbours that announced the id and were not asked yet, fewest hops from its origin first. */
  announcers: Announcer[];
  /** Clock time in milliseconds of the first announcement. */
  since: number;
  /** Whether an announcer was asked for it. */
  asked: boolean;
  /** Once asked: clock time in milliseconds when the next announcer is asked. */
  due: number;
}

interface Announcer {
  /** Listening address. */
  addr: string;
  /** Links between the message's origin and the announcer. */
  hops: number;
}

/** What became of a missing message that arrived. */
export interface Arrival {
  /** Clock time in milliseconds of its first announcement. */
  announcedAt: number;
  /** Whether an announcer had been asked for it (so the copy most likely answers the ask). */
  asked: boolean;
}

/** What {@link MissingMessages.takeDue} decided. */
export interface DueAsks {
  /** Ids to ask for now, by the neighbour to ask. */
  asks: Map<string, string[]>;
  /** Ids no announcer is left to ask for; they are forgotten. */
  givenUp: number;
}

export class MissingMessages {
  /** In the order of their due times (for a given allowance): new ids go last, and so does an id just asked for. */
  readonly #entries = new Map<string, Entry>();

  /**
   * @param limit most ids tracked at once
   * @param timeoutMs milliseconds before each ask (`fetchTimeout`)
   */
  constructor(readonly limit: number, readonly timeoutMs: number) {}

  /** Records that `announcer` has these ids (`hops[i]` links from the origin of `ids[i]`), which this peer lacks. */
  announced(ids: readonly string[], hops: readonly number[], announcer: string, now: number): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const candidate = { addr: announcer, hops: hops[i] ?? Infinity };
      const entry = this.#entries.get(id);
      if (entry === undefined) {
        if (this.#entries.size < this.limit) {
          this.#entries.set(id, { announcers: [candidate], since: now, asked: false, due: Infinity });
        }
        continue;
      }
      const announcers = entry.announcers;
      if (announcers.some((a) => a.addr === announcer)) continue;
      const at = announcers.findIndex((a) => a.hops > candidate.hops);
      if (at >= 0) announcers.splice(at, 0, candidate);
      else announcers.push(candidate);
      if (announcers.length > MAX_ANNOUNCERS) announcers.pop();
    }
  }

  /** The message arrived: stop waiting for it. Undefined when it was not missing. */
  arrived(id: string): Arrival | undefined {
    if (this.#entries.size === 0) return undefined;
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    return { announcedAt: entry.since, asked: entry.asked };
  }

  /** When `entry` is next due, waiting `allowanceMs` more than `timeoutMs` before the first ask. */
  #due(entry: Entry, allowanceMs: number): number {
    return entry.asked ? entry.due : entry.since + this.timeoutMs + allowanceMs;
  }

  /**
   * Takes the ids whose wait is over and assigns each to its next announcer that is
   * still a neighbour; each asked id waits `timeoutMs` again before the next ask. The
   * first ask waits `allowanceMs` longer (pushes running late). Only the ids that are
   * due are looked at.
   */
  takeDue(now: number, isNeighbour: (addr: string) => boolean, allowanceMs = 0): DueAsks {
    const asks = new Map<string, string[]>();
    let givenUp = 0;
    const asked: [string, Entry][] = [];
    for (const [id, entry] of this.#entries) {
      if (this.#due(entry, allowanceMs) > now) break;
      this.#entries.delete(id);
      let announcer = entry.announcers.shift()?.addr;
      while (announcer !== undefined && !isNeighbour(announcer)) announcer = entry.announcers.shift()?.addr;
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

  /** Clock time of the next ask (for the same allowance), or undefined when nothing is missing. */
  nextDue(allowanceMs = 0): number | undefined {
    for (const entry of this.#entries.values()) return this.#due(entry, allowanceMs);
    return undefined;
  }
}
