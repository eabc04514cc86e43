/**
 * Test networks on fake time: every node on a host of its own in one in-memory network,
 * one fake clock for all, and a seeded random source per node, so that a run is fast
 * (no real waiting) and the same each time for the same seed.
 */

import type { Settings } from "../lib/settings/config.ts";
import type { NodeOptions } from "../lib/net/endpoint.ts";
import { MemoryNetwork } from "../lib/net/memory_transport.ts";
import type { Transport } from "../lib/net/transport.ts";
import { FakeClock } from "../lib/util/clock.ts";
import { type Ground, mulberry32, TestNetwork, type WaitOptions } from "./_helpers.ts";

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

  place(): NodeOptions {
    const host = this.host();
    return {
      host,
      port: 0,
      clock: this.clock,
      transport: this.memory.transport(host),
      random: mulberry32(this.#seed * 1000 + this.#nodes++),
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
