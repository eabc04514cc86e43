/**
 * A seed's handling of death reports: a leave is taken from the peer itself, signed by
 * its key; a report of a dead peer is checked with probes before the peer is removed,
 * and a reporter whose key is caught in enough false reports is removed and refused
 * for a while.
 */

import { TUNING } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { BanList } from "../net/ban_list.ts";
import type { Death } from "../wire/messages.ts";
import type { NodeContext } from "../node/node_core.ts";
import { admitReport, type ContactRecord, excuseReport, judgeProbe } from "./verdicts.ts";

/** Why a peer left a seed's list. */
export type RemovalReason = "leaving" | "dead" | "banned";

/** What the reports act on: the seed's registry. */
export interface Registry {
  /** Whether the seed lists `addr`. */
  has(addr: string): boolean;
  /** The connection `addr` registered on, if it is listed. */
  connectionOf(addr: string): Connection | undefined;
  /** The node id that registered `addr`, if it is listed. */
  idOf(addr: string): string | undefined;
  remove(addr: string, reason: RemovalReason, reporter: string): void;
  /** A report was refused (for the seed's event). */
  refused(addr: string, reporter: string, why: string): void;
  /** The seed's contact with `addr` over its registration connection, if it has one. */
  contactOf(addr: string): ContactRecord | undefined;
  /** Silence on a registration connection that means the seed lost contact. */
  readonly silenceMs: number;
}

export class DeathReports {
  readonly #node: NodeContext;
  readonly #registry: Registry;
  /** Node ids of reporters caught in false death reports. */
  readonly #liars: BanList;
  /** Accused peers being checked, and when the check began; concurrent reports share one check. */
  readonly #verifying = new Map<string, number>();
  /** Reports received, peers confirmed dead after a report, and reports not acted on. */
  readonly counts = { received: 0, confirmed: 0, rejected: 0 };

  constructor(node: NodeContext, registry: Registry) {
    this.#node = node;
    this.#registry = registry;
    this.#liars = new BanList(node.settings.banThreshold, node.settings.banTime);
  }

  /** Whether node id `id` is refused for false reports. */
  isBanned(id: string): boolean {
    return this.#liars.isBanned(id, this.#node.clock.now());
  }

  /** A death report from `reporter`, registered on `conn` by node id `reporterId`. */
  onReport(conn: Connection, reporter: string, reporterId: string, death: Death): void {
    const node = this.#node;
    this.counts.received++;
    node.log.info("received death of {peer} from {reporter}", {
      event: "seed.report_received",
      peer: death.addr,
      reporter,
      reason: death.reason,
    });
    const decision = admitReport({
      reason: death.reason,
      addr: death.addr,
      reporterField: death.reporter,
      reporter,
      onRegisteredConnection: this.#registry.connectionOf(reporter) === conn,
      accusedListed: this.#registry.has(death.addr),
    });
    switch (decision.action) {
      case "leave":
        // Signed over this seed's nonce for this connection: it cannot be replayed on another.
        if (!node.proofs.check(conn, "leaving", reporterId, reporter, death.sig ?? "")) {
          this.#refuse(
            death.addr,
            reporter,
            reporterId,
            "leave not signed by the leaver for this connection",
          );
          return node.reject(conn, "bad signature on a leave");
        }
        return this.#registry.remove(death.addr, "leaving", reporter);
      case "ignore":
        node.log.debug("death report about unknown peer {peer} ignored", {
          event: "seed.report_ignored",
          peer: death.addr,
          reporter,
        });
        return;
      case "refuse":
        return this.#refuse(death.addr, reporter, reporterId, decision.why);
      case "verify":
        if (this.#verifying.has(death.addr)) return;
        this.#verifying.set(death.addr, node.clock.now());
        this.#probe(death.addr, reporter, reporterId, 1, 0);
    }
  }

