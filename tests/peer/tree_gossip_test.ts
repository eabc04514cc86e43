/**
 * Tree gossip: the push links settle into a tree (repeats prune redundant links), an
 * announced message that the tree does not bring is fetched and its link grafted,
 * and flooding stays available; every peer still gets every message exactly once.
 * Every network here runs on fake time (tests/_fake_net.ts): waits are in fake ms.
 */

import assert from "node:assert/strict";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import type { GossipMessage, Message } from "../../lib/wire/messages.ts";
import { countDeliveries } from "../_helpers.ts";
import { FakeGround, fakeNetwork } from "../_fake_net.ts";
import {
  type Answer,
  gossipFrom,
  handNeighbour,
  peerWithClients as peerWith,
  type WireClient,
} from "../_wire_client.ts";

const totalRepeats = (peers: PeerNode[]) => upkeep(peers).repeats;

/** Repeats received and fetches sent by all `peers` so far. */
function upkeep(peers: PeerNode[]): { repeats: number; fetches: number } {
  let repeats = 0;
  let fetches = 0;
  for (const peer of peers) {
    const traffic = peer.traffic();
    repeats += traffic.repeats;
    fetches += traffic.fetches;
  }
  return { repeats, fetches };
}

/** Links whose two ends both push, each once as "a b" with a < b. */
function pushLinks(peers: PeerNode[]): Set<string> {
  const byLabel = new Map(peers.map((p) => [p.label, p]));
  const links = new Set<string>();
  for (const peer of peers) {
    for (const n of peer.neighbours()) {
      const other = byLabel.get(n.addr)?.neighbours().find((m) => m.addr === peer.label);
      if (n.gossip === "push" && other?.gossip === "push") {
        links.add([peer.label, n.addr].sort().join(" "));
      }
    }
  }
  return links;
}

/** Whether the links connect `labels` without a cycle (a spanning tree). */
function isSpanningTree(labels: string[], links: Set<string>): boolean {
  if (links.size !== labels.length - 1) return false;
  const parent = new Map(labels.map((l) => [l, l]));
  const root = (l: string): string => {
    while (parent.get(l) !== l) l = parent.get(l)!;
    return l;
  };
  for (const link of links) {
    const [a, b] = link.split(" ") as [string, string];
    if (root(a) === root(b)) return false;
    parent.set(root(a), root(b));
  }
  return true;
}

/**
 * The gossip message `content` from `origin`, `hops` links away, laid out as peers lay
 * it out (a repeat's hop count and mark are read from the raw frame).
 */
function gossipCopy(origin: string, content: string, hops: number, offTree = false): GossipMessage {
  return gossipFrom(origin, content, hops, offTree);
}

/**
 * Sends a probe on each client and waits for its answer: the peer handles a connection's
 * frames in order, so whatever it sent in answer to earlier frames has arrived by then.
 */
async function answeredMarkers(ground: FakeGround, ...clients: WireClient[]): Promise<void> {
  const replies = (c: WireClient) => c.received.filter((m) => m.type === "liveliness_reply").length;
  const before = clients.map(replies);
  for (const client of clients) await client.send({ type: "liveliness", ts: 7 });
  await ground.waitFor(() => clients.every((c, i) => replies(c) > before[i]!), {
    what: "the markers' replies",
  });
}

/**
 * A peer of its own with `count` hand-written neighbours on fake time. The clock then
 * moves on a millisecond: a first copy seen no later than the link it is repeated on
 * opened prunes nothing (a newcomer's catch-up), and on fake time both would share a tick.
 */
async function peerWithClients<N extends number>(
  count: N,
  settings: Partial<Settings> = {},
  answer?: Answer,
  ground = new FakeGround(),
) {
  const setup = await peerWith(ground, count, settings, answer);
  await setup.net.ground.clock.advance(1);
  return setup;
}

/** The message `content` from `label`, when `request` asks for it by id. */
function answerFetch(request: Message, label: string, content: string): Message | undefined {
  const message = gossipFrom(label, content);
  if (request.type !== "get_data" || !request.ids?.includes(message.id)) return undefined;
  return message;
}

/** Whether `client` received a prune. */
const pruned = (client: WireClient) => client.received.some((m) => m.type === "prune");

