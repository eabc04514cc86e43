/**
 * Seeds and peers on one in-memory network and one fake clock: each node on a host of
 * its own choosing, every random choice seeded, time moved only by the test. For
 * tests of what happens over minutes (partitions, timeouts, paging) that run in
 * milliseconds and the same way each time.
 */

import { MemoryNetwork, type MemoryNetworkOptions } from "../lib/net/memory_transport.ts";
import { FakeClock } from "../lib/util/clock.ts";
import { isOverlayConnected } from "../lib/demo/cluster.ts";
import { PeerNode } from "../lib/peer/peer_node.ts";
import { SeedNode } from "../lib/seed/seed_node.ts";
import type { Settings } from "../lib/settings/config.ts";
import { FAST, mulberry32 } from "./_helpers.ts";
import { formatAddress } from "../lib/wire/address.ts";
import { WireClient } from "./_wire_client.ts";

/** Advances `clock` until `task` settles, then returns its outcome. */
export async function drive<T>(
  clock: FakeClock,
  task: Promise<T>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  let done = false;
  task.then(() => done = true, () => done = true);
  await clock.until(() => done, { what, timeoutMs });
  return task;
}

export interface FakeNetworkOptions extends MemoryNetworkOptions {
  /** Settings of every node, over {@link FAST}. */
  settings?: Partial<Settings>;
  /** Seed of the nodes' random sources. @default 1 */
  seed?: number;
}

export class FakeNetwork {
  readonly clock = new FakeClock();
  readonly network: MemoryNetwork;
  readonly seeds: SeedNode[] = [];
  readonly peers: PeerNode[] = [];
  readonly settings: Partial<Settings>;
  #nodes = 0;
  readonly #seed: number;

  constructor({ settings = {}, seed = 1, ...network }: FakeNetworkOptions = {}) {
    this.network = new MemoryNetwork(network);
    this.settings = { ...FAST, ...settings };
    this.#seed = seed;
  }

  /** Options of a node on `host`: this network's transport and clock, a seeded random source. */
  node(host: string) {
    return {
      host,
      port: 0,
      clock: this.clock,
      transport: this.network.transport(host),
      random: mulberry32(this.#seed * 1000 + this.#nodes++),
    };
  }

  /** Starts a seed on `host`; peers started later know every seed started before them. */
  async addSeed(host: string, settings: Partial<Settings> = {}): Promise<SeedNode> {
    const seed = new SeedNode({ ...this.node(host), settings: { ...this.settings, ...settings } });
    this.seeds.push(seed);
    await this.drive(seed.start(), `the seed on ${host} to start`);
    return seed;
  }

  /** Starts a peer on `host` that knows every seed. */
  async addPeer(host: string, settings: Partial<Settings> = {}): Promise<PeerNode> {
    const peer = new PeerNode({
      ...this.node(host),
      settings: { ...this.settings, seeds: this.seeds.map((s) => s.address), ...settings },
    });
    this.peers.push(peer);
    await this.drive(peer.start(), `the peer on ${host} to start`);
    return peer;
  }

  drive<T>(task: Promise<T>, what: string, timeoutMs?: number): Promise<T> {
    return drive(this.clock, task, what, timeoutMs);
  }

  /** Advances fake time until `condition` holds; fails naming `what` after `timeoutMs` of fake time. */
  until(condition: () => boolean, what: string, timeoutMs = 30_000, stepMs = 10): Promise<void> {
    return this.clock.until(condition, { what, timeoutMs, stepMs });
  }

  /** Peers still running. */
  get live(): PeerNode[] {
    return this.peers.filter((p) => !p.isStopped);
  }

  isConnected(): boolean {
    return isOverlayConnected(this.live);
  }

  /** Cuts every link between `host` and the other hosts in `others`. */
  isolate(host: string, others: string[]): void {
    for (const other of others) if (other !== host) this.network.cut(host, other);
  }

  /** Heals what {@link isolate} cut. */
  rejoin(host: string, others: string[]): void {
    for (const other of others) if (other !== host) this.network.heal(host, other);
  }

  async stop(): Promise<void> {
    for (const host of [...this.#hostsOf()]) this.rejoin(host, [...this.#hostsOf()]);
    await this.drive(Promise.all(this.peers.map((p) => p.stop())), "the peers to stop");
    await this.drive(Promise.all(this.seeds.map((s) => s.stop())), "the seeds to stop");
  }

  #hostsOf(): Set<string> {
    const hosts = new Set<string>();
    for (const node of [...this.seeds, ...this.peers]) {
      try {
        hosts.add(node.address.host);
      } catch {
        // Never started.
      }
    }
    return hosts;
  }
}

/**
 * A listener on `host` of `network` played by hand: it answers a probe on a fresh
 * connection (then closes it) and accepts every peer request, then answers nothing
 * more on that link. Alive to a prober, deaf on its links.
 */
export class DeafListener {
  readonly addr: string;
  readonly clients: WireClient[] = [];
  readonly #listener;

  constructor(network: MemoryNetwork, host: string) {
    this.#listener = network.transport(host).listen(host, 0);
    this.addr = formatAddress(this.#listener.addr);
    void this.#accept();
  }

  async #accept(): Promise<void> {
    for (;;) {
      const stream = await this.#listener.accept().catch(() => undefined);
      if (stream === undefined) return;
      let first = true;
      this.clients.push(WireClient.wrap(stream, (message, client) => {
        if (!first) return;
        first = false;
        if (message.type === "liveliness") {
          client.send({ type: "liveliness_reply", ts: message.ts }).then(() => client.close());
        } else if (message.type === "peer_request") {
          client.send({ type: "peer_reply", accepted: true, addr: this.addr });
        }
      }));
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
