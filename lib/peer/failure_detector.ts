/**
 * Failure detection of a peer's neighbours: probe rounds on the links, a direct
 * probe on a fresh connection before a neighbour is declared dead, and a direct
 * probe of a neighbour whose link dropped without a goodbye.
 */

import { TUNING } from "../settings/config.ts";
import { encodeFrame } from "../wire/codec.ts";
import type { NodeContext } from "../node/node_core.ts";
import { DecayingMax } from "../util/decaying_max.ts";
import { Histogram, type HistogramSnapshot } from "../util/histogram.ts";
import type { Neighbour } from "./neighbours.ts";
import {
  directProbeTimeout,
  judgeConfirmation,
  judgeRound,
  probeTimeout,
  type ProbeTiming,
} from "./probe_rules.ts";

/** What the detector knows of one neighbour. */
interface Health {
  readonly neighbour: Neighbour;
  /** The latest probe timestamp it echoed back. */
  answeredTs: number;
  /** Consecutive unanswered probes. */
  misses: number;
  /** Round-trip time of the last answered probe, milliseconds. */
  rttMs: number | undefined;
  /** Whether a direct probe is deciding if it is dead. */
  confirming: boolean;
  /** Direct probes it answered in a row while its link stayed silent (see {@link judgeConfirmation}). */
  spared: number;
}

/** Upper bounds of the probe round-trip histogram's buckets, milliseconds. */
export const RTT_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** What the detector has done so far, for metrics. */
export interface DetectorStats {
  /** Probes sent on neighbour links. */
  probes: number;
  /** Probes on fresh connections: before declaring a neighbour dead, and of a lost neighbour. */
  directProbes: number;
  /** Probes that went unanswered in a round that counted. */
  misses: number;
  /** Round trips of answered probes, milliseconds. */
  rttMs: HistogramSnapshot;
}

/** What the detector's verdicts lead to. */
export interface Verdicts {
  /**
   * A neighbour on a live link is dead: close the link and tell the seeds. `refused`:
   * nothing listens at its address (rather than silence, which a partition also causes).
   */
  declareDead(neighbour: Neighbour, why: string, refused: boolean): void;
  /** A neighbour answers probes on fresh connections but not on its link: close the link, tell no one. */
  dropUnresponsive(neighbour: Neighbour, why: string): void;
  /** A neighbour whose link already closed is dead: tell the seeds. */
  reportDead(addr: string, why: string, refused: boolean): void;
  /** A lost neighbour was judged either way: open links to replace it. */
  fill(): void;
}

export class FailureDetector {
  readonly #node: NodeContext;
  readonly #verdicts: Verdicts;
  readonly #health = new Map<Neighbour, Health>();
  /** The slowest recent probe round trip (see {@link probeTimeout}). */
  readonly #slowRtt: DecayingMax;
  /** Liveliness rounds in a row that proved nothing (see {@link judgeRound}). */
  #inconclusiveRounds = 0;
  #probes = 0;
  #directProbes = 0;
  #misses = 0;
  readonly #rtt = new Histogram(RTT_BUCKETS_MS);

  constructor(node: NodeContext, verdicts: Verdicts) {
    this.#node = node;
    this.#verdicts = verdicts;
    this.#slowRtt = new DecayingMax(TUNING.slowRttHalfLife * node.settings.livelinessInterval);
  }

