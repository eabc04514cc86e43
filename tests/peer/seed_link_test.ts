/**
 * Seed links that die silently: a peer whose renewal gets no answer within seedTimeout
 * closes the link and registers again, and a seed takes that new registration once the
 * old connection proves silent. On fake time over the in-memory network, whose cut
 * drops traffic between two hosts while their connections stay up.
 */

import assert from "node:assert/strict";
import { fakeNetwork, hostsOf } from "../_fake_net.ts";
import { withLogs } from "../_helpers.ts";
import { HandNode, WireClient } from "../_wire_client.ts";

Deno.test("a peer whose seed link goes silent closes it after seedTimeout, keeps trying, and registers again soon after the cut heals", async () => {
  await withLogs(async (records) => {
    const net = await fakeNetwork(1, 1);
    try {
      const [seed, peer] = [net.seeds[0]!, net.peers[0]!];
      const { livelinessInterval, livelinessMisses, seedTimeout } = peer.settings;
      const renewal = livelinessInterval * livelinessMisses;
      const count = (event: string) => records.filter((r) => r.properties.event === event).length;
      const [peerHosts, seedHosts] = [hostsOf([peer]), hostsOf([seed])];
      net.ground.cut(peerHosts, seedHosts);
      const cutAt = net.ground.now();
      await net.waitFor(() => count("seed.silent") > 0, {
        what: "the silent seed link noticed",
        timeoutMs: renewal + 2 * seedTimeout,
      });
      const noticed = net.ground.now() - cutAt;
      assert.ok(noticed <= renewal + seedTimeout + 100, `noticed after ${noticed} ms`);
      // While cut, it keeps trying: the attempts time out.
      await net.ground.clock.advance(5 * renewal);
      assert.ok(count("seed.unavailable") >= 2, `${count("seed.unavailable")} attempts failed while cut`);
      const before = count("seed.peer_list_sent");
      net.ground.heal(peerHosts, seedHosts);
      const healedAt = net.ground.now();
      await net.waitFor(() => count("seed.peer_list_sent") > before, {
        what: "a registration after the heal",
      });
      const after = net.ground.now() - healedAt;
      assert.ok(after <= renewal + seedTimeout, `registered ${after} ms after`);
      // The new link answers its renewals: no more silence.
      const silent = count("seed.silent");
      await net.ground.clock.advance(3 * renewal);
      assert.equal(count("seed.silent"), silent);
      assert.ok(seed.peers().includes(peer.label));
    } finally {
      await net.stop();
    }
  });
});

Deno.test("a seed takes a new registration of an address whose old connection went silent, and refuses one while the old answers", async () => {
  const net = await fakeNetwork(1, 0);
  // It answers the seed's probe of its address; its registration connections are played below.
  const node = new HandNode({ ground: net.ground });
  const clients: WireClient[] = [];
  const register = async (answers: boolean) => {
    const client = await net.ground.run(
      WireClient.connect(net.seeds[0]!.address, {
        transport: net.ground.transport(node.address.host),
        onMessage: (m, c) => {
          if (answers && m.type === "liveliness") c.send({ type: "liveliness_reply", ts: m.ts });
        },
      }),
      "a connection to the seed",
    );
    clients.push(client);
    await client.send(
      await net.ground.run(client.registration(node.identity, node.label), "the seed's challenge"),
    );
    return client;
  };
  const listed = (c: WireClient) => c.received.some((m) => m.type === "peer_list");
  try {
    const seed = net.seeds[0]!;
    const old = await register(false);
    await net.waitFor(() => listed(old), { what: "the first registration" });
    // The old connection answers nothing now: the new one takes its place.
    const fresh = await register(true);
    await net.waitFor(() => listed(fresh), { what: "the registration on a new connection", timeoutMs: 5000 });
    await net.waitFor(() => old.isClosed, { what: "the silent old connection closed" });
    assert.deepEqual(seed.peers(), [node.label]);
    // The new connection answers: a third claimant is refused.
    const third = await register(false);
    await net.waitFor(() => third.isClosed, { what: "the third connection refused", timeoutMs: 5000 });
    assert.ok(!listed(third) && !fresh.isClosed);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await node.close();
    await net.stop();
  }
});
