/**
 * A whole network in one process, with a ledger of what happened: which messages
 * reached which peers and when, which peers were killed and when every seed
 * dropped them, and any peer removed while alive. The demo and the benchmark
 * run on it.
 */

import type { Settings } from "../settings/config.ts";
import { PeerNode } from "../peer/peer_node.ts";
import { type Random, sample } from "../util/random.ts";
import { SeedNode } from "../seed/seed_node.ts";
import { Emitter } from "../util/events.ts";
import { isOverlayConnected, percentile } from "./overlay_math.ts";

export { isOverlayConnected, percentile };

export interface ClusterEvents extends Record<string, unknown> {
  /** A peer was created and is about to start. */
  peerAdded: PeerNode;
}

export interface ClusterOptions {
  /** Seeds to start. @default 3 */
  seeds?: number;
  /** Host every node listens on. @default "127.0.0.1" */
  host?: string;
  /** Settings of every node (seed addresses are filled in). */
  settings?: Partial<Settings>;
  random?: Random;
}

/**
 * What became of one published message. Peers are known by their index in
 * `Cluster.peers`: a delivery costs two array lookups, not hashing labels, since a
 * burst at N = 100 makes 100 000 of them.
 */
interface MessageRecord {
  readonly publishedAt: number;
  /** By peer index: 1 for the peers running when it was published, the ones it must reach. */
  readonly expected: Uint8Array;
  /** By peer index: when it arrived, in `performance.now()` milliseconds; NaN before. Peers started after the publish are not in it. */
  readonly deliveredAt: Float64Array;
  /** Indexes of peers started after the publish that received it anyway. */
  readonly lateDeliveries: Set<number>;
  /** Expected deliveries not yet made, to peers still running. */
  missing: number;
  /** Called once `missing` reaches 0. */
  readonly waiters: Set<() => void>;
}

interface KillRecord {
  readonly killedAt: number;
  /** When the last seed dropped the peer. */
  removedAt: number | undefined;
}

export interface ClusterSummary {
  peers: number;
  messages: number;
  /** Deliveries made over deliveries expected (to peers alive from publish to now). */
  deliveryRatio: number;
  delivered: number;
  expected: number;
  /** Deliveries of a message to a peer that already had it: always 0 unless exactly-once broke. */
  duplicates: number;
  /** Milliseconds from publish to the last expected peer's delivery, for fully delivered messages. */
  latencyMs: { p50: number; p99: number; max: number } | undefined;
  killed: number;
  /** Killed peers that every seed has dropped. */
  detected: number;
  /** Milliseconds from kill to the last seed's removal. */
  detectionMs: { p50: number; max: number } | undefined;
  /** Peers a seed removed as dead while they were running. */
  falseRemovals: number;
}

export class Cluster {
  readonly seeds: SeedNode[] = [];
  /** Every peer ever started, running or not. */
  readonly peers: PeerNode[] = [];
  readonly events: Emitter<ClusterEvents> = new Emitter();
  readonly #options: ClusterOptions;
  readonly #random: Random;
  readonly #messages = new Map<string, MessageRecord>();
  readonly #kills = new Map<string, KillRecord>();
  /** By peer index: whether the peer is started and not stopped. */
  readonly #running: boolean[] = [];
  /** Peer label → index in {@link peers}. */
  readonly #indexOf = new Map<string, number>();
  /** Expected deliveries not yet made, to peers still running. */
  #outstanding = 0;
  #duplicates = 0;
  #falseRemovals = 0;
  #published = 0;
  readonly #deliveryWaiters = new Set<(done: boolean) => void>();
  /** The record of the message being published, for the publisher's own delivery event. */
  #pendingPublish: MessageRecord | undefined;

