/**
 * The join loop's decision, as a pure function: how long a peer that could not yet
 * register with a majority of its seeds waits before its next round.
 */

import { TUNING } from "../settings/config.ts";

/**
 * Milliseconds to wait after the `round`-th failed round (from 1): TUNING.joinRetryFirstMs,
 * doubling each round up to TUNING.joinRetryMaxMs, then shortened by up to
 * TUNING.joinRetryJitter of itself (`random` in [0, 1)), so peers started together
 * spread their rounds out.
 */
export function joinRetryDelay(round: number, random: number): number {
  const full = Math.min(TUNING.joinRetryMaxMs, TUNING.joinRetryFirstMs * 2 ** Math.max(0, round - 1));
  return Math.round(full * (1 - TUNING.joinRetryJitter * random));
}
