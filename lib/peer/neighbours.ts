/**
 * A peer's neighbour table: who it is linked to, over which connection, since when.
 * Only the link itself lives here; what the overlay, the failure detector and the
 * broadcast tree know of a neighbour, each keeps on its own.
 */

import type { Connection } from "../net/connection.ts";

export type Direction = "outbound" | "inbound";

/** A neighbour link. */
export interface Neighbour {
  /** The neighbour's listening address, `host:port`. */
  readonly addr: string;
  readonly direction: Direction;
  /** When the link opened, in monotonic clock milliseconds. */
  readonly since: number;
  readonly conn: Connection;
  /** Set when this peer closed the link on purpose, so the close is not a loss. */
  removedFor: string | undefined;
}

export class NeighbourTable {
  readonly #byAddr = new Map<string, Neighbour>();
  readonly #byConn = new Map<Connection, Neighbour>();
  /** The values of {@link #byAddr}, renewed on every change: loops run per message allocate no iterator. */
  #list: Neighbour[] = [];

  get size(): number {
    return this.#byAddr.size;
  }

  /** Current neighbours, oldest first. */
  get list(): readonly Neighbour[] {
    return this.#list;
  }

  get(addr: string): Neighbour | undefined {
    return this.#byAddr.get(addr);
  }

  has(addr: string): boolean {
    return this.#byAddr.has(addr);
  }

  byConn(conn: Connection): Neighbour | undefined {
    return this.#byConn.get(conn);
  }

  /** Neighbours linked in `direction`. */
  count(direction: Direction): number {
    let count = 0;
    for (const n of this.#list) if (n.direction === direction) count++;
    return count;
  }

  add(addr: string, conn: Connection, direction: Direction, since: number): Neighbour {
    const neighbour: Neighbour = { addr, direction, since, conn, removedFor: undefined };
    // Watched by probes from now on, not by the idle timeout.
    conn.kept = true;
    this.#byAddr.set(addr, neighbour);
    this.#byConn.set(conn, neighbour);
    this.#list = [...this.#byAddr.values()];
    return neighbour;
  }

  /** Closes a neighbour's link on purpose; the close is then not treated as a loss. */
  drop(neighbour: Neighbour, reason: string): void {
    neighbour.removedFor = reason;
    neighbour.conn.close(reason);
  }

  /** Forgets the neighbour whose connection closed; returns it, or undefined if `conn` was no link. */
  closed(conn: Connection): Neighbour | undefined {
    const neighbour = this.#byConn.get(conn);
    if (neighbour === undefined) return undefined;
    this.#byConn.delete(conn);
    if (this.#byAddr.get(neighbour.addr) === neighbour) {
      this.#byAddr.delete(neighbour.addr);
      this.#list = [...this.#byAddr.values()];
    }
    return neighbour;
  }
}
