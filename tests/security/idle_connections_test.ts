/**
 * Connections that hold a slot without doing their part: one that sent a frame and then
 * nothing, a frame trickled byte by byte, and many connections from one host. On fake
 * time over the in-memory network, so minutes of trickling take milliseconds.
 */

import assert from "node:assert/strict";
import { encodeFrame } from "../../lib/wire/codec.ts";
import { FakeNetwork } from "../_fake_network.ts";
import { MAX_FRAME_BYTES, withLogs } from "../_helpers.ts";
import { WireClient } from "../_wire_client.ts";

const replied = (client: WireClient, ts: number) =>
  client.received.some((m) => m.type === "liveliness_reply" && m.ts === ts);

Deno.test("a connection that sent a frame and then nothing is closed after idleTimeout; a registration is not", async () => {
  await withLogs(async (records) => {
    // Renewals every 30 s: the registered peer's seed link stays silent past the idle timeout.
    const net = new FakeNetwork({
      settings: { idleTimeout: 3000, livelinessInterval: 10_000, probeTimeout: 150 },
    });
    try {
      const seed = await net.addSeed("10.0.0.1");
      const peer = await net.addPeer("10.0.1.1");
      const client = await net.drive(
        WireClient.over(net.network.transport("10.0.9.9"), seed.address),
        "a connection",
      );
      await client.send({ type: "liveliness", ts: 7 });
      await net.until(() => replied(client, 7), "the probe's reply");
      const answeredAt = net.clock.now();
      await net.until(() => client.isClosed, "the idle connection to close", 10_000);
      const idle = net.clock.now() - answeredAt;
      // The sweep runs every second here: the close may come up to that late.
      assert.ok(idle >= 3000 && idle <= 4000, `closed after ${idle} ms idle`);
      assert.ok(records.some((r) => r.properties.event === "connection.idle"));
      await net.clock.advance(10_000);
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
  const net = new FakeNetwork({ settings: { frameTimeout: 1000 } });
  try {
    const seed = await net.addSeed("10.0.0.1");
    const client = await net.drive(
      WireClient.over(net.network.transport("10.0.9.9"), seed.address),
      "a connection",
    );
    await client.send({ type: "liveliness", ts: 1 });
    await net.until(() => replied(client, 1), "the first reply");
    const frame = encodeFrame({ type: "liveliness", ts: 2 }, MAX_FRAME_BYTES);
    const started = net.clock.now();
    let sent = 0;
    while (!client.isClosed && sent < frame.length) {
      await client.writeRaw(frame.subarray(sent, ++sent));
      await net.clock.advance(300);
    }
    const took = net.clock.now() - started;
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
  const net = new FakeNetwork({
    settings: { maxConnections: 10, maxConnectionsPerHost: 4, idleTimeout: 60_000 },
  });
  try {
    const seed = await net.addSeed("10.0.0.1");
    const flood: WireClient[] = [];
    for (let i = 0; i < 12; i++) {
      const client = await net.drive(
        WireClient.over(net.network.transport("10.0.9.9"), seed.address),
        "a connection",
      );
      flood.push(client);
      await client.send({ type: "liveliness", ts: i });
    }
    await net.until(() => flood.filter((c) => c.isClosed).length === 8, "8 of 12 refused");
    assert.equal(flood.filter((c) => !c.isClosed && replied(c, flood.indexOf(c))).length, 4);
    const peer = await net.addPeer("10.0.1.1");
    assert.deepEqual(peer.registeredSeeds(), [seed.label], "a peer from another host registered");
    await Promise.all(flood.map((c) => c.close()));
  } finally {
    await net.stop();
  }
});
