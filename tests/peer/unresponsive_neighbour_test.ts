/**
 * A neighbour whose listener answers probes on fresh connections but that does not read
 * its link: it is dropped after a bounded number of rounds, as unresponsive, and not
 * reported to the seeds, which would find it alive.
 */

import assert from "node:assert/strict";
import { fakeNetwork } from "../_fake_net.ts";
import { withLogs } from "../_helpers.ts";
import { HandNode } from "../_wire_client.ts";

Deno.test("a neighbour that answers direct probes but never its link is dropped as unresponsive within bounded rounds, and not reported", async () => {
  await withLogs(async (records) => {
    const net = await fakeNetwork(1, 0);
    // It answers probes on fresh connections and takes neighbour links, then answers nothing on them.
    const deaf = new HandNode({ ground: net.ground, answersOnLinks: false });
    try {
      const seed = net.seeds[0]!;
      await deaf.register([seed.address]);
      const peer = await net.addPeer();
      const reported: string[] = [];
      peer.events.on("deathReported", ({ addr }) => reported.push(addr));
      const linked = () => peer.neighbours().some((n) => n.addr === deaf.label);
      await net.waitFor(linked, { what: "a link to it" });
      const linkedAt = net.ground.now();
      await net.waitFor(() => !linked(), { what: "the link dropped", timeoutMs: 20_000 });
      // Three missed rounds, then two spared ones, each with a direct probe: a few intervals.
      const took = net.ground.now() - linkedAt;
      assert.ok(took <= 10 * net.settings.livelinessInterval!, `dropped after ${took} ms`);
      const events = records.map((r) => r.properties.event);
      assert.equal(events.filter((e) => e === "neighbour.unresponsive").length, 1);
      assert.equal(events.filter((e) => e === "liveliness.spared").length, 2);
      assert.deepEqual(reported, [], "not reported to the seeds");
      assert.ok(!events.includes("neighbour.dead"));
      assert.ok(seed.peers().includes(deaf.label), "the seed still lists it");
      await net.ground.clock.advance(1000);
      assert.ok(!linked(), "not dialled again at once");
    } finally {
      await deaf.close();
      await net.stop();
    }
  });
});