Deno.test("gossipMode tree: the push links settle into a spanning tree, after which messages cause no repeats and reach each peer once", async () => {
  const net = await fakeNetwork(3, 20);
  try {
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    let sent = 0;
    /** One message from each peer in turn; returns the repeats and fetches they caused. */
    const round = async () => {
      const before = upkeep(net.peers);
      for (const peer of net.peers) {
        const id = peer.publish(`tree message ${sent++}`).id;
        await net.waitFor(() => counts.get(id) === 20, { what: `20 deliveries of message ${sent}` });
      }
      const after = upkeep(net.peers);
      return after.repeats - before.repeats + after.fetches - before.fetches;
    };
    // Links that opened in the same fake millisecond as a message's first copy never prune
    // for it (a newcomer's catch-up looks like that); on real time a moment passes.
    await net.ground.clock.advance(1);
    // The first messages flood and prune redundant links; a round from every origin
    // without a repeat or a fetch shows the push links have settled. On fake time a round
    // may take no time at all, so rounds are counted as well.
    const settleBy = net.ground.now() + 20_000;
    for (let rounds = 1; await round() !== 0; rounds++) {
      assert.ok(rounds < 20 && net.ground.now() < settleBy, `still repeats after ${rounds} rounds`);
    }
    const tree = pushLinks(net.peers);
    assert.ok(isSpanningTree(net.peers.map((p) => p.label), tree), `push links ${[...tree].join(", ")}`);
    assert.equal(await round(), 0, "no message crossed a redundant link");
    assert.deepEqual(pushLinks(net.peers), tree, "the tree stayed as it was");
    for (const [id, count] of counts) assert.equal(count, 20, `message ${id}`);
    // Every other link only carries announcements.
    const links = net.peers.reduce((n, p) => n + p.neighbours().length, 0) / 2;
    assert.ok(links > tree.size, `${links} links, ${tree.size} in the tree`);
  } finally {
    await net.stop();
  }
});

Deno.test("gossipMode flood: every message goes to every neighbour, and still reaches each peer once", async () => {
  const net = await fakeNetwork(3, 12, { gossipMode: "flood" });
  try {
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    const ids = net.peers.map((peer, i) => peer.publish(`flood ${i}`).id);
    await net.waitFor(() => ids.every((id) => counts.get(id) === 12), {
      what: "12 deliveries of each message",
    });
    // A marker from the last origin: once it is everywhere, no earlier copy is still under way.
    const marker = net.peers[11]!.publish("marker").id;
    await net.waitFor(() => counts.get(marker) === 12, { what: "the marker at every peer" });
    for (const id of ids) assert.equal(counts.get(id), 12, `message ${id}`);
    for (const peer of net.peers) {
      assert.ok(peer.neighbours().every((n) => n.gossip === "push"), `${peer.label} pushes to all`);
      assert.equal(peer.traffic().announcements, 0);
    }
    // Each link carries each message at least one way: repeats are the price of flooding.
    assert.ok(totalRepeats(net.peers) > 0);
  } finally {
    await net.stop();
  }
});

/**
 * A peer with `count` hand-written neighbours; the first prunes its link, then announces
 * `content`, which it alone holds and serves when asked by id. Returns once the peer
 * has it, with how long after the announcement the peer asked.
 */
async function fetchedFromAnnouncer(
  count: number,
  settings: Partial<Settings>,
  content: string,
) {
  const ground = new FakeGround();
  let askedAt: number | undefined;
  const setup = await peerWithClients(count, settings, (m, label) => {
    const reply = answerFetch(m, label, content);
    if (reply) askedAt ??= ground.now();
    return reply;
  }, ground);
  const { net, peer } = setup;
  const [client, me] = [setup.clients[0]!, setup.labels[0]!];
  const id = gossipFrom(me, content).id;
  try {
    await client.send({ type: "prune" });
    await net.waitFor(() => peer.neighbours().find((n) => n.addr === me)?.gossip === "announce", {
      what: "the prune to take effect",
    });
    const announcedAt = net.ground.now();
    await client.send({ type: "ihave", ids: [id], hops: [0] });
    await net.waitFor(() => peer.messages().some((m) => m.id === id), {
      what: "the fetched message",
      timeoutMs: 5000,
    });
    return { ...setup, client, me, id, waited: askedAt! - announcedAt };
  } catch (error) {
    await setup.close();
    throw error;
  }
}

