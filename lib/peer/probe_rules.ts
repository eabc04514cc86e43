/**
 * The failure detector's decisions, as pure functions: how long a probe waits, how
 * long a direct probe of a suspect waits, and whether a round of probes counts.
 */

import { TUNING } from "../settings/config.ts";

/** The settings and measurements a probe's wait depends on, milliseconds. */
export interface ProbeTiming {
  /** The probeTimeout setting. */
  probeTimeout: number;
  /** The slowest recent probe round trip (decaying). */
  slowRtt: number;
  livelinessInterval: number;
  livelinessMisses: number;
}

/**
 * Milliseconds a probe waits for its reply: probeTimeout, or TUNING.slowRttFactor
 * times the slowest recent round trip if that is longer, at most livelinessInterval ×
 * livelinessMisses. Like TCP's retransmission timeout it follows what this node sees:
 * when it, or the process it shares, is too busy to read its sockets promptly, every
 * answer comes late, and a fixed timeout would count live neighbours as silent.
 */
export function probeTimeout(t: ProbeTiming): number {
  return Math.round(
    Math.min(
      Math.max(t.probeTimeout, TUNING.slowRttFactor * t.slowRtt),
      t.livelinessInterval * t.livelinessMisses,
    ),
  );
}

/**
 * Milliseconds a direct probe of a suspect neighbour may take: a whole liveliness
 * interval, at least TUNING.directProbeFactor probe timeouts. It comes after misses that
 * already took that long, a killed peer refuses it at once, and a busy node accepts
 * new connections last, after the traffic of its open ones.
 */
export function directProbeTimeout(t: ProbeTiming): number {
  return Math.max(t.livelinessInterval, TUNING.directProbeFactor * probeTimeout(t));
}

/** What one round of liveliness probes looked like, when its replies were due. */
export interface ProbeRound {
  /** Neighbours judged in the round (the ones not probed were heard from just before it). */
  probed: number;
  /** Of those, neighbours that neither answered nor sent anything since the probe. */
  silent: number;
  /** Milliseconds the check of the round ran after it was due. */
  lateByMs: number;
  /** Milliseconds a probe waits for its reply. */
  probeTimeoutMs: number;
  /** Rounds in a row judged inconclusive before this one. */
  inconclusiveBefore: number;
  /** Consecutive misses that make a neighbour dead. */
  missesLimit: number;
}

export type RoundVerdict = { counts: true } | { counts: false; why: string };

/**
 * Whether silence in a round counts against the silent neighbours. A round proves
 * nothing when this node checked it late, or when most neighbours went silent at
 * once: then the likelier cause is this node (overloaded, or cut off), not all of
 * them. After `missesLimit` inconclusive rounds in a row, rounds count again, so a
 * real mass failure is still detected.
 */
export function judgeRound(round: ProbeRound): RoundVerdict {
  if (round.inconclusiveBefore >= round.missesLimit) return { counts: true };
  if (round.lateByMs > round.probeTimeoutMs * TUNING.lateRoundFraction) {
    return { counts: false, why: `this node checked the round ${Math.round(round.lateByMs)} ms late` };
  }
  if (
    round.probed >= TUNING.massSilenceMinProbed && round.silent > round.probed * TUNING.massSilenceFraction
  ) {
    return { counts: false, why: `${round.silent} of ${round.probed} neighbours silent at once` };
  }
  return { counts: true };
}

/** What the direct probe of a neighbour past its misses showed, and what came before. */
export interface Confirmation {
  /** The neighbour answered the probe on a fresh connection. */
  alive: boolean;
  /** The probe proved nothing: this node could not answer itself in time either. */
  inconclusive: boolean;
  /** Direct probes it answered before this one while its link stayed silent. */
  spared: number;
}

/**
 * What becomes of a neighbour that missed `livelinessMisses` probes on its link:
 * `dead` when the direct probe fails conclusively; `unresponsive` when it answered the
 * direct probe but has done so TUNING.unresponsiveSpares times before with its link
 * still silent (alive, but not reading its link: the link is dropped, nothing reported);
 * otherwise `spared`, one miss short of the limit. An inconclusive probe spares it
 * without counting, since the silence may be this node's.
 */
export function judgeConfirmation(c: Confirmation): "dead" | "unresponsive" | "spared" {
  if (!c.alive && !c.inconclusive) return "dead";
  if (c.alive && c.spared >= TUNING.unresponsiveSpares) return "unresponsive";
  return "spared";
}