  constructor(options: ClusterOptions = {}) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the seeds on free ports. */
  async startSeeds(): Promise<void> {
    for (let i = 0; i < (this.#options.seeds ?? 3); i++) {
      const seed = new SeedNode({
        host: this.#options.host ?? "127.0.0.1",
        port: 0,
        settings: this.#options.settings,
      });
      await seed.start();
      this.seeds.push(seed);
      seed.events.on("removed", ({ addr, reason }) => this.#onRemoved(addr, reason));
    }
  }

  /** Peers still running. */
  get live(): PeerNode[] {
    return this.peers.filter((_, i) => this.#running[i]);
  }

  get published(): number {
    return this.#published;
  }

  /** Deliveries so far, counting the publisher's own. */
  get deliveries(): number {
    let total = 0;
    for (const record of this.#messages.values()) {
      for (const at of record.deliveredAt) if (!Number.isNaN(at)) total++;
      total += record.lateDeliveries.size;
    }
    return total;
  }

  /** Whether `label` names a peer this cluster crashed. */
  wasKilled(label: string): boolean {
    return this.#kills.has(label);
  }

  get killed(): number {
    return this.#kills.size;
  }

  /** Killed peers that every seed has dropped. */
  get detected(): number {
    let count = 0;
    for (const kill of this.#kills.values()) if (kill.removedAt !== undefined) count++;
    return count;
  }

  get falseRemovals(): number {
    return this.#falseRemovals;
  }

  /** Neighbour links, each counted once. */
  get links(): number {
    let ends = 0;
    for (const peer of this.live) ends += peer.neighbours().length;
    return Math.round(ends / 2);
  }

  /** Starts `count` peers, `concurrency` at a time. */
  async addPeers(count: number, concurrency = 1): Promise<PeerNode[]> {
    const started: PeerNode[] = [];
    for (let i = 0; i < count; i += concurrency) {
      const batch = Math.min(concurrency, count - i);
      started.push(...await Promise.all(Array.from({ length: batch }, () => this.addPeer())));
    }
    return started;
  }

  async addPeer(): Promise<PeerNode> {
    const peer = new PeerNode({
      host: this.#options.host ?? "127.0.0.1",
      port: 0,
      settings: { ...this.#options.settings, seeds: this.seeds.map((s) => s.address) },
    });
    const index = this.peers.push(peer) - 1;
    this.#running[index] = false;
    peer.events.on("message", (m) => this.#onDelivered(index, m.id));
    this.events.emit("peerAdded", peer);
    await peer.start();
    this.#running[index] = true;
    this.#indexOf.set(peer.label, index);
    return peer;
  }

  /** Publishes `content` from `peer` and records who must receive it. */
  publish(peer: PeerNode, content: string): string {
    const running = this.#running.filter((r) => r).length;
    const record: MessageRecord = {
      publishedAt: performance.now(),
      expected: Uint8Array.from(this.#running, (r) => r ? 1 : 0),
      deliveredAt: new Float64Array(this.#running.length).fill(NaN),
      lateDeliveries: new Set(),
      missing: running,
      waiters: new Set(),
    };
    this.#outstanding += running;
    // The publisher's own delivery fires inside publish(), before its id is known here.
    this.#pendingPublish = record;
    try {
      const { id } = peer.publish(content);
      this.#messages.set(id, record);
      this.#published++;
      return id;
    } finally {
      this.#pendingPublish = undefined;
    }
  }

  /** A random running peer. */
  randomPeer(): PeerNode | undefined {
    return sample(this.live, 1, this.#random)[0];
  }

  /** Crashes `peer`: its sockets close without a goodbye. */
  async kill(peer: PeerNode): Promise<void> {
    this.#kills.set(peer.label, { killedAt: performance.now(), removedAt: undefined });
    this.#stopped(this.#indexOf.get(peer.label) ?? -1);
    await peer.stop({ graceful: false });
    this.#checkRemoved(peer.label);
  }

  /** True when every expected delivery to a running peer has happened. */
  allDelivered(): boolean {
    return this.#outstanding === 0;
  }

  /** Resolves true once every expected delivery has happened, or false after `timeoutMs`. */
  delivered(timeoutMs: number): Promise<boolean> {
    if (this.#outstanding === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (done: boolean) => {
        clearTimeout(timer);
        this.#deliveryWaiters.delete(waiter);
        resolve(done);
      };
      const timer = setTimeout(() => waiter(false), timeoutMs);
      this.#deliveryWaiters.add(waiter);
    });
  }

  /**
   * Waits for one message (an id from {@link publish}) to reach every peer it must.
   * Resolves with milliseconds from publish to the last of those deliveries, or
   * undefined after `timeoutMs`; other messages still under way do not hold it up.
   */
  messageDelivered(id: string, timeoutMs: number): Promise<number | undefined> {
    const record = this.#record(id);
    if (record.missing === 0) return Promise.resolve(this.#latency(record));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        record.waiters.delete(done);
        resolve(this.#latency(record));
      };
      const timer = setTimeout(() => {
        record.waiters.delete(done);
        resolve(undefined);
      }, timeoutMs);
      record.waiters.add(done);
    });
  }

  /**
   * Milliseconds from publishing message `id` to its last delivery to a peer that must
   * have it, or undefined while one of them still lacks it.
   */
  latency(id: string): number | undefined {
    return this.#latency(this.#record(id));
  }

  #record(id: string): MessageRecord {
    const record = this.#messages.get(id);
    if (record === undefined) throw new Error(`Cluster: unknown message ${id}`);
    return record;
  }

  /** Latency of a message no running peer still lacks (expected peers since stopped do not count); else undefined. */
  #latency(record: MessageRecord): number | undefined {
    if (record.missing > 0) return undefined;
    let last = record.publishedAt;
    const { deliveredAt, expected } = record;
    for (let i = 0; i < deliveredAt.length; i++) {
      if (expected[i] && this.#running[i]) last = Math.max(last, deliveredAt[i]!);
    }
    return last - record.publishedAt;
  }

  #settle(): void {
    if (this.#outstanding === 0) { for (const waiter of [...this.#deliveryWaiters]) waiter(true); }
  }

  /** True when every running peer reaches every other through neighbour links. */
  isConnected(): boolean {
    return isOverlayConnected(this.live);
  }

  summary(): ClusterSummary {
    let expected = 0;
    let delivered = 0;
    const latencies: number[] = [];
    for (const record of this.#messages.values()) {
      for (const [i, must] of record.expected.entries()) {
        if (!must || !this.#running[i]) continue;
        expected++;
        if (!Number.isNaN(record.deliveredAt[i]!)) delivered++;
      }
      const latency = this.#latency(record);
      if (latency !== undefined) latencies.push(latency);
    }
    latencies.sort((a, b) => a - b);
    const detections = [...this.#kills.values()]
      .filter((k) => k.removedAt !== undefined)
      .map((k) => k.removedAt! - k.killedAt)
      .sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      peers: this.live.length,
      messages: this.#messages.size,
      deliveryRatio: expected === 0 ? 1 : delivered / expected,
      delivered,
      expected,
      duplicates: this.#duplicates,
      latencyMs: latencies.length === 0 ? undefined : {
        p50: round(percentile(latencies, 0.5)),
        p99: round(percentile(latencies, 0.99)),
        max: round(latencies.at(-1)!),
      },
      killed: this.#kills.size,
      detected: detections.length,
      detectionMs: detections.length === 0
        ? undefined
        : { p50: Math.round(percentile(detections, 0.5)), max: Math.round(detections.at(-1)!) },
      falseRemovals: this.#falseRemovals,
    };
  }

  /** Stops every peer (leaving cleanly) and then every seed. */
  async stop(): Promise<void> {
    for (const i of this.peers.keys()) this.#stopped(i);
    await Promise.all(this.peers.map((p) => p.stop()));
    await Promise.all(this.seeds.map((s) => s.stop()));
  }

  /** Forgets a peer's outstanding deliveries once it stops running. */
  #stopped(index: number): void {
    if (!this.#running[index]) return;
    this.#running[index] = false;
    for (const record of this.#messages.values()) {
      if (record.expected[index] && Number.isNaN(record.deliveredAt[index]!)) this.#countDown(record);
    }
    this.#settle();
  }

  #onDelivered(index: number, id: string): void {
    const record = this.#messages.get(id) ?? this.#pendingPublish;
    if (record === undefined) return;
    if (index >= record.deliveredAt.length) {
      if (record.lateDeliveries.has(index)) this.#duplicates++;
      else record.lateDeliveries.add(index);
      return;
    }
    if (!Number.isNaN(record.deliveredAt[index]!)) {
      this.#duplicates++;
      return;
    }
    record.deliveredAt[index] = performance.now();
    if (record.expected[index] && this.#running[index]) {
      this.#countDown(record);
      this.#settle();
    }
  }

  /** One expected delivery of `record` is made, or no longer expected. */
  #countDown(record: MessageRecord): void {
    this.#outstanding--;
    if (--record.missing === 0) { for (const done of [...record.waiters]) done(); }
  }

  #onRemoved(addr: string, reason: string): void {
    const index = this.#indexOf.get(addr);
    if (reason === "dead" && index !== undefined && this.#running[index]) this.#falseRemovals++;
    this.#checkRemoved(addr);
  }

  #checkRemoved(addr: string): void {
    const kill = this.#kills.get(addr);
    if (kill === undefined || kill.removedAt !== undefined) return;
    if (this.seeds.every((s) => !s.peers().includes(addr))) kill.removedAt = performance.now();
  }
}
