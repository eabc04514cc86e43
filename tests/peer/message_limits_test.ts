/**
 * Message limits count what goes on the wire: content in bytes of UTF-8, checked when a
 * message is published, and small enough that every valid message fits in a frame; the
 * store is bounded by bytes as well as by count.
 */

import assert from "node:assert/strict";
import { ContentTooLargeError } from "../../lib/peer/peer_node.ts";
import { storedBytes } from "../../lib/peer/message_store.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { fakeNetwork } from "../_fake_net.ts";

/** Small frames and queues, which content of 1000 bytes escaped at its worst (6 bytes a byte) still fits. */
const TIGHT: Partial<Settings> = {
  maxContentBytes: 1000,
  maxFrameBytes: 16_500,
  maxQueuedBytes: 33_100,
  storeLimit: 100,
  peerListLimit: 4,
};

Deno.test("publish counts content in bytes of UTF-8: 100 '€' fit 300 bytes, 101 are refused naming maxContentBytes", async () => {
  const net = await fakeNetwork(1, 1, { maxContentBytes: 300 });
  try {
    const peer = net.peers[0]!;
    assert.equal(peer.publish("€".repeat(100)).content.length, 100);
    assert.throws(
      () => peer.publish("€".repeat(101)),
      (error: unknown) =>
        error instanceof ContentTooLargeError && error instanceof RangeError &&
        error.field === "maxContentBytes" && error.bytes === 303 && error.limit === 300 &&
        error.message ===
          "PeerNode.publish: content must be at most maxContentBytes 300 bytes of UTF-8: got 303",
    );
    assert.equal(peer.messages().length, 1, "nothing of the refused message was stored");
  } finally {
    await net.stop();
  }
});

Deno.test("content at maxContentBytes, escaped at its worst, crosses every link: every peer stores it and no link closes", async () => {
  const net = await fakeNetwork(1, 5, TIGHT);
  try {
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    let closed = 0;
    for (const peer of net.peers) peer.events.on("neighbourRemoved", () => closed++);
    const contents = ["\u0001".repeat(1000), "€".repeat(333), "\ud800".repeat(333), '"\\'.repeat(500)];
    const ids = contents.map((content, i) => net.peers[i]!.publish(content).id);
    const stored = (id: string) => net.peers.filter((p) => p.messages().some((m) => m.id === id)).length;
    await net.waitFor(() => ids.every((id) => stored(id) === 5), { what: "every message at every peer" });
    assert.equal(closed, 0, "no link closed");
  } finally {
    await net.stop();
  }
});

Deno.test("a peer stores at most storeBytes of messages however many large ones pass, the newest kept", async () => {
  const net = await fakeNetwork(1, 2, { ...TIGHT, storeBytes: 20_000 });
  try {
    const a = net.peers[0]!;
    const b = net.peers[1]!;
    await net.waitFor(() => net.isConnected(), { what: "a link" });
    let last = "";
    for (let i = 0; i < 200; i++) {
      last = a.publish(`${i}:`.padEnd(333, "€")).id;
      await net.ground.clock.advance(1);
    }
    await net.waitFor(() => b.messages().some((m) => m.id === last), { what: "the last message at b" });
    for (const peer of [a, b]) {
      const bytes = peer.messages().reduce((sum, m) => sum + storedBytes(m), 0);
      assert.ok(bytes <= 20_000, `${peer.label} stores ${bytes} bytes`);
      assert.equal(peer.messages().at(-1)!.id, last);
      assert.ok(peer.messages().length >= 10, `${peer.messages().length} messages kept`);
    }
  } finally {
    await net.stop();
  }
});
