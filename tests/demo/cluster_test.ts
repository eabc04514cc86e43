/** The Cluster's ledger, which the demo's summary and the benchmark's figures come from. */

import assert from "node:assert/strict";
import { Cluster } from "../../lib/demo/cluster.ts";
import { FAST, waitFor } from "../_helpers.ts";

Deno.test("Cluster counts each expected delivery once, leaves out peers started later or killed, and times each message", async () => {
  const cluster = new Cluster({ seeds: 3, settings: { ...FAST, degree: 2 } });
  try {
    await cluster.startSeeds();
    await cluster.addPeers(4, 2);
    await waitFor(() => cluster.isConnected(), { what: "a connected overlay" });
    const first = cluster.publish(cluster.peers[0]!, "before the late peer");
    const latency = await cluster.messageDelivered(first, 10_000);
    assert.ok(latency !== undefined && latency >= 0, "the first message reached all four peers");
    assert.equal(cluster.latency(first), latency);

    // A peer started after the publish is not expected to have it; one killed no longer counts.
    const late = await cluster.addPeer();
    await waitFor(() => cluster.isConnected(), { what: "the late peer linked" });
    await cluster.kill(cluster.peers[1]!);
    const second = cluster.publish(late, "after");
    assert.ok(
      await cluster.messageDelivered(second, 10_000) !== undefined,
      "the second reached every live peer",
    );
    assert.ok(await cluster.delivered(10_000));

    const summary = cluster.summary();
    assert.equal(summary.messages, 2);
    // first: 3 live peers of the 4 expected (the killed one no longer counts); second: the 4 live peers.
    assert.equal(summary.expected, 3 + 4);
    assert.equal(summary.delivered, summary.expected);
    assert.equal(summary.deliveryRatio, 1);
    assert.equal(summary.duplicates, 0);
    assert.equal(summary.killed, 1);
    assert.equal(summary.peers, 4);
    // Every delivery is counted, including the killed peer's first copy and any the late peer caught up on.
    assert.ok(cluster.deliveries >= 4 + 4);
  } finally {
    await cluster.stop();
  }
});
