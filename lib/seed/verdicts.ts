/**
 * A seed's decisions about death reports, as pure functions: what a report asks of
 * the seed, and what the seed does after each probe of an accused peer.
 */

/** A death report as the seed sees it. */
export interface ReportFacts {
  reason: "leaving" | "dead";
  /** The peer the report is about. */
  addr: string;
  /** The `reporter` field of the report. */
  reporterField: string;
  /** The peer the report's connection registered as. */
  reporter: string;
  /** Whether the report came on the connection the reporter is registered on. */
  onRegisteredConnection: boolean;
  /** Whether the seed lists the accused. */
  accusedListed: boolean;
}

export type ReportAction =
  /** Remove the reporter: it leaves. */
  | { action: "leave" }
  /** Check the accused with probes. */
  | { action: "verify" }
  /** Nothing to do: the seed does not list the accused. */
  | { action: "ignore" }
  /** Refuse the report; a false one is a strike against the reporter. */
  | { action: "refuse"; why: string };

/** What a death report asks of the seed. Only a peer itself may leave, on its registered connection. */
export function admitReport(r: ReportFacts): ReportAction {
  if (r.reporterField !== r.reporter) {
    return { action: "refuse", why: `reporter field says ${r.reporterField}` };
  }
  if (r.reason === "leaving") {
    if (r.addr !== r.reporter) return { action: "refuse", why: "only a peer itself may leave" };
    if (!r.onRegisteredConnection) {
      return { action: "refuse", why: "leave not sent on the registering connection" };
    }
    return { action: "leave" };
  }
  if (!r.accusedListed) return { action: "ignore" };
  if (r.addr === r.reporter) return { action: "refuse", why: "a peer cannot report itself dead" };
  return { action: "verify" };
}

/** One probe of an accused peer, and the check so far. */
export interface ProbeStep {
  result: { alive: true; rttMs: number } | { alive: false; reason: string; inconclusive?: boolean };
  /** Which probe of the check this was, from 1. */
  attempt: number;
  /** Probes of this check that came out inconclusive (this seed too busy to judge) so far. */
  inconclusive: number;
  maxInconclusive: number;
  /** Consecutive misses that make a peer dead (livelinessMisses). */
  missesLimit: number;
  /** Whether the accused renewed its registration since the check began. */
  renewed: boolean;
}

export type ProbeVerdict =
  /** Probe again after a liveliness interval; `inconclusive` when this probe proved nothing. */
  | { action: "retry"; inconclusive: boolean }
  /** Keep the accused; `falseReport` when the report was false (a strike against its reporter). */
  | { action: "keep"; why: string; falseReport: boolean }
  /** The accused is dead. */
  | { action: "remove"; why: string };

/**
 * The seed's verdict after one probe of an accused peer. An answer keeps it (the
 * report was false); a refused connection (nothing listens there) removes it at once;
 * silence is retried until `missesLimit + 1` probes failed, a window longer than a
 * peer's registration renewal period: a busy peer answers late but still renews, and
 * a renewal during the check keeps it. A seed too busy to judge tries again, up to
 * `maxInconclusive` times, then keeps the peer without blaming the reporter.
 */
export function judgeProbe(step: ProbeStep): ProbeVerdict {
  const { result } = step;
  if (result.alive) {
    return { action: "keep", why: `accused answered a probe in ${result.rttMs} ms`, falseReport: true };
  }
  if (result.inconclusive) {
    if (step.inconclusive < step.maxInconclusive) return { action: "retry", inconclusive: true };
    return { action: "keep", why: `could not verify: ${result.reason}`, falseReport: false };
  }
  if (result.reason === "connect refused") return { action: "remove", why: result.reason };
  if (step.renewed) {
    return {
      action: "keep",
      why: "the accused renewed its registration during the check",
      falseReport: false,
    };
  }
  if (step.attempt > step.missesLimit) return { action: "remove", why: result.reason };
  return { action: "retry", inconclusive: false };
}
