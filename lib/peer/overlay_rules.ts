/**
 * The overlay's decisions, as pure functions: whom to dial, whether to accept a
 * neighbour, and how soon to ask the seeds again when short of candidates or after a
 * seed could not be reached.
 */

import { doubledWait } from "../util/backoff.ts";
import { type Random, sample } from "../util/random.ts";
import { TUNING } from "../settings/config.ts";

/** What a peer knows when it picks candidates to dial. */
export interface DialState {
  /** Peers learnt from seeds and neighbours. */
  known: Iterable<string>;
  /** Outbound links wanted beyond those open or being opened. */
  want: number;
  /** Monotonic clock now, milliseconds. */
  now: number;
  isNeighbour(addr: string): boolean;
  isDialling(addr: string): boolean;
  /** Clock time before which a candidate is not dialled again (undefined: any time). */
  backoffUntil(addr: string): number | undefined;
  /** Whether the candidate's host is banned here (it is then neither dialled nor accepted). */
  isBanned(addr: string): boolean;
  random: Random;
}

/** The candidates to dial now (up to `want`, chosen at random), and whether there were fewer than wanted. */
export function pickDials(state: DialState): { dial: string[]; short: boolean } {
  if (state.want <= 0) return { dial: [], short: false };
  const candidates: string[] = [];
  for (const addr of state.known) {
    if (state.isNeighbour(addr) || state.isDialling(addr)) continue;
    if ((state.backoffUntil(addr) ?? 0) > state.now || state.isBanned(addr)) continue;
    candidates.push(addr);
  }
  return { dial: sample(candidates, state.want, state.random), short: candidates.length < state.want };
}

/** A Peer Request as the asked peer sees it. */
export interface PeerRequestFacts {
  /** This peer's address. */
  self: string;
  /** The address the asker announces. */
  addr: string;
  /** Whether that address is on the host the connection comes from. */
  onRemoteHost: boolean;
  /** Whether the asker is a neighbour already. */
  neighbour: boolean;
  /** Whether this peer is dialling the asker at the same moment. */
  dialling: boolean;
  /** Inbound neighbours this peer has. */
  inbound: number;
  maxInbound: number;
  /** Whether the asker broke the protocol on a link with this peer lately (see {@link offenceBackoff}). */
  offender: boolean;
}

/** The decline an offender gets; its dialler backs off as if it had been the one offended. */
export const OFFENDER_DECLINE = "you broke the protocol on our last link; try again later";

/** Why a Peer Request is declined, or undefined to accept it. */
export function declineReason(r: PeerRequestFacts): string | undefined {
  if (r.addr === r.self) return "that is my own address";
  if (!r.onRemoteHost) return "announced address is not on your host";
  if (r.offender) return OFFENDER_DECLINE;
  if (r.neighbour) return "already neighbours";
  // Both dialled each other at once: the connection opened by the smaller address wins.
  if (r.dialling && r.self < r.addr) return "simultaneous connect; mine wins";
  if (r.inbound >= r.maxInbound) return `full: ${r.inbound} inbound neighbours`;
  return undefined;
}

/**
 * The wait before asking the seeds again while short of candidates: overlayInterval /
 * TUNING.shortRetryDivisor, then twice the last wait each time. Undefined once that
 * reaches an overlay round, which asks anyway.
 */
export function nextShortRetry(lastWaitMs: number, overlayInterval: number): number | undefined {
  return doubledWait(lastWaitMs, overlayInterval / TUNING.shortRetryDivisor, overlayInterval);
}

/**
 * The wait before registering again with a seed that could not be reached: seedTimeout,
 * then twice the last wait each time. Undefined once that reaches the renewal period
 * (livelinessInterval × livelinessMisses), whose renewal registers again anyway.
 */
export function nextSeedRetry(
  lastWaitMs: number,
  seedTimeout: number,
  renewalMs: number,
): number | undefined {
  return doubledWait(lastWaitMs, seedTimeout, renewalMs);
}

/**
 * Milliseconds a peer neither dials nor accepts a neighbour after its `offences`-th
 * protocol violation (from 1): twice overlayInterval, doubling with each offence, at
 * most `banTime`. A violation closes the link; without this pause the overlay would
 * dial the offender again at once, and it would offend again, forever.
 */
export function offenceBackoff(offences: number, overlayInterval: number, banTime: number): number {
  return Math.min(banTime, overlayInterval * 2 ** Math.max(1, offences));
}

/** A neighbour lost to silence, kept to be tried again when a partition heals. */
export interface LostCandidate {
  /** When it was lost, clock milliseconds. */
  since: number;
  /** Clock time of the next try. */
  retryAt: number;
}

/** What a peer knows when it picks a lost neighbour to try again. */
export interface HealState {
  lost: ReadonlyMap<string, LostCandidate>;
  now: number;
  /** How long a lost neighbour is kept. */
  retainMs: number;
  isNeighbour(addr: string): boolean;
  isDialling(addr: string): boolean;
  isBanned(addr: string): boolean;
}

/**
 * The lost neighbour to dial now, beyond `degree` (the earliest due), and those kept
 * too long to try any more. A neighbour that went silent (not refused: then nothing
 * listens there) may sit behind a partition: while this peer has links enough on its
 * own side, only these tries can join the two sides again once it heals.
 */
export function pickHealDial(state: HealState): { dial: string | undefined; expired: string[] } {
  let dial: string | undefined;
  let due = Infinity;
  const expired: string[] = [];
  for (const [addr, lost] of state.lost) {
    if (state.now - lost.since > state.retainMs) expired.push(addr);
    else if (state.isNeighbour(addr) || state.isDialling(addr) || state.isBanned(addr)) continue;
    else if (lost.retryAt <= state.now && lost.retryAt < due) {
      dial = addr;
      due = lost.retryAt;
    }
  }
  return { dial, expired };
}

/**
 * Milliseconds before a lost neighbour is tried again after `attempts` failed tries:
 * overlayInterval, doubling with each try, at most TUNING.healRetryMaxRounds
 * overlayIntervals, which bounds how long a healed partition waits for its first link.
 */
export function healRetryDelay(attempts: number, overlayInterval: number): number {
  return overlayInterval * Math.min(2 ** Math.max(0, attempts), TUNING.healRetryMaxRounds);
}
