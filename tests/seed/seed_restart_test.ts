/** A seed restarted on its data directory: its registrations back once each answers a probe. */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { LogRecord } from "@logtape/logtape";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import { TestNetwork, withLogs } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

/** A test network whose one seed keeps its data in a directory; `restart` starts a seed on it again (and forgets the logs so far). */
interface SeedOnDisk {
  net: TestNetwork;
  seed: SeedNode;
  /** The records of the event `name` since the last restart. */
  events(name: string): LogRecord[];
  restart(port?: number): Promise<{ seed: SeedNode; registered: string[] }>;
}

async function withSeedOnDisk(body: (s: SeedOnDisk) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    await withLogs(async (records) => {
      const dataDir = join(dir, "seed");
      const net = await TestNetwork.start(0, 0);
      const started: SeedNode[] = [];
      try {
        const seed = await net.addSeed({ dataDir });
        await body({
          net,
          seed,
          events: (name) => records.filter((r) => r.properties.event === name),
          restart: async (port = 0) => {
            records.length = 0;
            const again = new SeedNode({ host: "127.0.0.1", port, settings: { ...net.settings, dataDir } });
            started.push(again);
            const registered: string[] = [];
            again.events.on("registered", ({ addr }) => registered.push(addr));
            await again.start();
            return { seed: again, registered };
          },
        });
      } finally {
        await Promise.all(started.map((s) => s.stop()));
        await net.stop();
      }
    });
  });
}

Deno.test("a seed restarted on its data directory lists again, at once, the kept peers that answer a probe, and drops with a log line those that do not", async () => {
  await withSeedOnDisk(async ({ net, seed, events, restart }) => {
    const [alive, leaving, dead] = [
      await net.addPeer(),
      await net.addPeer(),
      await net.addPeer(),
    ] as PeerNode[];
    await net.waitFor(() => seed.peers().length === 3, { what: "three registrations" });
    await leaving!.stop();
    await net.waitFor(() => seed.peers().length === 2, { what: "the leaving peer's removal" });
    await seed.stop();
    // Dies while the seed is down: nothing listens at its address any more.
    await dead!.stop({ graceful: false });

    const first = await restart();
    const checked = () => events("seed.peer_unverified").length + events("seed.peer_reverified").length;
    await net.waitFor(() => checked() === 2, { what: "both kept registrations checked" });
    // No peer knows the new seed's address: its list comes from the data directory alone.
    assert.deepEqual(first.seed.peers(), [alive!.label]);
    assert.deepEqual(first.registered, [alive!.label]);
    assert.deepEqual(events("seed.peer_reverified").map((r) => r.properties.peer), [alive!.label]);
    const [dropped] = events("seed.peer_unverified");
    assert.equal(dropped?.properties.peer, dead!.label);
    assert.match(String(dropped?.properties.why), /refused/);
    assert.equal(events("seed.registry_restored")[0]?.properties.count, 2, "the leaver was not kept");
    await first.seed.stop();

    // Dropped for good: the next restart checks only the live one.
    const second = await restart();
    await net.waitFor(() => second.seed.peers().length === 1, { what: "the live peer listed again" });
    assert.equal(events("seed.registry_restored")[0]?.properties.count, 1);
  });
});

Deno.test("a kept registration moves to the connection its peer registers again on, listed once, and a crash there removes it", async () => {
  await withSeedOnDisk(async ({ net, seed, events, restart }) => {
    const peer = await net.addPeer();
    await net.waitFor(() => seed.peers().length === 1, { what: "the registration" });
    await seed.stop();
    const again = await restart(seed.address.port);
    // The peer finds its seed link closed and registers again on a new one, answered with a peer list.
    const answered = () => events("seed.peer_list_sent").some((r) => r.properties.peer === peer.label);
    await net.waitFor(answered, { what: "the peer to register again", timeoutMs: 15_000 });
    assert.deepEqual(again.seed.peers(), [peer.label]);
    assert.deepEqual(again.registered, [peer.label], "listed once");
    // Its registration connection is watched again: when it drops and nothing listens, the peer goes.
    await peer.stop({ graceful: false });
    await net.waitFor(() => again.seed.peers().length === 0, { what: "the crashed peer removed" });
  });
});
