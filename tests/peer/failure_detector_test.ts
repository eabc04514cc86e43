/**
 * The failure detector, on fake time unless said otherwise: which neighbours a probe
 * round probes, and a neighbour that stops answering reported after the configured
 * misses and a direct probe, then dropped by every seed, within a bound.
 */

import assert from "node:assert/strict";
import type { Settings } from "../../lib/settings/config.ts";
import { TestNetwork } from "../_helpers.ts";
import { FakeGround, fakeNetwork } from "../_fake_net.ts";
import { HandNode, peerWithClients, type WireClient } from "../_wire_client.ts";

Deno.test("a neighbour heard from within half a liveliness interval is not probed; a quiet one is", async () => {
  const { net, peer, clients, close } = await peerWithClients(new FakeGround(), 2);
  try {
    const [chatty, quiet] = clients;
    const interval = net.settings.livelinessInterval!;
    // The chatty neighbour sends a frame every quarter interval; the quiet one only answers probes.
    const probes = (c: WireClient) => c.received.filter((m) => m.type === "liveliness").length;
    const started = net.ground.now();
    while (probes(quiet) < 3) {
      assert.ok(net.ground.now() - started < 10_000, "three probes of the quiet neighbour within 10 s");
      await chatty.send({ type: "liveliness_reply", ts: 1 });
      await net.ground.clock.advance(interval / 4);
    }
    assert.ok(net.ground.now() - started >= 2 * interval);
    assert.equal(probes(chatty), 0);
    assert.ok(peer.neighbours().every((n) => n.misses <= 1));
  } finally {
    await close();
  }
});

/**
 * A frozen peer (open connections, no answers) is reported by its neighbours and dropped
 * by every seed of `net`: no sooner than its misses allow, and within a bound.
 */
async function frozenPeerIsDropped(net: TestNetwork): Promise<void> {
  const { livelinessInterval, livelinessMisses, probeTimeout } = net.settings as Settings;
  const silent = new HandNode({ ground: net.ground });
  try {
    await silent.register(net.seedAddresses);
    await net.waitFor(() => net.seedsListing(silent.label).length === 3, {
      what: "the silent peer to register",
    });
    const reports: string[] = [];
    for (let i = 0; i < 3; i++) {
      const peer = await net.addPeer();
      peer.events.on("deathReported", ({ addr, why }) => addr === silent.label && reports.push(why));
    }
    const linked = net.peers.filter((p) => p.neighbours().some((n) => n.addr === silent.label));
    assert.ok(linked.length > 0, "some peer took the silent peer as a neighbour");
    silent.freeze();
    const started = net.ground.now();
    await net.waitFor(() => net.seedsListing(silent.label).length === 0, {
      what: "every seed to drop the silent peer",
    });
    const elapsed = net.ground.now() - started;
    assert.ok(
      reports.length > 0 &&
        reports.every((why) =>
          why.startsWith(`missed ${livelinessMisses} liveliness probes; direct probe: `)
        ),
      `reports: ${reports}`,
    );
    // Neighbours need misses × interval (+ a probe timeout); a seed then probes the accused itself,
    // misses + 1 times an interval apart, since a silent peer may only be busy.
    const bound = 6 * livelinessInterval + 4 * probeTimeout + 1000;
    assert.ok(elapsed < bound, `dropped after ${elapsed} ms, bound ${bound} ms`);
    assert.ok(elapsed >= (livelinessMisses - 1) * livelinessInterval, `dropped after only ${elapsed} ms`);
    for (const peer of net.peers) assert.ok(!peer.neighbours().some((n) => n.addr === silent.label));
    await net.waitFor(() => net.isConnected(), { what: "the real peers to stay connected" });
  } finally {
    await net.stop();
    await silent.close();
  }
}

Deno.test("a neighbour that stops answering probes is reported after livelinessMisses misses and every seed drops it", async () => {
  await frozenPeerIsDropped(await fakeNetwork(3, 0));
});

Deno.test("a neighbour that stops answering probes is reported and dropped on real sockets and real time too", async () => {
  await frozenPeerIsDropped(await TestNetwork.start(3, 0));
});

Deno.test("a frozen neighbour is found even when probeTimeout equals livelinessInterval", async () => {
  await frozenPeerIsDropped(await fakeNetwork(3, 0, { livelinessInterval: 200, probeTimeout: 200 }));
});
