/**
 * One-shot liveliness probes over fresh connections: a seed checks an accused peer
 * before removing it, a peer checks a neighbour whose connection dropped.
 */

import { type Address, formatAddress, parseAddress } from "../wire/address.ts";
import type { Connection } from "./connection.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Message } from "../wire/messages.ts";
import { TUNING } from "../settings/config.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { newNonce, proofBytes, type PublicKeys } from "../wire/signatures.ts";

export type ProbeResult =
  /** `id`: the node id the target proved, when the probe asked it to. */
  | { alive: true; rttMs: number; id?: string }
  /** `inconclusive`: the target was silent, but so was this node when it probed itself. */
  | { alive: false; reason: string; inconclusive?: boolean };

export class Prober {
  readonly #waiting = new Map<Connection, (message: Message) => void>();

  /**
   * @param clock where probes read the time and arm their timeouts. @default systemClock
   * @param keys checks the node ids that targets prove. @default none: probes cannot ask for proof
   */
  constructor(readonly endpoint: Endpoint, readonly clock: Clock = systemClock, readonly keys?: PublicKeys) {}

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

  /**
   * Probes `addr`: connect, send Liveliness, wait for its reply; each attempt within
   * `timeoutMs`. An attempt that times out (a busy node answers late) is retried up to
   * `attempts` in all; a refused connection is final: nothing listens there. With
   * `identify`, the target must also prove its node id (the result's `id`, if it did).
   */
  probe(
    addr: string | Address,
    timeoutMs: number,
    attempts = 1,
    { identify = false } = {},
  ): Promise<ProbeResult> {
    const address = typeof addr === "string" ? parseAddress(addr) : addr;
    return this.endpoint.track((async () => {
      let result: ProbeResult = { alive: false, reason: "not probed" };
      for (let i = 0; i < attempts && !this.endpoint.isClosed; i++) {
        result = await this.#probe(address, timeoutMs, identify);
        if (result.alive || result.reason === "connect refused") break;
      }
      return result;
    })());
  }

  /**
   * Probes `target` once and, at the same time, `self` as a control. A node that cannot
   * answer its own probe within `TUNING.controlProbeFraction` of the timeout is overloaded or cut off: it
   * may be the one too slow to hear the target, whose silence then proves nothing,
   * and the result is `inconclusive`. A refusal (nothing listens at the target) is
   * conclusive either way.
   */
  probeWithControl(target: string | Address, self: Address, timeoutMs: number): Promise<ProbeResult> {
    return this.endpoint.track((async () => {
      // Both probes run in the same window, so a spell of local overload hits both.
      const started = this.clock.now();
      const [result, control] = await Promise.all([
        this.probe(target, timeoutMs),
        this.probe(self, timeoutMs).then((control) => ({ ...control, tookMs: this.clock.now() - started })),
      ]);
      if (result.alive || result.reason === "connect refused") return result;
      if (control.alive && control.tookMs <= timeoutMs * TUNING.controlProbeFraction) return result;
      return {
        alive: false,
        reason: control.alive
          ? `${result.reason}; this node took ${Math.round(control.tookMs)} ms to answer itself`
          : `${result.reason}; this node did not answer itself either`,
        inconclusive: true,
      };
    })());
  }

  async #probe(address: Address, timeoutMs: number, identify: boolean): Promise<ProbeResult> {
    const started = this.clock.now();
    let conn: Connection;
    try {
      conn = await this.endpoint.connect(address, timeoutMs, { probe: true });
    } catch (error) {
      return { alive: false, reason: `connect ${(error as Error).message}` };
    }
    const ts = this.clock.now();
    const nonce = identify && this.keys ? newNonce() : undefined;
    const answered = new Promise<ProbeResult>((resolve) => {
      const timer = this.clock.setTimer(
        () => resolve({ alive: false, reason: "no reply" }),
        Math.max(1, timeoutMs - (ts - started)),
      );
      const settle = (result: ProbeResult) => {
        this.clock.clearTimer(timer);
        resolve(result);
      };
      // Anything else is ignored: the target's challenge comes first.
      this.#waiting.set(conn, (message) => {
        if (message.type !== "liveliness_reply" || message.ts !== ts) return;
        const rttMs = this.clock.now() - ts;
        const { node, sig } = message;
        const proved = nonce !== undefined && node !== undefined && sig !== undefined &&
          this.keys!.verify(
            node,
            proofBytes("liveliness_reply", nonce, formatAddress(address), conn.binding),
            sig,
          );
        settle(proved ? { alive: true, rttMs, id: node } : { alive: true, rttMs });
      });
      conn.closed.then(() => settle({ alive: false, reason: conn.closeReason ?? "closed" }));
    });
    conn.send(nonce === undefined ? { type: "liveliness", ts } : { type: "liveliness", ts, nonce }, {
      urgent: true,
    });
    const result = await answered;
    this.#waiting.delete(conn);
    conn.close("probe done");
    return result;
  }
}
