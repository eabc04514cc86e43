/**
 * Time bounds that follow from the settings, written once for the docs, the bench and
 * the tests: how long a seed takes to remove a silent accused peer, and how long a
 * healed partition takes to join up again.
 */

import { type Settings, TUNING } from "./config.ts";

type Timers = Pick<
  Settings,
  "livelinessInterval" | "livelinessMisses" | "probeTimeout" | "overlayInterval" | "connectTimeout"
>;

/**
 * Milliseconds from a death report to the removal of an accused peer that accepts
 * connections but never answers: the seed probes it livelinessMisses + 1 times, each
 * probe waiting probeTimeout and the next starting livelinessInterval after a failed
 * one, so (m + 1) × probeTimeout + m × livelinessInterval (docs/protocol.md, death reports).
 */
export function removalBoundMs(
  s: Pick<Timers, "livelinessInterval" | "livelinessMisses" | "probeTimeout">,
): number {
  return (s.livelinessMisses + 1) * s.probeTimeout + s.livelinessMisses * s.livelinessInterval;
}

/**
 * Milliseconds after a partition heals within which every peer holds every message and
 * every seed lists every live peer again, once connections carry traffic again (TCP may
 * first wait out its retransmission timer). The later of: a peer tries a neighbour lost
 * to the partition at least every TUNING.healRetryMaxRounds × overlayInterval and a dial
 * takes at most connectTimeout, after which catch-up spreads what each side missed; a
 * peer a seed removed renews its registration every livelinessMisses × livelinessInterval
 * and the seed probes it (probeTimeout) before listing it. One overlay round of slack.
 */
export function healBoundMs(s: Timers): number {
  const link = TUNING.healRetryMaxRounds * s.overlayInterval + s.connectTimeout;
  const listed = s.livelinessMisses * s.livelinessInterval + s.probeTimeout;
  return Math.max(link, listed) + s.overlayInterval;
}
