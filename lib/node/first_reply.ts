/**
 * Connections waiting for their first answer: a connection this node opened waits for
 * the other end's challenge, a peer's registration for a Peer List, its dial for a Peer
 * Reply. The answer is handled synchronously in the read loop, so the frames right
 * behind it already find the new state. A challenge may arrive before anyone waits for
 * it (the other end sends it as soon as it accepts): it is kept for the first wait.
 */

import type { Connection } from "../net/connection.ts";
import type { Message } from "../wire/messages.ts";
import type { Clock } from "../util/clock.ts";

type Waiter = (message: Message | undefined) => void;

export class FirstReplies {
  readonly #waiters = new Map<Connection, Waiter>();
  readonly #early = new WeakMap<Connection, Message>();

  constructor(readonly clock: Clock) {}

  /**
   * Waits for the first message on `conn` and hands it to `handle`; `handle` gets
   * undefined if the connection closes first, or `timeoutMs` passes (the connection
   * is then closed as "timed out"). Resolves with what `handle` returns, rejects with what it throws.
   */
  wait<T>(conn: Connection, timeoutMs: number, handle: (message: Message | undefined) => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (message: Message | undefined) => {
        try {
          resolve(handle(message));
        } catch (error) {
          reject(error);
        }
      };
      const early = this.#early.get(conn);
      this.#early.delete(conn);
      // A connection may close, or its first frame arrive, before anyone waits on it.
      if (early !== undefined || conn.isClosed) return settle(early);
      const timer = this.clock.setTimer(() => conn.close("timed out"), timeoutMs);
      this.#waiters.set(conn, (message) => {
        this.clock.clearTimer(timer);
        this.#waiters.delete(conn);
        settle(message);
      });
    });
  }

  /** Hands `message` to the waiter of `conn`, if one waits, or keeps a first challenge; true when it did. */
  offer(conn: Connection, message: Message): boolean {
    const waiter = this.#waiters.get(conn);
    if (waiter === undefined) {
      if (message.type !== "challenge" || this.#early.has(conn) || conn.framesReceived > 1) return false;
      this.#early.set(conn, message);
      return true;
    }
    waiter(message);
    return true;
  }

  /** The connection closed: its waiter, if any, gets undefined. */
  closed(conn: Connection): void {
    this.#waiters.get(conn)?.(undefined);
  }
}
