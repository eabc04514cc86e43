/** What a seed shows the code that embeds it: its options, events, members and counters; its registrations. */

import type { Connection } from "../net/connection.ts";
import type { WireStatsSnapshot } from "../net/wire_stats.ts";
import type { CoreOptions } from "../node/node_core.ts";
import type { RemovalReason } from "./death_reports.ts";

/** Options of a seed; its port defaults to 0 (a free one). */
export type SeedNodeOptions = CoreOptions;

export interface SeedEvents extends Record<string, unknown> {
  registered: { addr: string };
  removed: { addr: string; reason: RemovalReason; reporter: string };
  reportRejected: { addr: string; reporter: string; why: string };
}

/** A peer a seed lists. */
export interface Registration {
  readonly addr: string;
  /** The node id that registered the address, proved on `conn` and by the address itself. */
  id: string;
  readonly since: number;
  /** Wall-clock milliseconds of the registration. */
  readonly at: number;
  /** Undefined for a registration kept from an earlier run, until its peer registers again. */
  conn: Connection | undefined;
  /** The links the peer reported with its last registration (see GetPeerList). */
  links: { neighbours: string[]; push: string[] };
}

/** A registered peer as the control API shows it. */
export interface Member {
  addr: string;
  /** The node id that registered it. */
  id: string;
  /** Wall-clock milliseconds when the seed registered it. */
  registeredAt: number;
  /** Its neighbours as it reported them with its last registration, and those it pushes to. */
  neighbours: string[];
  push: string[];
}

/** A seed's counters and sizes at one moment, for metrics and status. */
export interface SeedStats {
  uptimeMs: number;
  startedAt: number;
  peers: number;
  /** Peers registered so far (a peer registered again after a removal counts again). */
  registered: number;
  removed: Record<RemovalReason, number>;
  /** Death reports received, confirmed by the seed's own probes, and rejected. */
  reports: { received: number; confirmed: number; rejected: number };
  wire: WireStatsSnapshot;
}
