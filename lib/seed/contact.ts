/**
 * A seed's contact with its registered peers: it sends `liveliness` on each quiet
 * registration connection every liveliness interval and notes when each last sent
 * anything, and when a long silence last ended. Death reports are judged by it (a
 * report made while the seed was out of contact with either side is in good faith),
 * and a registration whose connection went silent may move to a new connection.
 */

import { TUNING } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import type { NodeContext } from "../node/node_core.ts";
import { encodeFrame } from "../wire/codec.ts";
import type { ContactRecord } from "./verdicts.ts";

export class Contact {
  readonly #node: NodeContext;
  readonly #records = new Map<Connection, ContactRecord>();

  constructor(node: NodeContext) {
    this.#node = node;
  }

  /**
   * Milliseconds of silence on a registration connection after which this seed has lost
   * contact: TUNING.contactSilenceIntervals liveliness intervals and a probe timeout, more
   * than a live peer ever leaves between answers to this seed's keep-alive probes.
   */
  get silenceMs(): number {
    const { livelinessInterval, probeTimeout } = this.#node.settings;
    return TUNING.contactSilenceIntervals * livelinessInterval + probeTimeout;
  }

  /** Starts keeping contact with a registration connection. */
  watch(conn: Connection): void {
    if (!this.#records.has(conn)) {
      this.#records.set(conn, { lastHeard: this.#node.clock.now(), silenceEndedAt: -Infinity });
    }
  }

  /** A frame arrived on `conn`. */
  heard(conn: Connection, now: number): void {
    const record = this.#records.get(conn);
    if (record === undefined) return;
    if (now - record.lastHeard > this.silenceMs) record.silenceEndedAt = now;
    record.lastHeard = now;
  }

  closed(conn: Connection): void {
    this.#records.delete(conn);
  }

  /** What this seed knows of its contact over `conn`; undefined when it keeps none there. */
  record(conn: Connection | undefined): ContactRecord | undefined {
    return conn === undefined || conn.isClosed ? undefined : this.#records.get(conn);
  }

  /** True when `conn` has been silent past {@link silenceMs}: the peer, or the path to it, is gone. */
  isSilent(conn: Connection, now: number): boolean {
    const record = this.#records.get(conn);
    return record !== undefined && now - record.lastHeard > this.silenceMs;
  }

  /** Sends `liveliness` on each registration connection quiet for TUNING.quietFraction of an interval. */
  round(): void {
    const node = this.#node;
    const now = node.clock.now();
    const quietSince = now - node.settings.livelinessInterval * TUNING.quietFraction;
    let frame: Uint8Array | undefined;
    for (const [conn, record] of this.#records) {
      if (record.lastHeard >= quietSince || conn.isClosed) continue;
      frame ??= encodeFrame({ type: "liveliness", ts: now }, node.settings.maxFrameBytes, node.endpoint.pool);
      conn.sendFrame(frame, { urgent: true });
    }
  }
}
