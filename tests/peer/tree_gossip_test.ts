/**
 * Tree gossip: the push links settle into a tree (repeats prune redundant links), an
 * announced message that the tree does not bring is fetched and its link grafted,
 * and flooding stays available; every peer still gets every message exactly once.
 */

import assert from "node:assert/strict";
import { formatAddress } from "../../lib/wire/address.ts";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import type { GossipMessage, Message } from "../../lib/wire/messages.ts";
import { countDeliveries, TestNetwork, waitFor } from "../_helpers.ts";
import { gossipFrom, identityFor, WireClient } from "../_wire_client.ts";

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
async function answeredMarkers(...clients: WireClient[]): Promise<void> {
  const replies = (c: WireClient) => c.received.filter((m) => m.type === "liveliness_reply").length;
  const before = clients.map(replies);
  for (const client of clients) await client.send({ type: "liveliness", ts: 7 });
  await waitFor(() => clients.every((c, i) => replies(c) > before[i]!), { what: "the markers' replies" });
}

Deno.test("tree gossip: the push links settle into a spanning tree, later messages cause no repeats, each peer gets each message once", async () => {
  const net = await TestNetwork.start(3, 20);
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    let sent = 0;
    /** One message from each peer in turn; returns the repeats and fetches they caused. */
    const round = async () => {
      const before = upkeep(net.peers);
      for (const peer of net.peers) {
        const id = peer.publish(`tree message ${sent++}`).id;
        await waitFor(() => counts.get(id) === 20, { what: `20 deliveries of message ${sent}` });
      }
      const after = upkeep(net.peers);
      return after.repeats - before.repeats + after.fetches - before.fetches;
    };
    // The first messages flood and prune redundant links; a round from every origin
    // without a repeat or a fetch shows the push links have settled.
    await waitFor(async () => await round() === 0, { what: "a round without repeats", timeoutMs: 20_000 });
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

Deno.test("flood gossip: every message goes to every neighbour, and still reaches each peer once", async () => {
  const net = await TestNetwork.start(3, 12, { gossipMode: "flood" });
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    const ids = net.peers.map((peer, i) => peer.publish(`flood ${i}`).id);
    await waitFor(() => ids.every((id) => counts.get(id) === 12), { what: "12 deliveries of each message" });
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
 * A peer of its own with `count` hand-written neighbours, each accepted as one (`labels[i]`
 * is the listening address client i claims). They answer probes, and `answer` may reply
 * to any other frame a client receives.
 */
/** `N` values of `T` in a row, so a helper's fixed-size results index without checks. */
type Tuple<T, N extends number, R extends T[] = []> = R["length"] extends N ? R : Tuple<T, N, [...R, T]>;

async function peerWithClients<N extends number>(
  count: N,
  settings: Partial<Settings> = {},
  answer?: (message: Message, label: string) => Message | undefined,
): Promise<{
  net: TestNetwork;
  peer: PeerNode;
  clients: Tuple<WireClient, N>;
  labels: Tuple<string, N>;
  close: () => Promise<void>;
}> {
  const net = await TestNetwork.start(1, 1, settings);
  const peer = net.peers[0]!;
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const labels = listeners.map((l) =>
    formatAddress({ host: "127.0.0.1", port: (l.addr as Deno.NetAddr).port })
  );
  const clients: WireClient[] = [];
  for (const label of labels) {
    clients.push(
      await WireClient.connect(peer.address, (m: Message, c: WireClient) => {
        if (m.type === "liveliness") return c.answerProbe(m, identityFor(label), label);
        const reply = answer?.(m, label);
        if (reply) c.send(reply);
      }),
    );
  }
  for (const [i, client] of clients.entries()) {
    await client.send(await client.peerRequest(identityFor(labels[i]!), labels[i]!));
    await waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
      what: "acceptance",
    });
  }
  const close = async () => {
    for (const client of clients) await client.close();
    for (const listener of listeners) listener.close();
    await net.stop();
  };
  return { net, peer, clients: clients as Tuple<WireClient, N>, labels: labels as Tuple<string, N>, close };
}

Deno.test("an announced message that is not pushed is fetched from the announcer after fetchTimeout, and the link is grafted", async () => {
  const content = "only the announcer has it";
  // The second neighbour keeps pushing: the peer is still in the tree, so a push may yet come.
  const { peer, clients: [client], labels: [me], close } = await peerWithClients(
    2,
    { fetchTimeout: 100 },
    (m, label) => answerFetch(m, label, content),
  );
  const id = gossipFrom(me, content).id;
  try {
    await client.send({ type: "prune" });
    await waitFor(() => peer.neighbours().find((n) => n.addr === me)?.gossip === "announce", {
      what: "the prune to take effect",
    });
    const announcedAt = Date.now();
    await client.send({ type: "ihave", ids: [id], hops: [0] });
    await waitFor(() => peer.messages().some((m) => m.id === id), { what: "the fetched message" });
    const asked = client.received.filter((m) => m.type === "get_data" && m.ids !== undefined);
    assert.deepEqual(asked.map((m) => m.type === "get_data" && m.ids), [[id]]);
    assert.ok(Date.now() - announcedAt >= 100, "the peer waited fetchTimeout before asking");
    await waitFor(() => client.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours().find((n) => n.addr === me)!.gossip, "push");
    assert.equal(peer.messages().find((m) => m.id === id)!.from, me);
    // Announcing it again asks for nothing: the peer has it.
    await client.send({ type: "ihave", ids: [id], hops: [0] });
    const marker = peer.publish("after the graft").id;
    await waitFor(() => client.received.some((m) => m.type === "message" && m.id === marker), {
      what: "the grafted link to carry a pushed message",
    });
    assert.equal(client.received.filter((m) => m.type === "get_data" && m.ids !== undefined).length, 1);
  } finally {
    await close();
  }
});

/** The message `content` from `label`, when `request` asks for it by id. */
function answerFetch(request: Message, label: string, content: string): Message | undefined {
  const message = gossipFrom(label, content);
  if (request.type !== "get_data" || !request.ids?.includes(message.id)) return undefined;
  return message;
}

Deno.test("a peer that no link pushes to asks for an announced message at once", async () => {
  const content = "the tree cannot bring this";
  // A fetchTimeout far beyond the wait below: only the no-push-link rule can make the ask in time.
  const { peer, clients: [client], labels: [me], close } = await peerWithClients(
    1,
    { fetchTimeout: 60_000 },
    (m, label) => answerFetch(m, label, content),
  );
  const id = gossipFrom(me, content).id;
  try {
    await client.send({ type: "prune" });
    await waitFor(() => peer.neighbours()[0]?.gossip === "announce", { what: "the prune to take effect" });
    await client.send({ type: "ihave", ids: [id], hops: [0] });
    await waitFor(() => peer.messages().some((m) => m.id === id), {
      what: "the message, asked for without waiting fetchTimeout",
      timeoutMs: 5000,
    });
    await waitFor(() => client.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours()[0]!.gossip, "push");
  } finally {
    await close();
  }
});

Deno.test("a neighbour that pushes a message the peer already has is pruned to announcements", async () => {
  const { peer, clients: [client], labels: [me], close } = await peerWithClients(1);
  try {
    const content = "pushed twice";
    const message = gossipFrom(me, content);
    await client.send(message);
    await waitFor(() => peer.messages().length === 1, { what: "the first copy" });
    assert.equal(peer.neighbours()[0]!.gossip, "push");
    await client.send(message);
    await waitFor(() => client.received.some((m) => m.type === "prune"), { what: "a prune" });
    assert.equal(peer.neighbours()[0]!.gossip, "announce");
    assert.equal(peer.traffic().repeats, 1);
    // From now on the peer announces its new messages to this neighbour instead of pushing them.
    const own = peer.publish("announced, not pushed").id;
    await waitFor(() => client.received.some((m) => m.type === "ihave" && m.ids.includes(own)), {
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
  for (const [firstHops, repeatHops, pruned] of cases) {
    await t.step(`first ${firstHops} hops, repeat ${repeatHops}`, async () => {
      const { peer, clients, labels, close } = await peerWithClients(2);
      try {
        const content = `via ${firstHops} and ${repeatHops}`;
        const copy = (hops: number) => gossipCopy(labels[0], content, hops);
        await clients[0].send(copy(firstHops));
        await waitFor(() => peer.messages().length === 1, { what: "the first copy" });
        assert.equal(peer.messages()[0]!.hops, firstHops);
        await clients[1].send(copy(repeatHops));
        await waitFor(() => peer.traffic().repeats === 1, { what: "the repeat" });
        // A marker after the repeat: once it is answered, any prune would have been sent before it.
        await answeredMarkers(...clients);
        const prunedBy = clients.map((c) => c.received.some((m) => m.type === "prune"));
        assert.deepEqual(prunedBy, [pruned === 0, pruned === 1]);
        const gossip = new Map(peer.neighbours().map((n) => [n.addr, n.gossip]));
        assert.equal(gossip.get(labels[0]), pruned === 0 ? "announce" : "push");
        assert.equal(gossip.get(labels[1]), pruned === 1 ? "announce" : "push");
      } finally {
        await close();
      }
    });
  }
});

Deno.test("a repeat of a message seen before its link existed prunes nothing: a newcomer passes on its catch-up", async () => {
  const net = await TestNetwork.start(1, 1);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const me = formatAddress({ host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
  const peer = net.peers[0]!;
  const old = peer.publish("before the link");
  const client = await WireClient.connect(peer.address);
  try {
    await client.send(await client.peerRequest(identityFor(me), me));
    await waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
      what: "acceptance",
    });
    const { id, origin, originId, content, created, sig } = old;
    await client.send({ type: "message", id, hops: 2, origin, originId, content, created, sig });
    await waitFor(() => peer.traffic().repeats === 1, { what: "the repeat" });
    // A marker after the repeat: once it is answered, any prune would have been sent before it.
    await answeredMarkers(client);
    assert.equal(
      client.received.some((m) => m.type === "prune"),
      false,
      `pruned: first seen ${old.firstSeen}, link since ${peer.neighbours()[0]!.since}, ${
        JSON.stringify(client.received.map((m) => m.type))
      }`,
    );
    assert.equal(peer.neighbours()[0]!.gossip, "push");
  } finally {
    await client.close();
    listener.close();
    await net.stop();
  }
});

Deno.test("a newcomer catching up on the same history from every neighbour prunes no link, and passes it on marked", async () => {
  const { peer, clients, labels, close } = await peerWithClients(3);
  try {
    // History that all three neighbours hold: each serves it as its catch-up answer.
    const history = Array.from(
      { length: 5 },
      (_, i) => gossipCopy("127.0.0.1:9", `old news ${i}`, 3, true),
    );
    for (const client of clients) {
      for (const m of history) await client.send(m);
    }
    await waitFor(() => peer.traffic().repeats === 10, { what: "two repeats of each of the 5 messages" });
    assert.deepEqual(peer.messages().map((m) => m.id).sort(), history.map((m) => m.id).sort());
    assert.ok(peer.messages().every((m) => m.offTree));
    // A marker after the history: once it is answered, any prune would have been sent before it.
    await answeredMarkers(...clients);
    assert.equal(peer.traffic().prunes, 0);
    assert.ok(clients.every((c) => !c.received.some((m) => m.type === "prune")));
    assert.ok(peer.neighbours().every((n) => n.gossip === "push"), "every link still pushes");
    // Each message went on to the two neighbours it did not first come from, marked as history.
    const passedOn = clients.flatMap((c) => c.received.filter((m) => m.type === "message"));
    assert.equal(passedOn.length, 10);
    assert.ok(passedOn.every((m) => m.type === "message" && m.offTree === true && m.hops === 4));
    // The next message under way still reaches every neighbour by push.
    const live = peer.publish("news").id;
    await waitFor(
      () => clients.every((c) => c.received.some((m) => m.type === "message" && m.id === live && !m.offTree)),
      { what: `the new message pushed to ${labels.join(", ")}` },
    );
  } finally {
    await close();
  }
});

Deno.test("history is not passed on to a neighbour that listed it in its catch-up request", async () => {
  const { peer, clients, close } = await peerWithClients(2);
  try {
    const [holder, server] = clients;
    const history = ["old 1", "old 2", "old 3"].map((content) => gossipCopy("127.0.0.1:9", content, 3, true));
    // The holder has the first two; the other neighbour serves all three.
    await holder.send({ type: "get_data", have: [history[0]!.id, history[1]!.id] });
    for (const m of history) await server.send(m);
    await waitFor(() => peer.messages().length === 3, { what: "the history" });
    await waitFor(() => holder.received.some((m) => m.type === "message"), { what: "the one it lacks" });
    // A marker after the history: once it is answered, anything passed on was sent before it.
    await answeredMarkers(holder);
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
  const { peer, clients, labels, close } = await peerWithClients(3);
  try {
    const [a, b, c] = clients;
    const copy = (content: string, hops: number) => gossipCopy("127.0.0.1:9", content, hops);
    // A repeat by no shorter path: the peer prunes a's link.
    await b.send(copy("first", 2));
    await waitFor(() => peer.messages().length === 1, { what: "the first message" });
    await a.send(copy("first", 2));
    await waitFor(() => a.received.some((m) => m.type === "prune"), { what: "a's link pruned" });
    // a has not seen the prune yet and pushes the next message.
    const next = copy("second", 2);
    await a.send(next);
    await waitFor(() => peer.messages().length === 2, { what: "the second message" });
    const passedOn = (client: WireClient) =>
      client.received.find((m): m is GossipMessage => m.type === "message" && m.id === next.id);
    await waitFor(() => passedOn(b) !== undefined && passedOn(c) !== undefined, {
      what: `the second message passed on to ${labels[1]} and ${labels[2]}`,
    });
    assert.equal(passedOn(b)!.offTree, true);
    assert.equal(passedOn(c)!.offTree, true);
    // Its repeat over a pushing link prunes nothing either.
    await b.send(copy("second", 2));
    await waitFor(() => peer.traffic().repeats === 2, { what: "the repeat" });
    await answeredMarkers(...clients);
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
  const { peer, clients, labels, close } = await peerWithClients(2);
  try {
    const [pushing, announcing] = clients;
    await announcing.send({ type: "prune" });
    await waitFor(() => peer.neighbours().find((n) => n.addr === labels[1])?.gossip === "announce", {
      what: "the prune to take effect",
    });
    assert.equal(announcing.received.some((m) => m.type === "graft"), false);
    await pushing.close();
    await waitFor(() => announcing.received.some((m) => m.type === "graft"), { what: "a graft" });
    assert.equal(peer.neighbours().find((n) => n.addr === labels[1])!.gossip, "push");
    const marker = peer.publish("after the loss").id;
    await waitFor(() => announcing.received.some((m) => m.type === "message" && m.id === marker), {
      what: "the rejoined link to carry a pushed message",
    });
  } finally {
    await close();
  }
});

Deno.test("a neighbour that was heard from within half a liveliness interval is not probed", async () => {
  const { net, clients, close } = await peerWithClients(2);
  try {
    const [chatty, quiet] = clients;
    const { livelinessInterval } = net.settings;
    // The chatty neighbour sends a frame every quarter interval; the quiet one only answers probes.
    const probes = (c: WireClient) => c.received.filter((m) => m.type === "liveliness").length;
    const started = Date.now();
    let sentAt = 0;
    await waitFor(async () => {
      if (Date.now() - sentAt >= livelinessInterval! / 4) {
        sentAt = Date.now();
        await chatty.send({ type: "liveliness_reply", ts: 1 });
      }
      return probes(quiet) >= 3;
    }, { what: "three probes of the quiet neighbour" });
    assert.ok(Date.now() - started >= 2 * livelinessInterval!);
    assert.equal(probes(chatty), 0);
    assert.ok(net.peers[0]!.neighbours().every((n) => n.misses <= 1));
  } finally {
    await close();
  }
});

Deno.test("a repeat prunes only while its message is the newest here: with several under way, nothing is cut", async () => {
  const { peer, clients, labels, close } = await peerWithClients(2);
  try {
    const copy = (content: string, hops: number) => gossipCopy(labels[0], content, hops);
    await clients[0].send(copy("older", 2));
    await clients[0].send(copy("newer", 2));
    await waitFor(() => peer.messages().length === 2, { what: "both first copies" });
    // The older one again by a longer path: alone it would prune this link.
    await clients[1].send(copy("older", 3));
    await waitFor(() => peer.traffic().repeats === 1, { what: "the older repeat" });
    await answeredMarkers(...clients);
    assert.ok(!clients.some((c) => c.received.some((m) => m.type === "prune")));
    assert.deepEqual(peer.neighbours().map((n) => n.gossip), ["push", "push"]);
    // A repeat of the newest message is judged as before.
    await clients[1].send(copy("newer", 3));
    await waitFor(() => clients[1].received.some((m) => m.type === "prune"), { what: "a prune" });
    assert.ok(!clients[0].received.some((m) => m.type === "prune"));
  } finally {
    await close();
  }
});

Deno.test("an announcement round leaves out the ids a neighbour announced itself", async () => {
  const { peer, clients, labels, close } = await peerWithClients(2, { announceInterval: 300 });
  try {
    await clients[0].send({ type: "prune" });
    await waitFor(() => peer.neighbours().find((n) => n.addr === labels[0])?.gossip === "announce", {
      what: "the prune to take effect",
    });
    const ids = ["known", "new"].map((content) => gossipFrom(labels[1], content).id);
    for (const content of ["known", "new"]) await clients[1].send(gossipFrom(labels[1], content));
    await waitFor(() => peer.messages().length === 2, { what: "both messages" });
    await clients[0].send({ type: "ihave", ids: [ids[0]!], hops: [1] });
    await waitFor(() => clients[0].received.some((m) => m.type === "ihave" && m.ids.includes(ids[1]!)), {
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
