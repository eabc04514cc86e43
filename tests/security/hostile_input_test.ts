/**
 * Hostile input: whatever a remote sends, the node logs one line naming it, closes
 * that connection within a bounded time, and goes on serving everyone else.
 */

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { encodeFrame, framed, writeHeader } from "../../lib/wire/codec.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Message } from "../../lib/wire/messages.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { FAST, MAX_FRAME_BYTES, waitFor, withLogs } from "../_helpers.ts";
import { answersProbe, gossipFrom, HandNode, identityFor, WireClient } from "../_wire_client.ts";

/** Strangers here all come from 127.0.0.1, so host bans are off unless a test is about them. */
const HOSTILE: Partial<Settings> = { ...FAST, banThreshold: 0, handshakeTimeout: 1000, frameTimeout: 1000 };

const text = (s: string) => new TextEncoder().encode(s);

const json = (value: unknown) => framed(text(JSON.stringify(value)));

function mentions(records: LogRecord[], client: WireClient): LogRecord[] {
  const port = `:${client.stream.localAddr.port}`;
  return records.filter((r) =>
    (r.level === "warning" || r.level === "error") && JSON.stringify(r.properties).includes(port)
  );
}

/** Connects, optionally completes a neighbour handshake, sends `bytes`, and waits for the node to close. */
async function assertRefused(
  port: number,
  bytes: Uint8Array,
  records: LogRecord[],
  { handshake, what }: { handshake?: string; what: string },
): Promise<void> {
  const client = await WireClient.connect({ host: "127.0.0.1", port });
  try {
    if (handshake) {
      await client.send(await client.peerRequest(identityFor(handshake), handshake));
      await waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
        what: `acceptance before ${what}`,
        timeoutMs: 3000,
      });
    }
    await client.writeRaw(bytes);
    await waitFor(() => client.isClosed, { what: `the node to close on ${what}`, timeoutMs: 3000 });
    await waitFor(() => mentions(records, client).length >= 1, {
      what: `a log line for ${what}`,
      timeoutMs: 1000,
    });
  } finally {
    await client.close();
  }
}

const ID = "0123456789abcdef0123456789abcdef";
const ADDR = "127.0.0.1:9";

/** Frames that break each message type's schema, plus garbage. */
const BAD_FRAMES: [string, Uint8Array][] = [
  ["get_peer_list without addr", json({ type: "get_peer_list" })],
  ["get_peer_list with a numeric addr", json({ type: "get_peer_list", version: 1, addr: 7 })],
  [
    "get_peer_list with a 10,000-character addr",
    json({ type: "get_peer_list", version: 1, addr: "h".repeat(10_000) + ":1" }),
  ],
  ["peer_list with too many peers", json({ type: "peer_list", peers: Array(100).fill(ADDR) })],
  ["peer_request without addr", json({ type: "peer_request" })],
  ["peer_request with version as text", json({ type: "peer_request", version: "1", addr: ADDR })],
  ["peer_reply with accepted as text", json({ type: "peer_reply", accepted: "yes", addr: ADDR })],
  [
    "peer_reply with a long reason",
    json({ type: "peer_reply", accepted: false, addr: ADDR, reason: "r".repeat(500) }),
  ],
  ["liveliness with ts as text", json({ type: "liveliness", ts: "now" })],
  ["liveliness_reply without ts", json({ type: "liveliness_reply" })],
  ["get_data with bad ids", json({ type: "get_data", ids: ["zz"] })],
  ["ihave without ids", json({ type: "ihave" })],
  ["ihave with 20,000 ids", json({ type: "ihave", ids: Array(20_000).fill(ID) })],
  [
    "message with a bad id",
    json({ type: "message", id: "x", hops: 1, origin: ADDR, content: "c", created: 1 }),
  ],
  [
    "message with oversized content",
    json({ type: "message", id: ID, hops: 1, origin: ADDR, content: "c".repeat(70_000), created: 1 }),
  ],
  ["death with an unknown reason", json({ type: "death", addr: ADDR, reason: "bored", reporter: ADDR })],
  ["an unknown type", json({ type: "hello" })],
  ["non-JSON", framed(text("{{{ not json"))],
  ["invalid UTF-8", framed(Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d))],
  ["a JSON array", json([1, 2, 3])],
  ["a 4 GiB length prefix", Uint8Array.of(0xff, 0xff, 0xff, 0xff)],
];

Deno.test("a seed closes and logs every malformed frame and keeps serving", async () => {
  await withLogs(async (records) => {
    const seed = new SeedNode({ settings: HOSTILE });
    await seed.start();
    try {
      const rssBefore = Deno.memoryUsage().rss;
      for (const [what, bytes] of BAD_FRAMES) {
        await assertRefused(seed.address.port, bytes, records, { what });
      }
      assert.ok(Deno.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, "no large allocation");
      await answersProbe(seed.address);
    } finally {
      await seed.stop();
    }
  });
});

