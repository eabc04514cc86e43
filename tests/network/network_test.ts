import assert from "node:assert/strict";
import { type Address, formatAddress } from "../../lib/wire/address.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { JoinError, PeerNode } from "../../lib/peer/peer_node.ts";
import { countDeliveries, FAST, TestNetwork, waitFor } from "../_helpers.ts";
import { NodeIdentity, SilentPeer, WireClient } from "../_wire_client.ts";

/** A port on 127.0.0.1 that nothing listens on (connecting is refused). */
function closedPort(): Address {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return { host: "127.0.0.1", port };
}

Deno.test("3 seeds and 20 peers: majority registration, a connected overlay, every message delivered exactly once", async () => {
  const net = await TestNetwork.start(3, 20);
  try {
    for (const peer of net.peers) {
      assert.ok(
        peer.registeredSeeds().length >= 2,
        `${peer.label} registered with ${peer.registeredSeeds()}`,
      );
      assert.ok(
        net.seedsListing(peer.label).length >= 2,
        `${peer.label} listed by ${net.seedsListing(peer.label)}`,
      );
    }
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    const published = net.peers.map((peer, i) => peer.publish(`message ${i} from ${peer.label}`).id);
    await waitFor(() => published.every((id) => counts.get(id) === 20), {
      what: "20 deliveries of each message",
    });
    // Let any straggling duplicate arrive: a further round of gossip must not change the counts.
    const marker = net.peers[0]!.publish("marker").id;
    await waitFor(() => counts.get(marker) === 20, { what: "the marker message" });
    for (const id of published) assert.equal(counts.get(id), 20, `message ${id}`);
    for (const peer of net.peers) assert.equal(peer.messages().length, 21);
  } finally {
    await net.stop();
  }
});

Deno.test("a peer that crashes is reported by its neighbours, dropped by every seed, and the rest still get every message", async () => {
  const net = await TestNetwork.start(3, 10);
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const victim = net.peers[3]!;
    const neighbours = victim.neighbours().map((n) => n.addr);
    assert.ok(neighbours.length > 0);
    await victim.stop({ graceful: false });
    await waitFor(() => net.seedsListing(victim.label).length === 0, {
      what: "every seed to drop the crashed peer",
    });
    const survivors = net.live;
    await waitFor(() => survivors.every((p) => !p.neighbours().some((n) => n.addr === victim.label)), {
      what: "neighbours to forget the crashed peer",
    });
    await waitFor(() => net.isConnected(), { what: "the overlay to heal" });
    const counts = countDeliveries(survivors);
    const ids = survivors.map((p, i) => p.publish(`after crash ${i}`).id);
    await waitFor(() => ids.every((id) => counts.get(id) === survivors.length), {
      what: "delivery to all survivors",
    });
  } finally {
    await net.stop();
  }
});

/** A frozen peer (open sockets, no answers) is reported by its neighbours and dropped by every seed. */
async function frozenPeerIsDropped(settings: Partial<Settings>): Promise<void> {
  const net = await TestNetwork.start(3, 0, settings);
  const { livelinessInterval, probeTimeout } = { ...FAST, ...settings } as Settings;
  const silent = new SilentPeer();
  try {
    await silent.register(net.seedAddresses);
    await waitFor(() => net.seedsListing(silent.label).length === 3, { what: "the silent peer to register" });
    const reports: string[] = [];
    for (let i = 0; i < 3; i++) {
      const peer = await net.addPeer();
      peer.events.on("deathReported", ({ addr, why }) => addr === silent.label && reports.push(why));
    }
    const linked = net.peers.filter((p) => p.neighbours().some((n) => n.addr === silent.label));
    assert.ok(linked.length > 0, "some peer took the silent peer as a neighbour");
    silent.freeze();
    const started = Date.now();
    await waitFor(() => net.seedsListing(silent.label).length === 0, {
      what: "every seed to drop the silent peer",
    });
    const elapsed = Date.now() - started;
    assert.ok(
      reports.length > 0 &&
        reports.every((why) => why.startsWith("missed 3 liveliness probes; direct probe: ")),
      `reports: ${reports}`,
    );
    // Neighbours need misses × interval (+ a probe timeout); a seed then probes the accused itself,
    // misses + 1 times an interval apart, since a silent peer may only be busy.
    const bound = 6 * livelinessInterval + 4 * probeTimeout + 1000;
    assert.ok(elapsed < bound, `dropped after ${elapsed} ms, bound ${bound} ms`);
    for (const peer of net.peers) assert.ok(!peer.neighbours().some((n) => n.addr === silent.label));
    await waitFor(() => net.isConnected(), { what: "the real peers to stay connected" });
  } finally {
    await net.stop();
    await silent.close();
  }
}

