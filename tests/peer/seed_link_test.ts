/**
 * Seed links that die silently: a peer whose renewal gets no answer within seedTimeout
 * closes the link and registers again, and a seed takes that new registration once the
 * old connection proves silent. On fake time over the in-memory network, whose cut
 * drops traffic between two hosts while their connections stay up.
 */

import assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "../../lib/wire/messages.ts";
import { DeafListener, FakeNetwork } from "../_fake_network.ts";
import { withLogs } from "../_helpers.ts";
import { WireClient } from "../_wire_client.ts";

Deno.test("a peer whose seed link goes silent closes it after seedTimeout, keeps trying, and registers again soon after the cut heals", async () => {
  await withLogs(async (records) => {
    const net = new FakeNetwork();
    try {
      const seed = await net.addSeed("10.0.0.1");
      const peer = await net.addPeer("10.0.1.1");
      const { livelinessInterval, livelinessMisses, seedTimeout } = peer.settings;
      const renewal = livelinessInterval * livelinessMisses;
      const events = () =>
        records.filter((r) => r.properties.event === "seed.silent" && r.properties.seed === seed.label);
      net.network.cut("10.0.1.1", "10.0.0.1");
      const cutAt = net.clock.now();
      await net.until(() => events().length > 0, "the silent seed link noticed", renewal + 2 * seedTimeout);
      assert.ok(
        net.clock.now() - cutAt <= renewal + seedTimeout + 100,
        `noticed after ${net.clock.now() - cutAt} ms`,
      );
      // While cut, it keeps trying: the attempts time out.
      await net.clock.advance(5 * renewal);
      const failures = records.filter((r) => r.properties.event === "seed.unavailable").length;
      assert.ok(failures >= 2, `${failures} attempts failed while cut`);
      const registrations = () => records.filter((r) => r.properties.event === "seed.peer_list_sent").length;
      const before = registrations();
      net.network.heal("10.0.1.1", "10.0.0.1");
      const healedAt = net.clock.now();
      await net.until(() => registrations() > before, "a registration after the heal");
      assert.ok(
        net.clock.now() - healedAt <= renewal + seedTimeout,
        `registered ${net.clock.now() - healedAt} ms after`,
      );
      // The new link answers: no further silence.
      const silentBefore = events().length;
      await net.clock.advance(3 * renewal);
      assert.equal(events().length, silentBefore, "the new link answers its renewals");
      assert.ok(seed.peers().includes(peer.label));
    } finally {
      await net.stop();
    }
  });
});

Deno.test("a seed takes a new registration of an address whose old connection went silent, and refuses one while the old answers", async () => {
  const net = new FakeNetwork();
  const listener = new DeafListener(net.network, "10.0.5.5");
  const clients: WireClient[] = [];
  const connect = async (answer: boolean) => {
    const client = await net.drive(
      WireClient.over(net.network.transport("10.0.5.5"), net.seeds[0]!.address, (m, c) => {
        if (answer && m.type === "liveliness") c.send({ type: "liveliness_reply", ts: m.ts });
      }),
      "a connection to the seed",
    );
    clients.push(client);
    await client.send({ type: "get_peer_list", version: PROTOCOL_VERSION, addr: listener.addr });
    return client;
  };
  const listed = (c: WireClient) => c.received.some((m) => m.type === "peer_list");
  try {
    const seed = await net.addSeed("10.0.0.1");
    const old = await connect(false);
    await net.until(() => listed(old), "the first registration");
    // The old connection answers nothing now: the new one takes its place.
    const fresh = await connect(true);
    await net.until(() => listed(fresh), "the registration on a new connection", 5000);
    await net.until(() => old.isClosed, "the silent old connection closed");
    assert.deepEqual(seed.peers(), [listener.addr]);
    // The new connection answers: a third claimant is refused.
    const third = await connect(false);
    await net.until(() => third.isClosed, "the third connection refused", 5000);
    assert.ok(!listed(third) && !fresh.isClosed);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await listener.close();
    await net.stop();
  }
});
