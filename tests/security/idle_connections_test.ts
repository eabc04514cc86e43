/**
 * Connections that hold a slot without doing their part: one that sent a frame and then
 * nothing, a frame trickled byte by byte, and many connections from one host. On fake
 * time over the in-memory network, so minutes of trickling take milliseconds.
 */

import assert from "node:assert/strict";
import { encodeFrame } from "../../lib/wire/codec.ts";
import type { TestNetwork } from "../_helpers.ts";
import { type FakeGround, fakeNetwork } from "../_fake_net.ts";
import { MAX_FRAME_BYTES, withLogs } from "../_helpers.ts";
import { WireClient } from "../_wire_client.ts";

const replied = (client: WireClient, ts: number) =>
  client.received.some((m) => m.type === "liveliness_reply" && m.ts === ts);

/** A hand-written connection to the seed from `host` (a host of its own by default). */
function connect(net: TestNetwork<FakeGround>, host = net.ground.host()): Promise<WireClient> {
  const transport = net.ground.transport(host);
  return net.ground.run(WireClient.connect(net.seeds[0]!.address, { transport }), "a connection");
}

Deno.test("a connection that sent a frame and then nothing is closed after idleTimeout; a registration is not", async () => {
  await withLogs(async (records) => {
    // Renewals every 30 s: the registered peer's seed link stays silent past the idle timeout.
    const net = await fakeNetwork(1, 1, { idleTimeout: 3000, livelinessInterval: 10_000, probeTimeout: 150 });
    try {
      const [seed, peer] = [net.seeds[0]!, net.peers[0]!];
      const client = await connect(net);
      await client.send({ type: "liveliness", ts: 7 });
      await net.waitFor(() => replied(client, 7), { what: "the probe's reply" });
      const answeredAt = net.ground.now();
      await net.waitFor(() => client.isClosed, { what: "the idle connection to close" });
      const idle = net.ground.now() - answeredAt;
      // The sweep runs every second here: the close may come up to that late.
      assert.ok(idle >= 3000 && idle <= 4000, `closed after ${idle} ms idle`);
      assert.ok(records.some((r) => r.properties.event === "connection.idle"));
      await net.ground.clock.advance(10_000);
      assert.deepEqual(peer.registeredSeeds(), [seed.label]);
      assert.ok(
        !records.some((r) => r.properties.event === "seed.connection_closed"),
        "the registration's link stayed open",
      );
      await client.close();
    } finally {
      await net.stop();
    }
  });
});

Deno.test("a frame trickled a byte every 300 ms is closed frameTimeout after its first byte, though bytes keep coming", async () => {
  const net = await fakeNetwork(1, 0, { frameTimeout: 1000 });
  try {
    const client = await connect(net);
    await client.send({ type: "liveliness", ts: 1 });
    await net.waitFor(() => replied(client, 1), { what: "the first reply" });
    const frame = encodeFrame({ type: "liveliness", ts: 2 }, MAX_FRAME_BYTES);
    const started = net.ground.now();
    let sent = 0;
    while (!client.isClosed && sent < frame.length) {
      await client.writeRaw(frame.subarray(sent, ++sent));
      await net.ground.clock.advance(300);
    }
    const took = net.ground.now() - started;
    assert.ok(client.isClosed, `still open after all ${frame.length} bytes`);
    assert.ok(
      sent < frame.length && took >= 1000 && took <= 1800,
      `closed after ${sent} bytes and ${took} ms`,
    );
  } finally {
    await net.stop();
  }
});

Deno.test("connections from one host past maxConnectionsPerHost are refused, and a peer from another host still joins", async () => {
  const net = await fakeNetwork(1, 0, { maxConnections: 10, maxConnectionsPerHost: 4, idleTimeout: 60_000 });
  try {
    const host = net.ground.host();
    const flood: WireClient[] = [];
    for (let i = 0; i < 12; i++) {
      const client = await connect(net, host);
      flood.push(client);
      await client.send({ type: "liveliness", ts: i });
    }
    await net.waitFor(() => flood.filter((c) => c.isClosed).length === 8, { what: "8 of 12 refused" });
    assert.equal(flood.filter((c) => !c.isClosed && replied(c, flood.indexOf(c))).length, 4);
    const peer = await net.addPeer();
    assert.deepEqual(peer.registeredSeeds(), [net.seeds[0]!.label], "a peer from another host registered");
    await Promise.all(flood.map((c) => c.close()));
  } finally {
    await net.stop();
  }
});
