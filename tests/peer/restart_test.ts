/** A peer restarted on its data directory: its history back, nothing delivered twice, only the gap fetched. */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { LogRecord } from "@logtape/logtape";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { countDeliveries, TestNetwork, withLogs } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

const restoredRecord = (records: LogRecord[]) => records.find((r) => r.properties.event === "store.restored");

Deno.test("a peer restarted on its data directory keeps its messages, delivers none of them again, and receives only the ones it missed", async () => {
  await withTempDir(async (dir) => {
    await withLogs(async (records) => {
      const dataDir = join(dir, "peer");
      const net = await TestNetwork.start(1, 2);
      try {
        const [source, other] = net.peers as [PeerNode, PeerNode];
        const first = await net.addPeer({ dataDir });
        const before = Array.from({ length: 2000 }, (_, i) => source.publish(`before ${i}`).id);
        await net.waitFor(() => first.messages().length === before.length, {
          what: "the history at the peer",
        });
        // In the order this peer first saw them, which is not always the order they were published in.
        const history = first.messages().map((m) => m.id);
        await first.stop();

        const missed = Array.from({ length: 20 }, (_, i) => source.publish(`missed ${i}`).id);
        await net.waitFor(() => other.messages().length === before.length + missed.length, {
          what: "the missed messages at the other peer",
        });
        records.length = 0;
        const restarted = new PeerNode({
          host: "127.0.0.1",
          port: 0,
          settings: { ...net.settings, seeds: net.seedAddresses, dataDir },
        });
        const deliveries = countDeliveries([restarted]);
        net.peers.push(restarted);
        assert.equal(restarted.messages().length, 0, "nothing is read before start");
        await restarted.start();
        assert.equal(restoredRecord(records)?.properties.messages, before.length);
        // Delivered once committed, at the end of the turn that stored them.
        await net.waitFor(() => deliveries.size === missed.length, {
          what: "the restarted peer to catch up",
        });
        assert.deepEqual([...deliveries.keys()].sort(), [...missed].sort(), "only the missed ones delivered");
        assert.ok([...deliveries.values()].every((n) => n === 1));
        // Each of its two possible neighbours sends a missed message at most once, and none of the history.
        const received = restarted.view.stats().wire.received.frames.message ?? 0;
        assert.ok(received <= 2 * missed.length, `${received} message frames for ${missed.length} missed`);
        const now = restarted.messages().map((m) => m.id);
        assert.deepEqual(now.slice(0, history.length), history, "the history in its order");
        assert.deepEqual(now.slice(history.length).sort(), [...missed].sort());
      } finally {
        await net.stop();
      }
    });
  });
});