Deno.test("an announced message that is not pushed is fetched from the announcer after fetchTimeout, and the link is grafted", async () => {
  // The second neighbour keeps pushing: the peer is still in the tree, so a push may yet come.
  const { net, peer, client, me, id, waited, close } = await fetchedFromAnnouncer(
    2,
    { fetchTimeout: 100 },
    "only the announcer has it",
  );
  try {
    const asked = client.received.filter((m) => m.type === "get_data" && m.ids !== undefined);
    assert.deepEqual(asked.map((m) => m.type === "get_data" && m.ids), [[id]]);
    // A prune just received ends any extra wait: the ask goes out fetchTimeout after the announcement.
    assert.ok(waited >= 100 && waited < 100 + 20, `asked ${waited} ms after the announcement`);
    await net.waitFor(() => client.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours().find((n) => n.addr === me)!.gossip, "push");
    assert.equal(peer.messages().find((m) => m.id === id)!.from, me);
    // Announcing it again asks for nothing: the peer has it.
    await client.send({ type: "ihave", ids: [id], hops: [0] });
    const marker = peer.publish("after the graft").id;
    await net.waitFor(() => client.received.some((m) => m.type === "message" && m.id === marker), {
      what: "the grafted link to carry a pushed message",
    });
    assert.equal(client.received.filter((m) => m.type === "get_data" && m.ids !== undefined).length, 1);
  } finally {
    await close();
  }
});

Deno.test("a peer that no link pushes to asks for an announced message at once", async () => {
  // A fetchTimeout of a minute: only the no-push-link rule can make the ask come at once.
  const { net, peer, client, waited, close } = await fetchedFromAnnouncer(
    1,
    { fetchTimeout: 60_000 },
    "the tree cannot bring this",
  );
  try {
    assert.equal(waited, 0, "asked in the same fake millisecond as the announcement");
    await net.waitFor(() => client.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours()[0]!.gossip, "push");
  } finally {
    await close();
  }
});

Deno.test("a neighbour that pushes a message the peer already has is pruned to announcements", async () => {
  const { net, peer, clients: [client], labels: [me], close } = await peerWithClients(1);
  try {
    const content = "pushed twice";
    const message = gossipFrom(me, content);
    await client.send(message);
    await net.waitFor(() => peer.messages().length === 1, { what: "the first copy" });
    assert.equal(peer.neighbours()[0]!.gossip, "push");
    await client.send(message);
    await net.waitFor(() => pruned(client), { what: "a prune" });
    assert.equal(peer.neighbours()[0]!.gossip, "announce");
    assert.equal(peer.traffic().repeats, 1);
    // From now on the peer announces its new messages to this neighbour instead of pushing them.
    const own = peer.publish("announced, not pushed").id;
    await net.waitFor(() => client.received.some((m) => m.type === "ihave" && m.ids.includes(own)), {
      what: "an announcement",
    });
    assert.ok(!client.received.some((m) => m.type === "message" && m.id === own));
  } finally {
    await close();
  }
});

Deno.test("of two pushing links that bring the same message, the one on the shorter path stays", async (t) => {
  // [first copy's hops, repeat's hops, which client gets the prune (0: first, 1: repeat, none)]
  const cases: [number, number, number | undefined][] = [
    [5, 2, 0], // the repeat came by a shorter path: the first copy's link goes
    [5, 5, 1], // no shorter: the repeat's link goes
    [5, 6, 1],
    [5, 8, undefined], // its sender would be closer through this peer: it prunes its own link instead
  ];
  for (const [firstHops, repeatHops, prunedIndex] of cases) {
    await t.step(`first ${firstHops} hops, repeat ${repeatHops}`, async () => {
      const { net, peer, clients, labels, close } = await peerWithClients(2);
      try {
        const content = `via ${firstHops} and ${repeatHops}`;
        const copy = (hops: number) => gossipCopy(labels[0], content, hops);
        await clients[0].send(copy(firstHops));
        await net.waitFor(() => peer.messages().length === 1, { what: "the first copy" });
        assert.equal(peer.messages()[0]!.hops, firstHops);
        await clients[1].send(copy(repeatHops));
        await net.waitFor(() => peer.traffic().repeats === 1, { what: "the repeat" });
        // A marker after the repeat: once it is answered, any prune would have been sent before it.
        await answeredMarkers(net.ground, ...clients);
        assert.deepEqual(clients.map(pruned), [prunedIndex === 0, prunedIndex === 1]);
        const gossip = new Map(peer.neighbours().map((n) => [n.addr, n.gossip]));
        assert.equal(gossip.get(labels[0]), prunedIndex === 0 ? "announce" : "push");
        assert.equal(gossip.get(labels[1]), prunedIndex === 1 ? "announce" : "push");
      } finally {
        await close();
      }
    });
  }
});

