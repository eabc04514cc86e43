/** Shared test helpers: deadline-based waiting and small networks with fast timers. */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import { DEFAULT_SETTINGS, messageLimits, type Settings } from "../lib/settings/config.ts";
import { formatAddress } from "../lib/wire/address.ts";
import { isOverlayConnected } from "../lib/demo/cluster.ts";
import { PeerNode } from "../lib/peer/peer_node.ts";
import { SeedNode } from "../lib/seed/seed_node.ts";

/** The default largest frame, for tests that frame messages by hand. */
export const MAX_FRAME_BYTES = DEFAULT_SETTINGS.maxFrameBytes;
/** The default message limits, for tests that decode frames by hand. */
export const LIMITS = messageLimits(DEFAULT_SETTINGS);

/** Short timers for tests, passed through the same settings path as config.json and flags. */
export const FAST: Partial<Settings> = {
  livelinessInterval: 200,
  livelinessMisses: 3,
  probeTimeout: 150,
  gossipInterval: 100,
  gossipCount: 0,
  announceInterval: 50,
  fetchTimeout: 50,
  overlayInterval: 200,
  seedTimeout: 1000,
  // Fail fast: a test that wants the join retried says so.
  retryJoin: 0,
  connectTimeout: 1000,
  handshakeTimeout: 2000,
  frameTimeout: 2000,
};

/**
 * Polls `condition` until it holds or `timeoutMs` passes; then fails with `what`.
 * Polling reads observable state; the interval only bounds how soon a change is seen.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, what = "condition" }: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A running network of seeds and peers in this process; `stop()` stops every node. */
export class TestNetwork {
  readonly seeds: SeedNode[] = [];
  readonly peers: PeerNode[] = [];
  settings: Partial<Settings> = FAST;

  static async start(
    seedCount: number,
    peerCount: number,
    settings: Partial<Settings> = {},
  ): Promise<TestNetwork> {
    const net = new TestNetwork();
    net.settings = { ...FAST, ...settings };
    try {
      for (let i = 0; i < seedCount; i++) {
        const seed = new SeedNode({ host: "127.0.0.1", port: 0, settings: net.settings });
        net.seeds.push(seed);
        await seed.start();
      }
      for (let i = 0; i < peerCount; i++) await net.addPeer();
    } catch (error) {
      await net.stop();
      throw error;
    }
    return net;
  }

  get seedAddresses() {
    return this.seeds.map((s) => s.address);
  }

  /** Starts one more peer that knows every seed of this network. */
  async addPeer(settings: Partial<Settings> = {}): Promise<PeerNode> {
    const peer = new PeerNode({
      host: "127.0.0.1",
      port: 0,
      settings: { ...this.settings, seeds: this.seedAddresses, ...settings },
    });
    this.peers.push(peer);
    await peer.start();
    return peer;
  }

  /** Peers that are still running. */
  get live(): PeerNode[] {
    return this.peers.filter((p) => !p.isStopped);
  }

  /** True when every live peer can reach every other through neighbour links. */
  isConnected(): boolean {
    return isOverlayConnected(this.live);
  }

  seedsListing(addr: string): string[] {
    return this.seeds.filter((s) => s.peers().includes(addr)).map((s) => formatAddress(s.address));
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.stop()));
    await Promise.all(this.seeds.map((s) => s.stop()));
  }
}

/** Captures the p2pnet log records written while `body` runs (LogTape is reset afterwards). */
export async function withLogs<T>(body: (records: LogRecord[]) => Promise<T>): Promise<T> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { array: (r) => records.push(r) },
    loggers: [
      { category: ["p2pnet"], sinks: ["array"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    return await body(records);
  } finally {
    await reset();
  }
}

/** A record as one searchable line: its message and its properties. */
export function recordText(record: LogRecord): string {
  return record.message.map(String).join("") + " " + JSON.stringify(record.properties);
}

/** A small seeded PRNG, so that a failing random case can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts each peer's deliveries per message id, from now on (exactly-once checks count deliveries, not logs). */
export function countDeliveries(peers: PeerNode[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const peer of peers) peer.events.on("message", (m) => counts.set(m.id, (counts.get(m.id) ?? 0) + 1));
  return counts;
}
