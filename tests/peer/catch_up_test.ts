/**
 * Catch-up on a new link: history of any size comes a page at a time at the pace the
 * link drains, never past the serving peer's write queue, and a newcomer or a peer back
 * from a partition gets everything its neighbours still store.
 */

import assert from "node:assert/strict";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { FakeNetwork } from "../_fake_network.ts";

/** A write queue of 50 KB, and frames small enough for it. */
const SMALL_QUEUE: Partial<Settings> = {
  maxQueuedBytes: 50_000,
  maxFrameBytes: 24_576,
  maxContentBytes: 1000,
  storeLimit: 300,
  peerListLimit: 4,
};

const holdsAll = (peer: PeerNode, ids: string[]) => {
  const stored = new Set(peer.messages().map((m) => m.id));
  return ids.every((id) => stored.has(id));
};

/** Counts the links that close at these peers from now on. */
function countCloses(peers: PeerNode[]): { closes: number; reasons: string[] } {
  const seen = { closes: 0, reasons: [] as string[] };
  for (const peer of peers) {
    peer.events.on("neighbourRemoved", ({ reason }) => {
      seen.closes++;
      seen.reasons.push(reason);
    });
  }
  return seen;
}

Deno.test("a newcomer catches up on six times the write queue limit of history without a link closing", async () => {
  const net = new FakeNetwork({ settings: SMALL_QUEUE });
  try {
    await net.addSeed("10.0.0.1");
    const old = await net.addPeer("10.0.1.1");
    // 300 messages of about 1000 bytes: 310 KB of frames for a 50 KB queue.
    const ids = Array.from({ length: 300 }, (_, i) => old.publish(`${i} `.padEnd(1000, "x")).id);
    const closes = countCloses([old]);
    const late = await net.addPeer("10.0.1.2");
    const lateCloses = countCloses([late]);
    await net.until(() => holdsAll(late, ids), "the newcomer to hold all 300 messages", 10_000);
    assert.deepEqual([closes, lateCloses].map((c) => c.reasons), [[], []], "no link closed");
    assert.equal(late.neighbours().length, 1);
    assert.ok(late.messages().every((m) => m.via === "catch_up" && m.offTree), "all of it came as history");
  } finally {
    await net.stop();
  }
});

Deno.test("a newcomer gets every message its neighbour stores, not only the newest catchUpLimit", async () => {
  const net = new FakeNetwork({ settings: { catchUpLimit: 10 } });
  try {
    await net.addSeed("10.0.0.1");
    const old = await net.addPeer("10.0.1.1");
    const ids = Array.from({ length: 95 }, (_, i) => old.publish(`message ${i}`).id);
    const late = await net.addPeer("10.0.1.2");
    await net.until(() => holdsAll(late, ids), "the newcomer to hold all 95 messages", 10_000);
    assert.deepEqual(late.messages().map((m) => m.id), ids, "in the order they were stored");
  } finally {
    await net.stop();
  }
});

Deno.test("peers cut off for a while get everything the other side published meanwhile, far past catchUpLimit", async () => {
  const hosts = ["10.0.1.1", "10.0.2.1"];
  const net = new FakeNetwork({ settings: { ...SMALL_QUEUE, catchUpLimit: 10 }, seed: 3 });
  try {
    await net.addSeed("10.0.0.1");
    const near = [await net.addPeer(hosts[0]!), await net.addPeer(hosts[0]!), await net.addPeer(hosts[0]!)];
    const far = [await net.addPeer(hosts[1]!), await net.addPeer(hosts[1]!)];
    await net.until(() => net.isConnected(), "a connected overlay");
    await net.until(
      () => far.every((p) => p.neighbours().some((n) => n.addr.startsWith("10.0.1."))),
      "links across",
    );
    net.isolate(hosts[1]!, [hosts[0]!, "10.0.0.1"]);
    await net.until(
      () => far.every((p) => p.neighbours().every((n) => n.addr.startsWith("10.0.2."))),
      "the cut links to close",
    );
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      ids.push(near[i % 3]!.publish(`${i} `.padEnd(500, "y")).id);
      await net.clock.advance(20);
    }
    const closes = countCloses([...near, ...far]);
    net.rejoin(hosts[1]!, [hosts[0]!, "10.0.0.1"]);
    await net.until(
      () => far.every((p) => holdsAll(p, ids)),
      "the far side to hold all 120 messages",
      60_000,
    );
    assert.ok(
      closes.reasons.every((r) => !r.includes("write queue")),
      `no link closed for its write queue: ${closes.reasons.join("; ")}`,
    );
  } finally {
    await net.stop();
  }
});
