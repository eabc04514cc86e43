/**
 * A neighbour that breaks the protocol costs bounded work: it is not redialled at
 * once and forever, and a banned host is neither accepted nor dialled.
 */

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { MemoryNetwork } from "../../lib/net/memory_transport.ts";
import type { Transport } from "../../lib/net/transport.ts";
import { FakeClock } from "../../lib/util/clock.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { FAST, mulberry32, withLogs } from "../_helpers.ts";

const SEED_HOST = "10.0.0.10";
const HONEST = "10.0.0.1";
const SLOPPY = "10.0.0.2";

/** Dials between the two peers' hosts, each with the fake time it was made and whether a ban was logged by then. */
interface Dial {
  from: string;
  at: number;
  afterBan: boolean;
}

/** A transport of `host` that notes every connect to the other peer's host. */
function counting(
  network: MemoryNetwork,
  host: string,
  other: string,
  clock: FakeClock,
  dials: Dial[],
  records: LogRecord[],
): Transport {
  const inner = network.transport(host);
  return {
    listen: (h, port) => inner.listen(h, port),
    connect: (address, signal) => {
      if (address.host === other) {
        const afterBan = records.some((r) => r.properties.event === "connection.banned");
        dials.push({ from: host, at: clock.now(), afterBan });
      }
      return inner.connect(address, signal);
    },
  };
}

/** Advances `clock` until `task` settles. */
async function drive<T>(clock: FakeClock, task: Promise<T>): Promise<T> {
  let done = false;
  task.then(() => done = true, () => done = true);
  await clock.until(() => done, { timeoutMs: 30_000 });
  return task;
}

/**
 * An honest peer and a sloppy one whose own limit lets it store (and serve in every
 * catch-up) content one code unit over the honest peer's `maxMessageBytes`. Runs
 * `seconds` of fake time and returns the dials between them and the logs.
 */
async function runBadNeighbour(settings: Partial<Settings>, seconds: number) {
  const clock = new FakeClock();
  const network = new MemoryNetwork();
  const dials: Dial[] = [];
  return await withLogs(async (records) => {
    const limit = 100;
    const node = (host: string, other: string, i: number) => ({
      host,
      port: 0,
      clock,
      random: mulberry32(i),
      transport: counting(network, host, other, clock, dials, records),
    });
    const seed = new SeedNode({ settings: FAST, ...node(SEED_HOST, "", 0) });
    await drive(clock, seed.start());
    const base = { ...FAST, ...settings, seeds: [seed.address] };
    const honest = new PeerNode({
      settings: { ...base, maxContentBytes: limit },
      ...node(HONEST, SLOPPY, 1),
    });
    const sloppy = new PeerNode({
      settings: { ...base, maxContentBytes: limit + 1 },
      ...node(SLOPPY, HONEST, 2),
    });
    try {
      await drive(clock, sloppy.start());
      sloppy.publish("x".repeat(limit + 1));
      const start = clock.now();
      dials.length = 0;
      await drive(clock, honest.start());
      await clock.advance(seconds * 1000);
      return {
        dials: dials.filter((d) => d.at >= start),
        records: [...records],
        honestHas: honest.messages().length,
      };
    } finally {
      await drive(clock, Promise.all([honest.stop(), sloppy.stop()]));
      await drive(clock, seed.stop());
    }
  });
}

Deno.test("a neighbour that sends content one byte over the limit is not redialled in a storm: dials back off per offence", async () => {
  const { dials, records, honestHas } = await runBadNeighbour({ banThreshold: 0 }, 20);
  assert.equal(honestHas, 0, "the oversized message is never accepted");
  const badFrames = records.filter((r) => r.properties.event === "connection.bad_frame");
  assert.ok(badFrames.length >= 1, "the bad frame was seen");
  // Overlay rounds every 200 ms for 20 s: an unbounded redial would dial about a hundred times
  // (and at once after each failure, thousands). Backing off 0.4, 0.8, 1.6, ... s per offence
  // leaves a handful of links, and the sloppy peer's dials are declined and back off likewise.
  const from = (host: string) => dials.filter((d) => d.from === host).length;
  assert.ok(from(HONEST) <= 8, `honest peer dialled ${from(HONEST)} times: ${JSON.stringify(dials)}`);
  // Each round of the sloppy peer is a probe of the peer that cut it off, a dial, and a decline.
  assert.ok(from(SLOPPY) <= 20, `sloppy peer dialled ${from(SLOPPY)} times: ${JSON.stringify(dials)}`);
  assert.ok(badFrames.length <= 8, `${badFrames.length} bad frames`);
  // The rounds come further and further apart.
  const times = [...new Set(dials.map((d) => Math.round(d.at)))];
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.length >= 3, `dials at ${times}`);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! > gaps[i - 1]!, `gaps ${gaps} grow`);
});

Deno.test("a host banned for bad frames is neither dialled nor accepted while the ban lasts", async () => {
  const { dials, records } = await runBadNeighbour({ banThreshold: 2, banTime: 60_000 }, 15);
  const bans = records.filter((r) =>
    r.properties.event === "connection.banned" && r.properties.host === SLOPPY
  );
  assert.equal(bans.length, 1, "banned once, not re-banned again and again");
  const honestAfter = dials.filter((d) => d.from === HONEST && d.afterBan);
  assert.deepEqual(honestAfter, [], "no dial to the banned host");
  const refused = records.filter((r) => r.properties.event === "connection.refused");
  const sloppyAfter = dials.filter((d) => d.from === SLOPPY && d.afterBan);
  assert.equal(refused.length, sloppyAfter.length, "each connection from the banned host is refused");
});