Deno.test("a peer closes and logs malformed frames, before and after the neighbour handshake, and keeps serving", async () => {
  await withLogs(async (records) => {
    const seed = new SeedNode({ settings: HOSTILE });
    await seed.start();
    const peer = new PeerNode({ settings: { ...HOSTILE, seeds: [seed.address], maxInbound: 100 } });
    await peer.start();
    // One announced address per neighbour: the peer may not yet have dropped the last one.
    const neighbours: HandNode[] = [];
    try {
      for (const [what, bytes] of BAD_FRAMES) {
        await assertRefused(peer.address.port, bytes, records, { what });
        const me = new HandNode();
        neighbours.push(me);
        await assertRefused(peer.address.port, bytes, records, {
          what: `${what} from a neighbour`,
          handshake: me.label,
        });
      }
      await answersProbe(peer.address);
    } finally {
      await Promise.all(neighbours.map((me) => me.close()));
      await peer.stop();
      await seed.stop();
    }
  });
});

Deno.test("messages before the handshake close the connection: at a peer before peer_request, at a seed before get_peer_list", async () => {
  await withLogs(async (records) => {
    const seed = new SeedNode({ settings: HOSTILE });
    await seed.start();
    const peer = new PeerNode({ settings: { ...HOSTILE, seeds: [seed.address] } });
    await peer.start();
    try {
      const early: [string, Message][] = [
        ["message", gossipFrom(ADDR, "x")],
        ["get_data", { type: "get_data", have: [] }],
        ["ihave", { type: "ihave", ids: [gossipFrom(ADDR, "y").id], hops: [0] }],
        ["graft", { type: "graft" }],
        ["prune", { type: "prune" }],
        ["death", { type: "death", addr: ADDR, reason: "leaving", reporter: ADDR }],
        ["peer_list", { type: "peer_list", peers: [], node: identityFor(ADDR).id, sig: "A".repeat(86) }],
      ];
      for (const [what, message] of early) {
        await assertRefused(peer.address.port, encodeFrame(message, MAX_FRAME_BYTES), records, {
          what: `${what} before peer_request`,
        });
      }
      const death: Message = { type: "death", addr: peer.label, reason: "dead", reporter: ADDR };
      await assertRefused(seed.address.port, encodeFrame(death, MAX_FRAME_BYTES), records, {
        what: "death before get_peer_list",
      });
      assert.deepEqual(seed.peers(), [peer.label], "the accused is still listed");
    } finally {
      await peer.stop();
      await seed.stop();
    }
  });
});

Deno.test("a frame sent one byte at a time is accepted; slow is not hostile", async () => {
  const seed = new SeedNode({ settings: HOSTILE });
  await seed.start();
  const client = await WireClient.connect(seed.address);
  try {
    const frame = encodeFrame({ type: "liveliness", ts: 7 }, MAX_FRAME_BYTES);
    for (const byte of frame) {
      await client.writeRaw(Uint8Array.of(byte));
      await new Promise((resolve) => setTimeout(resolve, 5)); // the slowness under test
    }
    await waitFor(() => client.received.some((m) => m.type === "liveliness_reply" && m.ts === 7), {
      what: "the reply to a trickled frame",
    });
    assert.ok(!client.isClosed);
  } finally {
    await client.close();
    await seed.stop();
  }
});

