/** A seed restarted on its data directory: its registrations back once each answers a probe. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import { TestNetwork, withLogs } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

Deno.test("a seed restarted on its data directory lists again, at once, the kept peers that answer a probe, and drops with a log line those that do not", async () => {
  await withTempDir(async (dir) => {
    await withLogs(async (records) => {
      const dataDir = join(dir, "seed");
      const net = await TestNetwork.start(0, 0);
      let restarted: SeedNode | undefined;
      try {
        const seed = await net.addSeed({ dataDir });
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

        records.length = 0;
        restarted = new SeedNode({ host: "127.0.0.1", port: 0, settings: { ...net.settings, dataDir } });
        const registered: string[] = [];
        restarted.events.on("registered", ({ addr }) => registered.push(addr));
        await restarted.start();
        const events = (name: string) => records.filter((r) => r.properties.event === name);
        await net.waitFor(
          () => events("seed.peer_unverified").length + events("seed.peer_reverified").length === 2,
          {
            what: "both kept registrations checked",
          },
        );
        // No peer knows the new seed's address: its list comes from the data directory alone.
        assert.deepEqual(restarted.peers(), [alive!.label]);
        assert.deepEqual(registered, [alive!.label]);
        assert.deepEqual(events("seed.peer_reverified").map((r) => r.properties.peer), [alive!.label]);
        const [dropped] = events("seed.peer_unverified");
        assert.equal(dropped?.properties.peer, dead!.label);
        assert.match(String(dropped?.properties.why), /refused/);
        assert.equal(events("seed.registry_restored")[0]?.properties.count, 2, "the leaver was not kept");
        await restarted.stop();

        // Dropped for good: the next restart checks only the live one.
        records.length = 0;
        restarted = new SeedNode({ host: "127.0.0.1", port: 0, settings: { ...net.settings, dataDir } });
        await restarted.start();
        await net.waitFor(() => restarted!.peers().length === 1, { what: "the live peer listed again" });
        assert.equal(events("seed.registry_restored")[0]?.properties.count, 1);
      } finally {
        await restarted?.stop();
        await net.stop();
      }
    });
  });
});

Deno.test("a kept registration moves to the connection its peer registers again on, listed once, and a crash there removes it", async () => {
  await withTempDir(async (dir) => {
    await withLogs(async (records) => {
      const dataDir = join(dir, "seed");
      const net = await TestNetwork.start(0, 0);
      let restarted: SeedNode | undefined;
      try {
        const seed = await net.addSeed({ dataDir });
        const peer = await net.addPeer();
        await net.waitFor(() => seed.peers().length === 1, { what: "the registration" });
        const port = seed.address.port;
        await seed.stop();
        records.length = 0;
        restarted = new SeedNode({ host: "127.0.0.1", port, settings: { ...net.settings, dataDir } });
        const registered: string[] = [];
        restarted.events.on("registered", ({ addr }) => registered.push(addr));
        await restarted.start();
        // The peer finds its seed link closed and registers again on a new one, answered with a peer list.
        const answered = () =>
          records.some((r) =>
            r.properties.event === "seed.peer_list_sent" && r.properties.peer === peer.label
          );
        await net.waitFor(answered, { what: "the peer to register again", timeoutMs: 15_000 });
        assert.deepEqual(restarted.peers(), [peer.label]);
        assert.deepEqual(registered, [peer.label], "listed once");
        // Its registration connection is watched again: when it drops and nothing listens, the peer goes.
        await peer.stop({ graceful: false });
        await net.waitFor(() => restarted!.peers().length === 0, { what: "the crashed peer removed" });
      } finally {
        await restarted?.stop();
        await net.stop();
      }
    });
  });
});
