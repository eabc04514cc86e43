/**
 * Catch-up on a new link: history of any size comes a page at a time at the pace the
 * link drains, never past the serving peer's write queue, and a newcomer or a peer back
 * from a partition gets everything its neighbours still store.
 */

import assert from "node:assert/strict";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { fakeNetwork, hostsOf } from "../_fake_net.ts";

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

/** The reasons of the links that close at these peers from now on. */
function closes(peers: PeerNode[]): string[] {
  const reasons: string[] = [];
  for (const peer of peers) peer.events.on("neighbourRemoved", ({ reason }) => reasons.push(reason));
  return reasons;
}

Deno.test("a newcomer catches up on six times the write queue limit of history without a link closing", async () => {
  const net = await fakeNetwork(1, 1, SMALL_QUEUE);
  try {
    const old = net.peers[0]!;
    // 300 messages of about 1000 bytes: 310 KB of frames for a 50 KB queue.
    const ids = Array.from({ length: 300 }, (_, i) => old.publish(`${i} `.padEnd(1000, "x")).id);
    const oldCloses = closes([old]);
    const late = await net.addPeer();
    const lateCloses = closes([late]);
    await net.waitFor(() => holdsAll(late, ids), { what: "the newcomer to hold all 300 messages" });
    assert.deepEqual([oldCloses, lateCloses], [[], []], "no link closed");
    assert.equal(late.neighbours().length, 1);
    assert.ok(late.messages().every((m) => m.via === "catch_up" && m.offTree), "all of it came as history");
  } finally {
    await net.stop();
  }
});

Deno.test("a newcomer gets every message its neighbour stores, not only the newest catchUpLimit", async () => {
  const net = await fakeNetwork(1, 1, { catchUpLimit: 10 });
  try {
    const old = net.peers[0]!;
    const ids = Array.from({ length: 95 }, (_, i) => old.publish(`message ${i}`).id);
    const late = await net.addPeer();
    await net.waitFor(() => holdsAll(late, ids), { what: "the newcomer to hold all 95 messages" });
    assert.deepEqual(late.messages().map((m) => m.id), ids, "in the order they were stored");
  } finally {
    await net.stop();
  }
});

Deno.test("peers cut off for a while get everything the other side published meanwhile, far past catchUpLimit", async () => {
  const net = await fakeNetwork(1, 5, { ...SMALL_QUEUE, catchUpLimit: 10 }, { seed: 3 });
  try {
    const near = net.peers.slice(0, 3);
    const far = net.peers.slice(3);
    const farLabels = far.map((p) => p.label);
    const [farHosts, otherHosts] = [hostsOf(far), hostsOf([...net.seeds, ...near])];
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    net.ground.cut(farHosts, otherHosts);
    await net.waitFor(() => far.every((p) => p.neighbours().every((n) => farLabels.includes(n.addr))), {
      what: "the cut links to close",
    });
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      ids.push(near[i % 3]!.publish(`${i} `.padEnd(500, "y")).id);
      await net.ground.clock.advance(20);
    }
    const reasons = closes(net.peers);
    net.ground.heal(farHosts, otherHosts);
    await net.waitFor(() => far.every((p) => holdsAll(p, ids)), {
      what: "the far side to hold all 120 messages",
      timeoutMs: 60_000,
    });
    assert.ok(
      reasons.every((r) => !r.includes("write queue")),
      `closed for the write queue: ${reasons.join("; ")}`,
    );
  } finally {
    await net.stop();
  }
});
