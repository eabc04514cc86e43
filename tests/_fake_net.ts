/**
 * Test networks on fake time: every node on a host of its own in one in-memory network,
 * one fake clock for all, and a seeded random source per node, so that a run is fast
 * (no real waiting) and the same each time for the same seed.
 */

import type { Settings } from "../lib/settings/config.ts";
import type { CoreOptions } from "../lib/node/node_core.ts";
import { MemoryNetwork } from "../lib/net/memory_transport.ts";
import type { Transport } from "../lib/net/transport.ts";
import { FakeClock } from "../lib/util/clock.ts";
import { type Ground, identityStoreFor, mulberry32, TestNetwork, type WaitOptions } from "./_helpers.ts";

/** One memory network and one fake clock; node `i` draws from `mulberry32(seed * 1000 + i)`. */
export class FakeGround implements Ground {
  readonly clock = new FakeClock();
  readonly memory = new MemoryNetwork();
  readonly #seed: number;
  #nodes = 0;
  #hosts = 0;

  constructor(seed = 1) {
    this.#seed = seed;
  }

  place(): CoreOptions {
    const host = this.host();
    const n = this.#seed * 1000 + this.#nodes++;
    return {
      host,
      port: 0,
      clock: this.clock,
      transport: this.memory.transport(host),
      random: mulberry32(n),
      // Node ids and so message ids are part of a run: the same for the same seed.
      identityStore: identityStoreFor(`fake node ${n}`),
    };
  }

  /** 10.0.0.1, 10.0.0.2, ... in the order asked. */
  host(): string {
    const n = ++this.#hosts;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  }

  transport(host: string): Transport {
    return this.memory.transport(host);
  }

  waitFor(condition: () => boolean, { timeoutMs = 10_000, what }: WaitOptions = {}): Promise<void> {
    return this.clock.until(condition, { timeoutMs, what });
  }

  /** Advances the clock until `task` settles, for at most a minute of fake time. */
  async run<T>(task: Promise<T>, what: string): Promise<T> {
    let done = false;
    const settled = task.then(() => done = true, () => done = true);
    await this.clock.until(() => done, { what, timeoutMs: 60_000 });
    await settled;
    return task;
  }

  now(): number {
    return this.clock.now();
  }

  /** Drops traffic between every host of `a` and every host of `b` until {@link heal}; connections stay up. */
  cut(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) if (x !== y) this.memory.cut(x, y);
  }

  /** Lets through again what {@link cut} dropped. */
  heal(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) if (x !== y) this.memory.heal(x, y);
  }
}

/** The host each node listens on. */
export function hostsOf(nodes: readonly { address: { host: string } }[]): string[] {
  return nodes.map((node) => node.address.host);
}

/** A test network like `TestNetwork.start`, on fake time with random seed `seed`. */
export function fakeNetwork(
  seedCount: number,
  peerCount: number,
  settings: Partial<Settings> = {},
  { seed = 1 }: { seed?: number } = {},
): Promise<TestNetwork<FakeGround>> {
  return TestNetwork.on(new FakeGround(seed), seedCount, peerCount, settings);
}
