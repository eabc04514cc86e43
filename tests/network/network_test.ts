/**
 * Whole networks on real sockets and real time, end to end: registration, delivery,
 * crashes found, clean leaves, seeds down, catch-up. The overlay, the tree and the
 * failure detector in detail run on fake time (tests/peer/), with a frozen peer found
 * on real sockets as well (tests/peer/failure_detector_test.ts).
 */

import assert from "node:assert/strict";
import { type Address, formatAddress } from "../../lib/wire/address.ts";
import { JoinError, PeerNode } from "../../lib/peer/peer_node.ts";
import { countDeliveries, FAST, TestNetwork, waitFor } from "../_helpers.ts";
import { freePorts } from "../_process.ts";
import { handNeighbour, HandNode } from "../_wire_client.ts";

/** An address on 127.0.0.1 that nothing listens on (connecting is refused). */
function closedPort(): Address {
  return { host: "127.0.0.1", port: freePorts(1)[0]! };
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
  // A seed that accepts connections but never answers a registration: the join must time out on it, not hang.
  const blackHole = new HandNode({ acceptsNeighbours: false });
  const refused = closedPort();
  const silent = blackHole.address;
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
    await blackHole.close();
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
  const peer = net.peers[0]!;
  const ids = ["one", "two", "three"].map((text) => peer.publish(text).id);
  const { client, label: me, close } = await handNeighbour(net.ground, peer);
  try {
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
    await close();
    await net.stop();
  }
});
