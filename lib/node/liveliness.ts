/**
 * The decisions of failure detection, as pure functions: does a probe round count,
 * and what does a seed do with the result of probing an accused peer.
 */

import { TUNING } from "../settings/config.ts";

/** What one round of liveliness probes looked like, when its replies were due. */
export interface ProbeRound {
  /** Neighbours probed in the round. */
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

/** What a seed does after probing a peer reported dead. */
export type VerifyAction = "keep" | "remove" | "retry";

/**
 * A seed's verdict on an accused peer after probe number `attempt` (from 1), probes
 * one liveliness interval apart. An answer keeps it; a refused connection (nothing
 * listens there) removes it at once; silence is retried until `missesLimit + 1`
 * probes failed: a window longer than a peer's registration renewal period, since a
 * busy peer answers late but still renews.
 */
export function judgeVerification(
  result: { alive: boolean; reason?: string },
  attempt: number,
  missesLimit: number,
): VerifyAction {
  if (result.alive) return "keep";
  if (result.reason === "connect refused" || attempt > missesLimit) return "remove";
  return "retry";
}
