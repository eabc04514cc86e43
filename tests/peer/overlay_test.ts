/**
 * The overlay on fake time: new peers find their outbound neighbours soon, a decline
 * is followed by another dial at once, and the number of neighbours stays bounded and
 * refills after losses.
 */

import assert from "node:assert/strict";
import type { PeerNode } from "../../lib/peer/peer_node.ts";
import { withLogs } from "../_helpers.ts";
import { fakeNetwork } from "../_fake_net.ts";

const outbound = (peer: PeerNode) => peer.neighbours().filter((n) => n.direction === "outbound").length;

Deno.test("the first peers to join get their outbound neighbours long before their next overlay round", async () => {
  // Overlay rounds every 20 s (the first at 10 to 20 s) and registrations renewed (which
  // also brings a peer list) every 60 s: the first peer joins an empty network and the
  // second knows only the first, so only asking the seeds again soon (after
  // overlayInterval / 20, then doubling) gets them 2 outbound links within 8 s, or every
  // other peer as a neighbour, the most a peer can have.
  const net = await fakeNetwork(1, 6, { overlayInterval: 20_000, livelinessInterval: 20_000, degree: 2 });
  try {
    const joined = (peer: PeerNode) => peer.neighbours().length === 5 || outbound(peer) === 2;
    assert.ok(!net.peers.every(joined), "some peer is short of neighbours when the last one joins");
    await net.waitFor(() => net.peers.every(joined), {
      timeoutMs: 8_000,
      what: "every peer to have 2 outbound neighbours",
    });
    assert.ok(net.isConnected());
  } finally {
    await net.stop();
  }
});

Deno.test("a peer whose chosen neighbour declines dials another candidate at once", async (t) => {
  // Six of the eight candidates are full (maxInbound 0) and decline; overlay rounds come
  // every 20 s, so only dialling another candidate right after a decline gets the new peer
  // its 2 outbound links within 5 s. Each random seed makes other picks.
  for (const seed of [1, 2, 3]) {
    await t.step(`random seed ${seed}`, async () => {
      await withLogs(async (records) => {
        const slow = { overlayInterval: 20_000, livelinessInterval: 20_000, degree: 1 };
        const net = await fakeNetwork(1, 0, slow, { seed });
        try {
          for (const maxInbound of [0, 0, 0, 0, 0, 0, 12, 12]) await net.addPeer({ maxInbound });
          const joinedAt = net.ground.now();
          const newcomer = await net.addPeer({ degree: 2 });
          await net.waitFor(() => outbound(newcomer) === 2, {
            timeoutMs: 5_000,
            what: "the newcomer to have 2 outbound neighbours",
          });
          assert.ok(net.ground.now() - joinedAt < 5_000);
          const declines = records.filter((r) =>
            r.properties.event === "overlay.declined" && r.properties.addr === newcomer.label
          );
          assert.ok(declines.length > 0, "the newcomer was declined before it found its neighbours");
        } finally {
          await net.stop();
        }
      });
    });
  }
});

Deno.test("a peer keeps at most degree outbound and maxInbound inbound neighbours, and dials up to degree again after losing some", async () => {
  const net = await fakeNetwork(3, 12, { degree: 3, maxInbound: 4 });
  try {
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    for (const peer of net.peers) {
      const n = peer.neighbours();
      assert.ok(n.filter((x) => x.direction === "inbound").length <= 4, `${peer.label} inbound bound`);
      assert.ok(outbound(peer) <= 3, `${peer.label} outbound bound`);
    }
    // Peers that lose neighbours open new outbound connections until they have `degree` again.
    await net.ground.run(Promise.all(net.peers.slice(0, 3).map((p) => p.stop())), "three peers to stop");
    // With 9 survivors a peer may find every other peer already its neighbour or full
    // (4 inbound): then it rightly stays below its degree.
    const inbound = (p: PeerNode) => p.neighbours().filter((x) => x.direction === "inbound").length;
    const cannotGrow = (p: PeerNode) =>
      net.live.every((q) => q === p || p.neighbours().some((n) => n.addr === q.label) || inbound(q) >= 4);
    await net.waitFor(
      () => net.live.every((p) => outbound(p) === 3 || cannotGrow(p)),
      { what: "every survivor to hold 3 outbound neighbours again, or to have no candidate left" },
    );
    assert.ok(net.live.some((p) => outbound(p) === 3));
  } finally {
    await net.stop();
  }
});