  /**
   * Probes an accused peer; removes it only if the seed cannot reach it either (see
   * {@link judgeProbe}). Each probe after a silent one waits a liveliness interval.
   */
  #probe(addr: string, reporter: string, reporterId: string, attempt: number, inconclusive: number): void {
    const node = this.#node;
    const { probeTimeout, livelinessInterval, livelinessMisses } = node.settings;
    node.prober.probeWithControl(addr, node.selfAddress, probeTimeout).then((result) => {
      if (node.stopping) return;
      const since = this.#verifying.get(addr) ?? Infinity;
      const verdict = judgeProbe({
        result,
        attempt,
        inconclusive,
        maxInconclusive: TUNING.maxInconclusiveVerifications,
        missesLimit: livelinessMisses,
        // A peer that renews its registration (every livelinessInterval × livelinessMisses) is alive.
        renewed: (this.#registry.connectionOf(addr)?.lastByteAt ?? -Infinity) >= since,
      });
      if (verdict.action === "retry") {
        if (!verdict.inconclusive) {
          node.log.info("accused {peer} silent to probe {attempt}: {why}; probing again", {
            event: "seed.accused_silent",
            peer: addr,
            attempt,
            why: result.alive ? "" : result.reason,
          });
        }
        const [next, inconclusiveNext] = verdict.inconclusive
          ? [attempt, inconclusive + 1]
          : [attempt + 1, inconclusive];
        node.scheduler.after(
          livelinessInterval,
          () => this.#probe(addr, reporter, reporterId, next, inconclusiveNext),
        );
        return;
      }
      this.#verifying.delete(addr);
      if (verdict.action === "keep") {
        const excuse = verdict.falseReport ? this.#excuse(addr, reporter, since) : undefined;
        const why = excuse === undefined ? verdict.why : `${verdict.why}; in good faith: ${excuse}`;
        return this.#refuse(addr, reporter, reporterId, why, {
          falseReport: verdict.falseReport && excuse === undefined,
        });
      }
      if (!this.#registry.has(addr)) return;
      node.log.info("confirmed {peer} dead: {why}", {
        event: "seed.peer_confirmed_dead",
        peer: addr,
        why: verdict.why,
        reporter,
        probes: attempt,
      });
      this.counts.confirmed++;
      this.#registry.remove(addr, "dead", reporter);
    });
  }

  /** Why a report of `addr` by `reporter` made at `reportAt`, which `addr`'s answer contradicts, was honest. */
  #excuse(addr: string, reporter: string, reportAt: number): string | undefined {
    const { livelinessInterval, livelinessMisses } = this.#node.settings;
    return excuseReport({
      now: this.#node.clock.now(),
      reportAt,
      windowMs: TUNING.reportWindowRounds * livelinessMisses * livelinessInterval,
      silenceMs: this.#registry.silenceMs,
      reporter: this.#registry.contactOf(reporter),
      accused: this.#registry.contactOf(addr),
    });
  }

  /**
   * Logs a death report not acted on. A `false` one (the accused answered, or the
   * reporter claimed what it cannot) is a strike against the reporter's node id; enough
   * strikes remove it and refuse that id for `banTime`.
   */
  #refuse(
    addr: string,
    reporter: string,
    reporterId: string,
    why: string,
    { falseReport = true } = {},
  ): void {
    const node = this.#node;
    this.counts.rejected++;
    node.log.warn("rejected death report about {peer} from {reporter}: {why}", {
      event: "seed.report_rejected",
      peer: addr,
      reporter,
      why,
    });
    this.#registry.refused(addr, reporter, why);
    if (!falseReport || !this.#liars.strike(reporterId, node.clock.now())) return;
    node.log.warn("banned {reporter} for {ms} ms after {strikes} false reports", {
      event: "seed.reporter_banned",
      reporter,
      id: reporterId,
      ms: node.settings.banTime,
      strikes: node.settings.banThreshold,
    });
    // The reporter's registration goes only if its key still holds it.
    if (this.#registry.idOf(reporter) !== reporterId) return;
    const conn = this.#registry.connectionOf(reporter);
    this.#registry.remove(reporter, "banned", reporter);
    conn?.close("banned for false reports");
  }
}