Deno.test("a repeat of a message seen before its link existed prunes nothing: a newcomer passes on its catch-up", async () => {
  const net = await fakeNetwork(1, 1);
  const peer = net.peers[0]!;
  const old = peer.publish("before the link");
  await net.ground.clock.advance(1);
  const { client, close } = await handNeighbour(net.ground, peer);
  try {
    const { id, origin, originId, content, created, sig } = old;
    await client.send({ type: "message", id, hops: 2, origin, originId, content, created, sig });
    await net.waitFor(() => peer.traffic().repeats === 1, { what: "the repeat" });
    // A marker after the repeat: once it is answered, any prune would have been sent before it.
    await answeredMarkers(net.ground, client);
    assert.equal(
      pruned(client),
      false,
      `pruned: first seen ${old.firstSeen}, link since ${peer.neighbours()[0]!.since}, ${
        JSON.stringify(client.received.map((m) => m.type))
      }`,
    );
    assert.equal(peer.neighbours()[0]!.gossip, "push");
  } finally {
    await close();
    await net.stop();
  }
});

Deno.test("a newcomer catching up on the same history from every neighbour prunes no link, and passes it on marked", async () => {
  const { net, peer, clients, labels, close } = await peerWithClients(3);
  try {
    // History that all three neighbours hold: each serves it as its catch-up answer.
    const history = Array.from(
      { length: 5 },
      (_, i) => gossipCopy("127.0.0.1:9", `old news ${i}`, 3, true),
    );
    for (const client of clients) {
      for (const m of history) await client.send(m);
    }
    await net.waitFor(() => peer.traffic().repeats === 10, { what: "two repeats of each of the 5 messages" });
    assert.deepEqual(peer.messages().map((m) => m.id).sort(), history.map((m) => m.id).sort());
    assert.ok(peer.messages().every((m) => m.offTree));
    // A marker after the history: once it is answered, any prune would have been sent before it.
    await answeredMarkers(net.ground, ...clients);
    assert.equal(peer.traffic().prunes, 0);
    assert.ok(clients.every((c) => !pruned(c)));
    assert.ok(peer.neighbours().every((n) => n.gossip === "push"), "every link still pushes");
    // Each message went on to the two neighbours it did not first come from, marked as history.
    const passedOn = clients.flatMap((c) => c.received.filter((m) => m.type === "message"));
    assert.equal(passedOn.length, 10);
    assert.ok(passedOn.every((m) => m.type === "message" && m.offTree === true && m.hops === 4));
    // The next message under way still reaches every neighbour by push.
    const live = peer.publish("news").id;
    await net.waitFor(
      () => clients.every((c) => c.received.some((m) => m.type === "message" && m.id === live && !m.offTree)),
      { what: `the new message pushed to ${labels.join(", ")}` },
    );
  } finally {
    await close();
  }
});

Deno.test("history is not passed on to a neighbour that listed it in its catch-up request", async () => {
  const { net, peer, clients, close } = await peerWithClients(2);
  try {
    const [holder, server] = clients;
    const history = ["old 1", "old 2", "old 3"].map((content) => gossipCopy("127.0.0.1:9", content, 3, true));
    // The holder has the first two; the other neighbour serves all three.
    await holder.send({ type: "get_data", have: [history[0]!.id, history[1]!.id] });
    for (const m of history) await server.send(m);
    await net.waitFor(() => peer.messages().length === 3, { what: "the history" });
    await net.waitFor(() => holder.received.some((m) => m.type === "message"), { what: "the one it lacks" });
    // A marker after the history: once it is answered, anything passed on was sent before it.
    await answeredMarkers(net.ground, holder);
    const passedOn = holder.received.filter((m): m is GossipMessage => m.type === "message");
    assert.deepEqual(passedOn.map((m) => m.content), ["old 3"]);
    assert.equal(passedOn[0]!.offTree, true);
  } finally {
    await close();
  }
});

