/**
 * A neighbour whose listener answers probes on fresh connections but that does not read
 * its link: it is dropped after a bounded number of rounds, as unresponsive, and not
 * reported to the seeds, which would find it alive.
 */

import assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "../../lib/wire/messages.ts";
import { DeafListener, FakeNetwork } from "../_fake_network.ts";
import { withLogs } from "../_helpers.ts";
import { WireClient } from "../_wire_client.ts";

Deno.test("a neighbour that answers direct probes but never its link is dropped as unresponsive within bounded rounds, and not reported", async () => {
  await withLogs(async (records) => {
    const net = new FakeNetwork();
    // The half-dead neighbour: it answers probes on fresh connections, never on its links.
    const deaf = new DeafListener(net.network, "10.0.5.5");
    const self = deaf.addr;
    const clients: WireClient[] = [];
    try {
      const seed = await net.addSeed("10.0.0.1");
      const transport = net.network.transport("10.0.5.5");
      const registration = await net.drive(WireClient.over(transport, seed.address), "a seed connection");
      clients.push(registration);
      await registration.send({ type: "get_peer_list", version: PROTOCOL_VERSION, addr: self });
      await net.until(() => seed.peers().includes(self), "the half-dead neighbour registered");

      const peer = await net.addPeer("10.0.1.1");
      const reported: string[] = [];
      peer.events.on("deathReported", ({ addr }) => reported.push(addr));
      await net.until(() => peer.neighbours().some((n) => n.addr === self), "a link to it");
      const linkedAt = net.clock.now();
      await net.until(() => !peer.neighbours().some((n) => n.addr === self), "the link dropped", 20_000);
      // Three missed rounds, then two spared ones, each with a direct probe: a few intervals.
      const took = net.clock.now() - linkedAt;
      assert.ok(took <= 10 * net.settings.livelinessInterval!, `dropped after ${took} ms`);
      const events = records.map((r) => r.properties.event);
      assert.equal(events.filter((e) => e === "neighbour.unresponsive").length, 1);
      assert.equal(events.filter((e) => e === "liveliness.spared").length, 2);
      assert.deepEqual(reported, [], "not reported to the seeds");
      assert.ok(!events.includes("neighbour.dead"));
      assert.ok(seed.peers().includes(self), "the seed still lists it");
      await net.clock.advance(1000);
      assert.ok(!peer.neighbours().some((n) => n.addr === self), "not dialled again at once");
    } finally {
      await deaf.close();
      await Promise.all(clients.map((c) => c.close()));
      await net.stop();
    }
  });
});
