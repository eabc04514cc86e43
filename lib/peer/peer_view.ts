/**
 * What a peer shows the code that embeds it (the console, the control API, tests):
 * its neighbours, messages, traffic and counters, read from its parts. The facade
 * builds one and hands out its answers; nothing here changes the peer.
 */

import type { NodeCore } from "../node/node_core.ts";
import type { WireStatsSnapshot } from "../net/wire_stats.ts";
import type { MessageStore, StoredMessage } from "./message_store.ts";
import type { NeighbourTable } from "./neighbours.ts";
import type { SeedClient } from "./seed_client.ts";
import type { Overlay } from "./overlay.ts";
import type { DetectorStats, FailureDetector } from "./failure_detector.ts";
import type { BroadcastTree, TreeStats } from "./broadcast_tree.ts";
import type { NeighbourInfo, PeerTraffic } from "./peer_types.ts";

/** A peer's counters and sizes at one moment, for metrics and status. */
export interface PeerStats {
  /** Milliseconds since the peer started listening. */
  uptimeMs: number;
  /** Wall-clock milliseconds when it started listening. */
  startedAt: number;
  neighbours: number;
  candidates: number;
  storedMessages: number;
  registeredSeeds: number;
  wire: WireStatsSnapshot;
  tree: TreeStats;
  detector: DetectorStats;
  /** Deaths of neighbours reported to the seeds. */
  deathsReported: number;
}

/** The parts a view reads. */
export interface PeerParts {
  core: NodeCore;
  table: NeighbourTable;
  store: MessageStore;
  seeds: () => SeedClient;
  overlay: Overlay;
  detector: FailureDetector;
  tree: BroadcastTree;
}

export class PeerView {
  readonly #parts: PeerParts;

  constructor(parts: PeerParts) {
    this.#parts = parts;
  }

  /** The peer's monotonic clock, in which `since` of a neighbour is given. */
  now(): number {
    return this.#parts.core.clock.now();
  }

  /** Current neighbours, oldest first. */
  neighbours(): NeighbourInfo[] {
    const { table, detector, tree } = this.#parts;
    return table.list.map((n) => ({
      addr: n.addr,
      id: n.conn.auth.remoteId ?? "",
      direction: n.direction,
      since: n.since,
      ...detector.figures(n),
      gossip: tree.modeOf(n),
    }));
  }

  /** Addresses of the neighbours, and of those this peer pushes messages to. */
  links(): { neighbours: string[]; push: string[] } {
    const { table, tree } = this.#parts;
    const neighbours = table.list.map((n) => n.addr);
    const push = table.list.filter((n) => tree.modeOf(n) === "push").map((n) => n.addr);
    return { neighbours, push };
  }

  /** Stored messages in the order first seen. */
  messages(): StoredMessage[] {
    return this.#parts.store.values();
  }

  traffic(): PeerTraffic {
    const { core, tree } = this.#parts;
    const wire = core.started ? core.endpoint.traffic() : { framesSent: 0, bytesSent: 0, framesReceived: 0 };
    const { announcements, fetches, grafts, prunes, repeats, verifications } = tree.stats();
    return { ...wire, announcements, fetches, grafts, prunes, repeats, verifications };
  }

  registeredSeeds(): string[] {
    return this.#parts.seeds().registered();
  }

  /** Peers learnt from the seeds: candidates for neighbours. */
  candidates(): string[] {
    return this.#parts.overlay.candidates();
  }

  stats(): PeerStats {
    const { core, table, store, overlay, detector, tree } = this.#parts;
    return {
      uptimeMs: core.uptimeMs(),
      startedAt: core.startedAt,
      neighbours: table.size,
      candidates: overlay.known,
      storedMessages: store.size,
      registeredSeeds: this.registeredSeeds().length,
      wire: core.started ? core.endpoint.stats.snapshot() : { sent: EMPTY, received: EMPTY, refused: {} },
      tree: tree.stats(),
      detector: detector.stats(),
      deathsReported: this.#parts.seeds().deathsReported,
    };
  }
}

const EMPTY = Object.freeze({ frames: {}, bytes: {} });
