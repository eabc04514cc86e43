/** Shared test helpers: deadline-based waiting and small networks with fast timers. */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import { DEFAULT_SETTINGS, messageLimits, type Settings } from "../lib/settings/config.ts";
import { type Address, formatAddress } from "../lib/wire/address.ts";
import type { CoreOptions } from "../lib/node/node_core.ts";
import type { IdentityStore } from "../lib/node/identity.ts";
import { hash } from "node:crypto";
import { Buffer } from "node:buffer";
import { TcpTransport } from "../lib/net/tcp_transport.ts";
import type { Transport } from "../lib/net/transport.ts";
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
  { timeoutMs = 10_000, what = "condition" }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a test waits for and how long, in the milliseconds of the network's clock. */
export interface WaitOptions {
  timeoutMs?: number;
  what?: string;
}

/**
 * Where a test network runs: on real sockets and real time ({@link REAL_GROUND}), or on
 * one in-memory network and one fake clock (`FakeGround` in tests/_fake_net.ts).
 */
export interface Ground {
  /** Where the next node runs: its host, and off real ground its clock, transport and random source. */
  place(): CoreOptions;
  /** A host of its own for a hand-written node (real ground: every node is on 127.0.0.1). */
  host(): string;
  /** The transport of a hand-written node on `host`. */
  transport(host: string): Transport;
  /** Waits until `condition` holds; fails naming `what` once `timeoutMs` passed without it. */
  waitFor(condition: () => boolean, options?: WaitOptions): Promise<void>;
  /** Lets `task` run to completion (on fake time, moving the clock as far as it needs). */
  run<T>(task: Promise<T>, what: string): Promise<T>;
  /** Monotonic milliseconds of this ground's clock. */
  now(): number;
}

const TCP = new TcpTransport();

/** Real sockets on 127.0.0.1 and real time. */
export const REAL_GROUND: Ground = Object.freeze({
  place: () => ({ host: "127.0.0.1", port: 0 }),
  host: () => "127.0.0.1",
  transport: () => TCP,
  waitFor: (condition: () => boolean, options?: WaitOptions) => waitFor(condition, options),
  run: <T>(task: Promise<T>) => task,
  now: () => performance.now(),
});

/** A running network of seeds and peers in this process; `stop()` stops every node. */
export class TestNetwork<G extends Ground = Ground> {
  readonly seeds: SeedNode[] = [];
  readonly peers: PeerNode[] = [];
  settings: Partial<Settings> = FAST;

  constructor(readonly ground: G) {}

  /** Starts `seedCount` seeds and `peerCount` peers with {@link FAST} timers under `settings`, on real ground. */
  static start(seedCount: number, peerCount: number, settings: Partial<Settings> = {}): Promise<TestNetwork> {
    return TestNetwork.on(REAL_GROUND, seedCount, peerCount, settings);
  }

  /** The same on `ground`. */
  static async on<G extends Ground>(
    ground: G,
    seedCount: number,
    peerCount: number,
    settings: Partial<Settings> = {},
  ): Promise<TestNetwork<G>> {
    const net = new TestNetwork(ground);
    net.settings = { ...FAST, ...settings };
    try {
      for (let i = 0; i < seedCount; i++) await net.addSeed();
      for (let i = 0; i < peerCount; i++) await net.addPeer();
    } catch (error) {
      await net.stop();
      throw error;
    }
    return net;
  }

  get seedAddresses(): Address[] {
    return this.seeds.map((s) => s.address);
  }

  async addSeed(settings: Partial<Settings> = {}): Promise<SeedNode> {
    const seed = new SeedNode({ ...this.ground.place(), settings: { ...this.settings, ...settings } });
    this.seeds.push(seed);
    await this.ground.run(seed.start(), "a seed to start");
    return seed;
  }

  /** Starts one more peer that knows every seed of this network. */
  async addPeer(settings: Partial<Settings> = {}): Promise<PeerNode> {
    const peer = new PeerNode({
      ...this.ground.place(),
      settings: { ...this.settings, seeds: this.seedAddresses, ...settings },
    });
    this.peers.push(peer);
    await this.ground.run(peer.start(), `peer ${this.peers.length} to start`);
    return peer;
  }

  /** Waits on this network's clock; see {@link Ground.waitFor}. */
  waitFor(condition: () => boolean, options?: WaitOptions): Promise<void> {
    return this.ground.waitFor(condition, options);
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
    await this.ground.run(Promise.all(this.peers.map((p) => p.stop())), "the peers to stop");
    await this.ground.run(Promise.all(this.seeds.map((s) => s.stop())), "the seeds to stop");
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

/** DER prefix of an Ed25519 PKCS#8 private key; the 32-byte seed follows. */
const ED25519_PKCS8 = "302e020100300506032b657004220420";

/** A store holding the same node key for the same name in every run: its seed is the name's SHA-256. */
export function identityStoreFor(name: string): IdentityStore {
  const pkcs8 = new Uint8Array(Buffer.from(ED25519_PKCS8 + hash("sha256", name, "hex"), "hex"));
  return { load: () => pkcs8, save: () => {} };
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
