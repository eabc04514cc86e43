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

/** A seed's contact with one peer over its registration connection, clock milliseconds. */
export interface ContactRecord {
  /** When the seed last received anything on it. */
  lastHeard: number;
  /** When a silence longer than the seed's limit last ended (-Infinity: never). */
  silenceEndedAt: number;
}

/** A death report whose accused answered, and the seed's contact with both sides. */
export interface ContradictionFacts {
  now: number;
  /** When the report arrived. */
  reportAt: number;
  /** How far back before the report a silence still excuses it. */
  windowMs: number;
  /** Silence that means contact was lost. */
  silenceMs: number;
  /** Contact over the reporter's and the accused's registration connections; undefined when there is none. */
  reporter: ContactRecord | undefined;
  accused: ContactRecord | undefined;
}

/**
 * Why a report that the accused's answer contradicts was made in good faith, or
 * undefined when it was a lie (a strike). A liar accuses a peer it can reach; a peer
 * cut off from the accused (a partition, a failed link) reports it honestly, and its
 * report may reach the seed late. The seed cannot see the link between them, so it
 * counts a contradicted report as false only when it was in contact with both sides
 * from `windowMs` before the report until now: no silence longer than `silenceMs` on
 * either registration connection. Anything else (either side silent, or not connected
 * to this seed) excuses the report.
 */
export function excuseReport(f: ContradictionFacts): string | undefined {
  const since = f.reportAt - f.windowMs;
  for (const [who, record] of [["reporter", f.reporter], ["accused", f.accused]] as const) {
    if (record === undefined) return `this seed has no connection to the ${who}`;
    if (f.now - record.lastHeard > f.silenceMs) return `this seed lost contact with the ${who}`;
    if (record.silenceEndedAt >= since) return `this seed was out of contact with the ${who} lately`;
  }
  return undefined;
}