  linkUp(neighbour: Neighbour): void {
    this.#health.set(neighbour, {
      neighbour,
      answeredTs: -1,
      misses: 0,
      rttMs: undefined,
      confirming: false,
      spared: 0,
    });
  }

  linkDown(neighbour: Neighbour): void {
    this.#health.delete(neighbour);
  }

  /** The probe figures of a neighbour, for its description. */
  figures(neighbour: Neighbour): { rttMs: number | undefined; misses: number } {
    const health = this.#health.get(neighbour);
    return { rttMs: health?.rttMs, misses: health?.misses ?? 0 };
  }

  stats(): DetectorStats {
    return {
      probes: this.#probes,
      directProbes: this.#directProbes,
      misses: this.#misses,
      rttMs: this.#rtt.snapshot(),
    };
  }

  /** A neighbour echoed a probe: newer than the last one and not from the future counts. */
  onReply(neighbour: Neighbour, ts: number): void {
    const health = this.#health.get(neighbour);
    const now = this.#node.clock.now();
    if (health === undefined || ts <= health.answeredTs || ts > now) return;
    health.answeredTs = ts;
    health.misses = 0;
    health.spared = 0;
    health.rttMs = now - ts;
    this.#rtt.observe(health.rttMs);
    this.#slowRtt.note(health.rttMs, now);
  }

  /**
   * Probes the neighbours this peer has not heard from for part of an interval. Any
   * frame proves life, so a busy link carries no probes of its own, and the probe load
   * falls as the gossip load rises.
   */
  probeRound(): void {
    const node = this.#node;
    const ts = node.clock.now();
    const heardSince = ts - node.settings.livelinessInterval * TUNING.quietFraction;
    const probed: Health[] = [];
    let frame: Uint8Array | undefined;
    for (const health of this.#health.values()) {
      const conn = health.neighbour.conn;
      if (conn.lastByteAt >= heardSince) {
        health.misses = health.spared = 0;
        continue;
      }
      frame ??= encodeFrame({ type: "liveliness", ts }, node.settings.maxFrameBytes, node.endpoint.pool);
      conn.sendFrame(frame, { urgent: true });
      this.#probes++;
      probed.push(health);
    }
    if (probed.length === 0) return;
    if (node.debug) {
      node.log.debug("sent liveliness to {count} of {neighbours} neighbours", {
        event: "liveliness.sent",
        count: probed.length,
        neighbours: this.#health.size,
        ts,
      });
    }
    const judged = this.#health.size;
    const timeout = probeTimeout(this.#timing(ts));
    node.scheduler.after(timeout, () => this.#checkRound(ts, timeout, probed, judged));
  }

  /** A neighbour's link dropped without a goodbye: probe it directly before calling it dead. */
  suspect(addr: string, reason: string): void {
    const node = this.#node;
    node.log.info("lost connection to neighbour {peer}: {reason}; probing", {
      event: "neighbour.lost",
      peer: addr,
      reason,
    });
    this.#directProbes++;
    node.prober.probeWithControl(addr, node.selfAddress, this.#directTimeout()).then((result) => {
      if (node.stopping) return;
      if (result.alive) {
        node.log.info("neighbour {peer} still answers probes", {
          event: "neighbour.alive",
          peer: addr,
          rttMs: result.rttMs,
        });
      } else if (result.inconclusive) {
        node.log.info("not reporting {peer}: {why}", {
          event: "neighbour.not_reported",
          peer: addr,
          why: result.reason,
        });
      } else {
        const refused = result.reason === "connect refused";
        this.#verdicts.reportDead(addr, `connection lost and probe failed: ${result.reason}`, refused);
      }
      this.#verdicts.fill();
    });
  }

  #timing(now: number): ProbeTiming {
    const s = this.#node.settings;
    return {
      probeTimeout: s.probeTimeout,
      slowRtt: this.#slowRtt.valueAt(now),
      livelinessInterval: s.livelinessInterval,
      livelinessMisses: s.livelinessMisses,
    };
  }

  #directTimeout(): number {
    return directProbeTimeout(this.#timing(this.#node.clock.now()));
  }

  /**
   * Judges the probes of round `ts`, `timeoutMs` after it (the round may overlap the
   * next one when probeTimeout equals livelinessInterval). `judged` counts every
   * neighbour of the round: the ones not probed were heard from just before it.
   */
  #checkRound(ts: number, timeoutMs: number, probed: Health[], judged: number): void {
    const node = this.#node;
    const current = probed.filter((h) => this.#health.get(h.neighbour) === h);
    // Under load a reply can queue behind gossip: any frame since the probe proves life.
    const silent = current.filter((h) => h.answeredTs < ts && h.neighbour.conn.lastByteAt < ts);
    for (const h of current) {
      if (h.answeredTs >= ts || h.neighbour.conn.lastByteAt >= ts) h.misses = h.spared = 0;
    }
    const limit = node.settings.livelinessMisses;
    const verdict = judgeRound({
      probed: judged,
      silent: silent.length,
      lateByMs: node.clock.now() - ts - timeoutMs,
      probeTimeoutMs: timeoutMs,
      inconclusiveBefore: this.#inconclusiveRounds,
      missesLimit: limit,
    });
    if (!verdict.counts) {
      this.#inconclusiveRounds++;
      node.log.info("liveliness round not counted: {why}", {
        event: "liveliness.round_skipped",
        why: verdict.why,
      });
      return;
    }
    this.#inconclusiveRounds = 0;
    const failing: Health[] = [];
    for (const h of silent) {
      h.misses++;
      this.#misses++;
      node.log.info("liveliness probe to {peer} unanswered ({misses} of {limit})", {
        event: "liveliness.missed",
        peer: h.neighbour.addr,
        misses: h.misses,
        limit,
      });
      if (h.misses >= limit) failing.push(h);
    }
    for (const h of failing) this.#confirm(h);
  }

  /**
   * Declares a neighbour dead after its last missed probe only if a probe on a fresh
   * connection fails too: a reply can sit behind megabytes of gossip in a busy link's
   * socket buffers, but a fresh connection skips them. This node probes itself at the
   * same moment; if it cannot answer itself, it is the one too slow to hear them. A
   * neighbour that is spared keeps its misses one short of the limit, so each further
   * silent round probes it again; one that answers fresh probes round after round while
   * its link stays silent is not reading its link, and the link is dropped (see
   * {@link judgeConfirmation}).
   */
  #confirm(health: Health): void {
    if (health.confirming) return;
    const node = this.#node;
    const limit = node.settings.livelinessMisses;
    const { neighbour } = health;
    health.confirming = true;
    this.#directProbes++;
    const started = node.clock.now();
    node.prober.probeWithControl(neighbour.addr, node.selfAddress, this.#directTimeout()).then((result) => {
      health.confirming = false;
      if (node.stopping || this.#health.get(neighbour) !== health || health.misses < limit) return;
      // A late reply, or any frame, on the old link during the direct probe proves life too.
      if (neighbour.conn.lastByteAt >= started) {
        health.misses = health.spared = 0;
        return;
      }
      const verdict = judgeConfirmation({
        alive: result.alive,
        inconclusive: !result.alive && result.inconclusive === true,
        spared: health.spared,
      });
      if (verdict === "dead") {
        return this.#verdicts.declareDead(
          neighbour,
          `missed ${limit} liveliness probes; direct probe: ${result.alive ? "" : result.reason}`,
          !result.alive && result.reason === "connect refused",
        );
      }
      if (verdict === "unresponsive") {
        const why = `missed ${limit + health.spared} liveliness probes on its link while answering ` +
          `${health.spared + 1} direct probes`;
        node.log.warn("dropping the link to {peer}: unresponsive: {why}", {
          event: "neighbour.unresponsive",
          peer: neighbour.addr,
          why,
        });
        return this.#verdicts.dropUnresponsive(neighbour, why);
      }
      if (result.alive) {
        this.#slowRtt.note(result.rttMs, node.clock.now());
        health.spared++;
      }
      health.misses = limit - 1;
      node.log.info("not declaring {peer} dead after {misses} missed probes: {why}", {
        event: "liveliness.spared",
        peer: neighbour.addr,
        misses: limit,
        why: result.alive ? `it answered a direct probe in ${result.rttMs} ms` : result.reason,
      });
    });
  }
}