Deno.test("a message pushed over a link the peer pruned is passed on marked off the tree, and its repeat prunes nothing", async () => {
  // The cut this prevents: a peer prunes a link for one message while the next one is
  // already on its way over it; passed on unmarked, that copy's hop count describes a path
  // the peer gave up, and a neighbour judging its repeat would cut the link the peer now
  // relies on.
  const { net, peer, clients, labels, close } = await peerWithClients(3);
  try {
    const [a, b, c] = clients;
    const copy = (content: string, hops: number) => gossipCopy("127.0.0.1:9", content, hops);
    // A repeat by no shorter path: the peer prunes a's link.
    await b.send(copy("first", 2));
    await net.waitFor(() => peer.messages().length === 1, { what: "the first message" });
    await a.send(copy("first", 2));
    await net.waitFor(() => pruned(a), { what: "a's link pruned" });
    // a has not seen the prune yet and pushes the next message.
    const next = copy("second", 2);
    await a.send(next);
    await net.waitFor(() => peer.messages().length === 2, { what: "the second message" });
    const passedOn = (client: WireClient) =>
      client.received.find((m): m is GossipMessage => m.type === "message" && m.id === next.id);
    await net.waitFor(() => passedOn(b) !== undefined && passedOn(c) !== undefined, {
      what: `the second message passed on to ${labels[1]} and ${labels[2]}`,
    });
    assert.equal(passedOn(b)!.offTree, true);
    assert.equal(passedOn(c)!.offTree, true);
    // Its repeat over a pushing link prunes nothing either.
    await b.send(copy("second", 2));
    await net.waitFor(() => peer.traffic().repeats === 2, { what: "the repeat" });
    await answeredMarkers(net.ground, ...clients);
    assert.equal(peer.traffic().prunes, 1);
    const gossip = new Map(peer.neighbours().map((n) => [n.addr, n.gossip]));
    assert.deepEqual([gossip.get(labels[0]), gossip.get(labels[1]), gossip.get(labels[2])], [
      "announce",
      "push",
      "push",
    ]);
  } finally {
    await close();
  }
});

Deno.test("a peer that loses a pushing neighbour turns its announce links to push at both ends", async () => {
  const { net, peer, clients, labels, close } = await peerWithClients(2);
  try {
    const [pushing, announcing] = clients;
    await announcing.send({ type: "prune" });
    await net.waitFor(() => peer.neighbours().find((n) => n.addr === labels[1])?.gossip === "announce", {
      what: "the prune to take effect",
    });
    assert.equal(announcing.received.some((m) => m.type === "graft"), false);
    await pushing.close();
    await net.waitFor(() => announcing.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours().find((n) => n.addr === labels[1])!.gossip, "push");
    const marker = peer.publish("after the loss").id;
    await net.waitFor(() => announcing.received.some((m) => m.type === "message" && m.id === marker), {
      what: "the rejoined link to carry a pushed message",
    });
  } finally {
    await close();
  }
});

Deno.test("a repeat prunes only while its message is the newest here: with several under way, nothing is cut", async () => {
  const { net, peer, clients, labels, close } = await peerWithClients(2);
  try {
    const copy = (content: string, hops: number) => gossipCopy(labels[0], content, hops);
    await clients[0].send(copy("older", 2));
    await clients[0].send(copy("newer", 2));
    await net.waitFor(() => peer.messages().length === 2, { what: "both first copies" });
    // The older one again by a longer path: alone it would prune this link.
    await clients[1].send(copy("older", 3));
    await net.waitFor(() => peer.traffic().repeats === 1, { what: "the older repeat" });
    await answeredMarkers(net.ground, ...clients);
    assert.ok(!clients.some(pruned));
    assert.deepEqual(peer.neighbours().map((n) => n.gossip), ["push", "push"]);
    // A repeat of the newest message is judged as before.
    await clients[1].send(copy("newer", 3));
    await net.waitFor(() => pruned(clients[1]), { what: "a prune" });
    assert.ok(!pruned(clients[0]));
  } finally {
    await close();
  }
});

Deno.test("an announcement round leaves out the ids a neighbour announced itself", async () => {
  const { net, peer, clients, labels, close } = await peerWithClients(2, { announceInterval: 300 });
  try {
    await clients[0].send({ type: "prune" });
    await net.waitFor(() => peer.neighbours().find((n) => n.addr === labels[0])?.gossip === "announce", {
      what: "the prune to take effect",
    });
    const ids = ["known", "new"].map((content) => gossipFrom(labels[1], content).id);
    for (const content of ["known", "new"]) await clients[1].send(gossipFrom(labels[1], content));
    await net.waitFor(() => peer.messages().length === 2, { what: "both messages" });
    await clients[0].send({ type: "ihave", ids: [ids[0]!], hops: [1] });
    await net.waitFor(() => clients[0].received.some((m) => m.type === "ihave" && m.ids.includes(ids[1]!)), {
      what: "the announcement round",
    });
    const announced = clients[0].received.flatMap((m) => m.type === "ihave" ? m.ids : []);
    assert.deepEqual(announced, [ids[1]]);
    // The sender of both is not told of them either.
    assert.ok(!clients[1].received.some((m) => m.type === "ihave"));
  } finally {
    await close();
  }
});