Deno.test("a peer that stops answering probes is reported after the configured misses and every seed drops it", async () => {
  await frozenPeerIsDropped({});
});

Deno.test("a frozen peer is found even when the probe timeout equals the liveliness interval", async () => {
  await frozenPeerIsDropped({ livelinessInterval: 200, probeTimeout: 200 });
});

Deno.test("a peer that dies while a seed is still checking a report about it is removed", async () => {
  const net = await TestNetwork.start(1, 0);
  const silent = new SilentPeer();
  try {
    const seed = net.seeds[0]!;
    await silent.register(net.seedAddresses);
    await waitFor(() => seed.peers().includes(silent.label), { what: "the silent peer to register" });
    await net.addPeer();
    silent.freeze();
    // The peer's neighbour reports it; while the seed's re-probes run, it renews its
    // registration once more and then dies: the refusal must still settle the check.
    await waitFor(() => net.peers[0]!.neighbours().length === 0, { what: "the neighbour to give up on it" });
    const renewal = silent.clients[0]!;
    await renewal.send(await renewal.registration(silent.identity, silent.label));
    await silent.close();
    await waitFor(() => !seed.peers().includes(silent.label), { what: "the seed to drop the dead peer" });
  } finally {
    await net.stop();
    await silent.close();
  }
});

Deno.test("a peer that stops cleanly is gone from every seed at once", async () => {
  const net = await TestNetwork.start(3, 5);
  try {
    const leaver = net.peers[2]!;
    assert.ok(net.seedsListing(leaver.label).length >= 2);
    const removals: string[] = [];
    for (const seed of net.seeds) {
      seed.events.on("removed", (e) => e.addr === leaver.label && removals.push(e.reason));
    }
    await leaver.stop();
    // "At once": far sooner than one liveliness interval, the time a death report would take.
    await waitFor(() => net.seedsListing(leaver.label).length === 0, {
      timeoutMs: FAST.livelinessInterval! / 2,
      what: "seeds to drop the leaving peer",
    });
    assert.ok(removals.length >= 2 && removals.every((r) => r === "leaving"));
    for (const peer of net.live) {
      await waitFor(() => !peer.neighbours().some((n) => n.addr === leaver.label), {
        what: "neighbours to drop it",
      });
    }
  } finally {
    await net.stop();
  }
});

Deno.test("the first peers to join get their outbound neighbours long before their next overlay round", async () => {
  // Overlay rounds every 20 s (the first at 10 to 20 s) and registrations renewed (which
  // also brings a peer list) every 60 s: the first peer joins an empty network and the
  // second knows only the first, so only asking the seeds again soon (after
  // overlayInterval / 20, then doubling) gets them 2 outbound links within 8 s, or every
  // other peer as a neighbour, the most a peer can have.
  const net = await TestNetwork.start(1, 6, {
    overlayInterval: 20_000,
    livelinessInterval: 20_000,
    degree: 2,
  });
  try {
    const joined = (peer: PeerNode) => {
      const neighbours = peer.neighbours();
      return neighbours.length === 5 || neighbours.filter((n) => n.direction === "outbound").length === 2;
    };
    await waitFor(() => net.peers.every(joined), {
      timeoutMs: 8_000,
      what: "every peer to have 2 outbound neighbours",
    });
    assert.ok(net.isConnected());
  } finally {
    await net.stop();
  }
});

Deno.test("a peer whose chosen neighbour declines dials another candidate at once", async () => {
  // Six of the eight candidates are full (maxInbound 0) and decline; overlay rounds come
  // every 20 s, so only dialling another candidate right after a decline gets the new peer
  // its 2 outbound links within 5 s (unless its first pick is the two open ones: 1 in 28).
  const slow = { overlayInterval: 20_000, livelinessInterval: 20_000, degree: 1 };
  const net = await TestNetwork.start(1, 0, slow);
  try {
    for (const maxInbound of [0, 0, 0, 0, 0, 0, 12, 12]) await net.addPeer({ maxInbound });
    const newcomer = await net.addPeer({ degree: 2 });
    await waitFor(() => newcomer.neighbours().filter((n) => n.direction === "outbound").length === 2, {
      timeoutMs: 5_000,
      what: "the newcomer to have 2 outbound neighbours",
    });
  } finally {
    await net.stop();
  }
});

Deno.test("with 1 of 3 seeds down peers still join", async () => {
  const net = await TestNetwork.start(2, 0);
  try {
    const seeds = [...net.seedAddresses, closedPort()];
    for (let i = 0; i < 4; i++) {
      const peer = await net.addPeer({ seeds });
      assert.equal(peer.registeredSeeds().length, 2);
    }
  } finally {
    await net.stop();
  }
});

