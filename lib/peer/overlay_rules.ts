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
  random: Random;
}

/** The candidates to dial now (up to `want`, chosen at random), and whether there were fewer than wanted. */
export function pickDials(state: DialState): { dial: string[]; short: boolean } {
  if (state.want <= 0) return { dial: [], short: false };
  const candidates: string[] = [];
  for (const addr of state.known) {
    if (state.isNeighbour(addr) || state.isDialling(addr)) continue;
    if ((state.backoffUntil(addr) ?? 0) > state.now) continue;
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
}

/** Why a Peer Request is declined, or undefined to accept it. */
export function declineReason(r: PeerRequestFacts): string | undefined {
  if (r.addr === r.self) return "that is my own address";
  if (!r.onRemoteHost) return "announced address is not on your host";
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
