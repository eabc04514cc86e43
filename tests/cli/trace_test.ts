import assert from "node:assert/strict";
import { buildTrace, type Delivery, formatTrace, fromRecords } from "../../lib/log/trace.ts";
import { closeLogging, setupLogging } from "../../lib/log/logging.ts";
import { TestNetwork, waitFor } from "../_helpers.ts";
import { runP2pnet, withTempDir } from "../_process.ts";

const ID = "0123456789abcdef0123456789abcdef";
const d = (
  peer: string,
  from: string,
  hops: number,
  time: number,
  via = from === "self" ? "self" : "push",
): Delivery => ({
  peer,
  from,
  hops,
  via,
  time,
});

Deno.test("buildTrace hangs each delivery under its sender, lists running peers that never got it, and keeps orphans apart", () => {
  const cases: {
    name: string;
    deliveries: Delivery[];
    spans?: { peer: string; first: number; last: number }[];
    tree: string;
    missing: string[];
    detached: string[];
  }[] = [
    {
      name: "a chain and a fork",
      deliveries: [
        d("a", "self", 0, 100),
        d("c", "b", 2, 130),
        d("b", "a", 1, 110),
        d("d", "a", 1, 115, "fetch"),
      ],
      tree: "a(b(c),d)",
      missing: [],
      detached: [],
    },
    {
      name:
        "a peer running at publish time that never got it is missing; one started later or stopped before is not",
      deliveries: [d("a", "self", 0, 100), d("b", "a", 1, 105)],
      spans: [
        { peer: "a", first: 0, last: 200 },
        { peer: "b", first: 0, last: 200 },
        { peer: "x", first: 50, last: 150 },
        { peer: "late", first: 150, last: 300 },
        { peer: "gone", first: 0, last: 90 },
      ],
      tree: "a(b)",
      missing: ["x"],
      detached: [],
    },
    {
      name:
        "a sender whose records are lost leaves its subtree detached; a second record of a peer is ignored",
      deliveries: [d("a", "self", 0, 100), d("c", "lost", 2, 120), d("e", "c", 3, 125), d("c", "a", 1, 140)],
      tree: "a",
      missing: [],
      detached: ["c(e)"],
    },
  ];
  const shape = (n: { peer: string; children: { peer: string; children: unknown[] }[] }): string =>
    n.children.length === 0 ? n.peer : `${n.peer}(${n.children.map((c) => shape(c as typeof n)).join(",")})`;
  for (const c of cases) {
    const trace = buildTrace(ID, c.deliveries, c.spans);
    assert.equal(trace.root ? shape(trace.root) : "", c.tree, c.name);
    assert.deepEqual(trace.missing, c.missing, c.name);
    assert.deepEqual(trace.detached.map(shape), c.detached, c.name);
  }
  const text = formatTrace(buildTrace(ID, cases[0]!.deliveries));
  assert.equal(
    text,
    [
      `message ${ID}: reached 4 peers, 0 never got it`,
      "a  hop 0  +0ms  origin",
      "├─ b  hop 1  +10ms  push from a",
      "│  └─ c  hop 2  +30ms  push from b",
      "└─ d  hop 1  +15ms  fetch from a",
    ].join("\n"),
  );
});

Deno.test("fromRecords reads deliveries and each peer's span from JSON records, skipping other shapes", () => {
  const records = [
    { time: "2026-01-01T00:00:00.000Z", event: "node.listening", role: "peer", addr: "p1" },
    {
      time: "2026-01-01T00:00:01.000Z",
      event: "message.delivered",
      role: "peer",
      addr: "p1",
      id: ID,
      from: "self",
      hops: 0,
      via: "self",
    },
    {
      time: "2026-01-01T00:00:01.500Z",
      event: "message.delivered",
      role: "peer",
      addr: "p2",
      id: "f".repeat(32),
      from: "p1",
      hops: 1,
      via: "push",
    },
    { time: "2026-01-01T00:00:02.000Z", event: "seed.peer_registered", role: "seed", addr: "s1" },
    { time: "not a time", role: "peer", addr: "p3" },
  ];
  const { deliveries, spans } = fromRecords(ID, records);
  assert.deepEqual(deliveries, [{
    peer: "p1",
    from: "self",
    hops: 0,
    via: "self",
    time: Date.UTC(2026, 0, 1, 0, 0, 1),
  }]);
  assert.deepEqual(spans.map((s) => [s.peer, s.last - s.first]), [["p1", 1000], ["p2", 0]]);
});

Deno.test("p2pnet trace prints the tree a message took, matching what every peer stored", async () => {
  await withTempDir(async (dir) => {
    await setupLogging({ logDir: dir, format: "json", consoleLevel: null, fileLevel: "info" });
    const net = await TestNetwork.start(1, 6);
    let id = "";
    try {
      await waitFor(() => net.isConnected(), { what: "the overlay to connect" });
      id = net.peers[2]!.publish("trace me").id;
      await waitFor(() => net.peers.every((p) => p.messages().some((m) => m.id === id)), {
        what: "the message at every peer",
      });
    } finally {
      await net.stop();
      await closeLogging();
    }
    const json = await runP2pnet(["trace", id.slice(0, 12), "--log-dir", dir, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const trace = JSON.parse(json.stdout);
    assert.equal(trace.id, id);
    assert.equal(trace.reached, net.peers.length);
    assert.deepEqual(trace.missing, []);
    assert.deepEqual(trace.detached, []);
    const seen = new Map<string, { from: string; hops: number; parent: string }>();
    const walk = (
      node: { peer: string; from: string; hops: number; children: unknown[] },
      parent: string,
    ) => {
      seen.set(node.peer, { from: node.from, hops: node.hops, parent });
      for (const child of node.children) walk(child as typeof node, node.peer);
    };
    walk(trace.root, "self");
    for (const peer of net.peers) {
      const stored = peer.messages().find((m) => m.id === id)!;
      const expected = { from: stored.from ?? "self", hops: stored.hops, parent: stored.from ?? "self" };
      assert.deepEqual(seen.get(peer.label), expected, peer.label);
    }
    const text = await runP2pnet(["trace", id, "--log-dir", dir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`^message ${id}: reached ${net.peers.length} peers, 0 never got it\n`),
    );
    assert.match(
      text.stdout,
      new RegExp(`^${net.peers[2]!.label.replaceAll(".", "\\.")}  hop 0  \\+0ms  origin$`, "m"),
    );
    for (const peer of net.peers) assert.ok(text.stdout.includes(peer.label), peer.label);

    const unknown = await runP2pnet(["trace", "abcdef", "--log-dir", dir]);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "p2pnet: no peer's log records message abcdef\n"]);
    const bad = await runP2pnet(["trace", "xyz", "--log-dir", dir]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^p2pnet: trace: the message id must be 6-32 hex digits, got "xyz"; see 'p2pnet trace --help'\n$/,
    );
    const none = await runP2pnet(["trace", "abcdef", "--log-dir", `${dir}/nowhere`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^p2pnet: cannot read logs in .*nowhere\/peers: /);
  });
});