Deno.test("half a frame and then silence is closed after the frame timeout, not before", async () => {
  const seed = new SeedNode({ settings: { ...HOSTILE, frameTimeout: 400 } });
  await seed.start();
  const client = await WireClient.connect(seed.address);
  try {
    const frame = encodeFrame({ type: "liveliness", ts: 7 }, MAX_FRAME_BYTES);
    const started = Date.now();
    await client.writeRaw(frame.subarray(0, 10));
    await waitFor(() => client.isClosed, { what: "the stalled connection to close", timeoutMs: 3000 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 350, `closed after ${elapsed} ms, before the 400 ms frame timeout`);
  } finally {
    await client.close();
    await seed.stop();
  }
});

Deno.test("a connection that never sends anything is closed after the handshake timeout", async () => {
  const seed = new SeedNode({ settings: { ...HOSTILE, handshakeTimeout: 300 } });
  await seed.start();
  const client = await WireClient.connect(seed.address);
  try {
    const started = Date.now();
    await waitFor(() => client.isClosed, { what: "the idle connection to close", timeoutMs: 3000 });
    assert.ok(Date.now() - started >= 250);
  } finally {
    await client.close();
    await seed.stop();
  }
});

Deno.test("limits: connections past maxConnections are refused and logged, and accepted again once others close", async () => {
  await withLogs(async (records) => {
    const seed = new SeedNode({ settings: { ...HOSTILE, maxConnections: 5, handshakeTimeout: 10_000 } });
    await seed.start();
    const idle = await Promise.all(Array.from({ length: 5 }, () => WireClient.connect(seed.address)));
    try {
      const extra = await WireClient.connect(seed.address);
      await waitFor(() => extra.isClosed, { what: "the 6th connection to be refused" });
      await extra.close();
      assert.ok(records.some((r) => r.message.join("").includes("connection limit 5 reached")));
      await Promise.all(idle.map((c) => c.close()));
      await waitFor(async () => {
        try {
          await answersProbe(seed.address);
          return true;
        } catch {
          return false;
        }
      }, { what: "the seed to accept again" });
    } finally {
      await Promise.all(idle.map((c) => c.close()));
      await seed.stop();
    }
  });
});

Deno.test("limits: a Peer List carries at most peerListLimit peers", async () => {
  const settings = { ...HOSTILE, peerListLimit: 3 };
  const seed = new SeedNode({ settings });
  await seed.start();
  const silent = Array.from({ length: 6 }, () => new HandNode());
  try {
    for (const s of silent) await s.register([seed.address]);
    await waitFor(() => seed.peers().length === 6, { what: "six registrations" });
    const last = silent.at(-1)!;
    await waitFor(() => last.clients[0]!.received.some((m) => m.type === "peer_list"), {
      what: "a peer list",
    });
    const list = last.clients[0]!.received.find((m) => m.type === "peer_list");
    assert.ok(list?.type === "peer_list" && list.peers.length === 3, JSON.stringify(list));
  } finally {
    await Promise.all(silent.map((s) => s.close()));
    await seed.stop();
  }
});

Deno.test("limits: the message store and seen set stay bounded, and oversized content is refused", async () => {
  const seed = new SeedNode({ settings: HOSTILE });
  await seed.start();
  const peer = new PeerNode({
    settings: { ...HOSTILE, seeds: [seed.address], storeLimit: 50, seenLimit: 100, maxContentBytes: 1000 },
  });
  await peer.start();
  try {
    for (let i = 0; i < 500; i++) peer.publish(`message ${i}`);
    assert.equal(peer.messages().length, 50);
    assert.equal(peer.messages()[0]!.content, "message 450", "the oldest went first");
    assert.throws(() => peer.publish("x".repeat(1001)), RangeError);
  } finally {
    await peer.stop();
    await seed.stop();
  }
});

Deno.test("limits: a frame over maxFrameBytes is refused at its length prefix", async () => {
  await withLogs(async (records) => {
    const small = { maxFrameBytes: 8192, maxContentBytes: 300, storeLimit: 40, peerListLimit: 1 };
    const seed = new SeedNode({ settings: { ...HOSTILE, ...small } });
    await seed.start();
    try {
      const header = new Uint8Array(4);
      writeHeader(header, 8193);
      await assertRefused(seed.address.port, header, records, { what: "a frame of 8193 bytes" });
      await answersProbe(seed.address);
    } finally {
      await seed.stop();
    }
  });
});

Deno.test("limits: a connection sending past the frame rate is closed; one within it is answered", async () => {
  await withLogs(async (records) => {
    const seed = new SeedNode({ settings: { ...HOSTILE, maxFramesPerSecond: 50 } });
    await seed.start();
    const flood = await WireClient.connect(seed.address);
    const calm = await WireClient.connect(seed.address);
    try {
      const frames = Array.from(
        { length: 500 },
        (_, i) => encodeFrame({ type: "liveliness", ts: i }, MAX_FRAME_BYTES),
      );
      await flood.writeRaw(new Uint8Array(frames.flatMap((f) => [...f])));
      await waitFor(() => flood.isClosed, { what: "the flooding connection to close" });
      assert.ok(records.some((r) => JSON.stringify(r.properties).includes("rate_limited")));
      for (let i = 0; i < 20; i++) await calm.send({ type: "liveliness", ts: i });
      await waitFor(() => calm.received.filter((m) => m.type === "liveliness_reply").length === 20, {
        what: "20 replies",
      });
      assert.ok(!calm.isClosed);
    } finally {
      await flood.close();
      await calm.close();
      await seed.stop();
    }
  });
});

Deno.test("a flood of 2,000 connections at a seed leaves it answering real peers", async () => {
  const seed = new SeedNode({ settings: { ...HOSTILE, handshakeTimeout: 30_000 } });
  await seed.start();
  const flood: Deno.Conn[] = [];
  const peers: PeerNode[] = [];
  try {
    for (let i = 0; i < 2000; i++) {
      flood.push(await Deno.connect({ hostname: seed.address.host, port: seed.address.port }));
    }
    for (let i = 0; i < 3; i++) {
      const peer = new PeerNode({ settings: { ...HOSTILE, seeds: [seed.address] } });
      peers.push(peer);
      await peer.start();
    }
    await waitFor(() => seed.peers().length === 3, { what: "three real peers registered" });
    const got = new Set<string>();
    peers[2]!.events.on("message", (m) => got.add(m.content));
    peers[0]!.publish("through the flood");
    await waitFor(() => got.has("through the flood"), { what: "gossip during the flood" });
  } finally {
    for (const conn of flood) conn.close();
    await Promise.all(peers.map((p) => p.stop()));
    await seed.stop();
  }
});
