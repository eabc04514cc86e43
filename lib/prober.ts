/**
 * One-shot liveliness probes over fresh connections: a seed checks an accused peer
 * before removing it, a peer checks a neighbour whose connection dropped.
 */

import { type Address, parseAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Message } from "./protocol.ts";

export type ProbeResult =
  | { alive: true; rttMs: number }
  | { alive: false; reason: string };

export class Prober {
  readonly #waiting = new Map<Connection, (message: Message) => void>();

  constructor(readonly endpoint: Endpoint, readonly now: () => number = Date.now) {}

  /**
   * Offers a message to a waiting probe. Returns true when it was a probe's answer
   * (the caller then ignores it).
   */
  accept(conn: Connection, message: Message): boolean {
    const waiter = this.#waiting.get(conn);
    if (waiter === undefined) return false;
    waiter(message);
    return true;
  }

  /** Probes `addr`: connect, send Liveliness, wait for its reply; all within `timeoutMs`. */
  probe(addr: string | Address, timeoutMs: number): Promise<ProbeResult> {
    const address = typeof addr === "string" ? parseAddress(addr) : addr;
    return this.endpoint.track(this.#probe(address, timeoutMs));
  }

  async #probe(address: Address, timeoutMs: number): Promise<ProbeResult> {
    const started = this.now();
    let conn: Connection;
    try {
      conn = await this.endpoint.connect(address, timeoutMs);
    } catch (error) {
      return { alive: false, reason: `connect ${(error as Error).message}` };
    }
    const ts = this.now();
    const answered = new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(
        () => resolve({ alive: false, reason: "no reply" }),
        Math.max(1, timeoutMs - (ts - started)),
      );
      const settle = (result: ProbeResult) => {
        clearTimeout(timer);
        resolve(result);
      };
      this.#waiting.set(conn, (message) => {
        if (message.type === "liveliness_reply" && message.ts === ts) {
          settle({ alive: true, rttMs: this.now() - ts });
        }
      });
      conn.closed.then(() => settle({ alive: false, reason: conn.closeReason ?? "closed" }));
    });
    conn.send({ type: "liveliness", ts });
    const result = await answered;
    this.#waiting.delete(conn);
    conn.close("probe done");
    return result;
  }
}