Deno.test("with 2 of 3 seeds down the join fails with a clear error in bounded time", async () => {
  const net = await TestNetwork.start(1, 0);
  // A seed that accepts connections but never answers: the join must time out on it, not hang.
  const blackHole = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of blackHole) held.push(conn);
  })().catch(() => {});
  const refused = closedPort();
  const silent = { host: "127.0.0.1", port: (blackHole.addr as Deno.NetAddr).port };
  const seedTimeout = 400;
  const peer = new PeerNode({
    host: "127.0.0.1",
    port: 0,
    settings: { ...FAST, seedTimeout, seeds: [net.seedAddresses[0]!, refused, silent] },
  });
  try {
    const started = Date.now();
    const error = await peer.start().then(() => undefined, (e) => e);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof JoinError, `expected JoinError, got ${error}`);
    assert.match(error.message, /^registered with 1 of 3 seeds, need 2: /);
    assert.ok(error.message.includes(`${formatAddress(refused)} refused`), error.message);
    assert.ok(error.message.includes(`${formatAddress(silent)} timed out`), error.message);
    assert.ok(elapsed < 3 * seedTimeout + 500, `join failed after ${elapsed} ms`);
  } finally {
    await peer.stop();
    await net.stop();
    blackHole.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

Deno.test("a peer that joins after 10 messages were gossiped catches up on all 10 through getData", async () => {
  const net = await TestNetwork.start(3, 6);
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    const ids = Array.from({ length: 10 }, (_, i) => net.peers[i % 6]!.publish(`early ${i}`).id);
    await waitFor(() => ids.every((id) => counts.get(id) === 6), { what: "the early messages to spread" });
    const late = await net.addPeer();
    await waitFor(() => ids.every((id) => late.messages().some((m) => m.id === id)), {
      what: "the late peer to hold all 10 early messages",
    });
    assert.equal(late.messages().length, 10);
  } finally {
    await net.stop();
  }
});

Deno.test("getData answers with the named messages, or with every message the asker lacks", async () => {
  const net = await TestNetwork.start(1, 1);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await WireClient.connect(net.peers[0]!.address);
  try {
    const peer = net.peers[0]!;
    const ids = ["one", "two", "three"].map((text) => peer.publish(text).id);
    const me = formatAddress({ host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
    await client.send(await client.peerRequest(NodeIdentity.generate(), me));
    await waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
      what: "acceptance",
    });
    await client.send({ type: "get_data", ids: [ids[1]!] });
    const gossip = () =>
      client.received.filter((m) => m.type === "message").map((m) => m.type === "message" && m.id);
    await waitFor(() => gossip().length === 1, { what: "the named message" });
    assert.deepEqual(gossip(), [ids[1]]);
    await client.send({ type: "get_data", have: [ids[0]!] });
    await waitFor(() => gossip().length === 3, { what: "the messages the asker lacks" });
    assert.deepEqual(gossip(), [ids[1], ids[1], ids[2]]);
    // A catch-up serves history, marked as such; an ask by id is a message under way.
    const marks = client.received.filter((m) => m.type === "message").map((m) =>
      m.type === "message" && m.offTree
    );
    assert.deepEqual(marks, [undefined, true, true]);
    assert.equal(peer.requestData("127.0.0.1:1", ids), false, "requestData needs a neighbour");
    assert.equal(peer.requestData(me, ids), true);
    await waitFor(() => client.received.some((m) => m.type === "get_data"), {
      what: "the peer's own getData",
    });
  } finally {
    await client.close();
    listener.close();
    await net.stop();
  }
});

Deno.test("peers keep a bounded number of neighbours and refill after losing some", async () => {
  const net = await TestNetwork.start(3, 12, { degree: 3, maxInbound: 4 });
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    for (const peer of net.peers) {
      const n = peer.neighbours();
      assert.ok(n.filter((x) => x.direction === "inbound").length <= 4, `${peer.label} inbound bound`);
      assert.ok(n.filter((x) => x.direction === "outbound").length <= 3, `${peer.label} outbound bound`);
    }
    // Peers that lose neighbours open new outbound connections until they have `degree` again.
    await Promise.all(net.peers.slice(0, 3).map((p) => p.stop()));
    // With 9 survivors a peer may find every other peer already its neighbour or full
    // (4 inbound): then it rightly stays below its degree.
    const count = (p: PeerNode, direction: string) =>
      p.neighbours().filter((x) => x.direction === direction).length;
    const cannotGrow = (p: PeerNode) =>
      net.live.every((q) =>
        q === p || p.neighbours().some((n) => n.addr === q.label) || count(q, "inbound") >= 4
      );
    await waitFor(
      () => net.live.every((p) => count(p, "outbound") === 3 || cannotGrow(p)),
      { what: "every survivor to hold 3 outbound neighbours again, or to have no candidate left" },
    );
    assert.ok(net.live.some((p) => count(p, "outbound") === 3));
  } finally {
    await net.stop();
  }
});
