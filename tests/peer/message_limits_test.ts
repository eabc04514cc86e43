/**
 * Message limits count what goes on the wire: content in bytes of UTF-8, checked when a
 * message is published, and small enough that every valid message fits in a frame.
 */

import assert from "node:assert/strict";
import { ContentTooLargeError } from "../../lib/peer/peer_node.ts";
import type { Settings } from "../../lib/settings/config.ts";
import { FakeNetwork } from "../_fake_network.ts";
import { storedBytes } from "../../lib/peer/message_store.ts";

/** The smallest frames that hold content of 1000 bytes escaped at its worst (6 bytes a byte). */
const TIGHT: Partial<Settings> = {
  maxContentBytes: 1000,
  maxFrameBytes: 8192,
  maxQueuedBytes: 16_400,
  storeLimit: 100,
  peerListLimit: 4,
};

Deno.test("publish counts content in bytes of UTF-8: 100 '€' fit 300 bytes, 101 are refused naming maxContentBytes", async () => {
  const net = new FakeNetwork({ settings: { maxContentBytes: 300 } });
  try {
    await net.addSeed("10.0.0.1");
    const peer = await net.addPeer("10.0.1.1");
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
  const net = new FakeNetwork({ settings: TIGHT });
  try {
    await net.addSeed("10.0.0.1");
    for (let i = 1; i <= 5; i++) await net.addPeer(`10.0.1.${i}`);
    await net.until(() => net.isConnected(), "a connected overlay");
    let closed = 0;
    for (const peer of net.peers) peer.events.on("neighbourRemoved", () => closed++);
    const contents = ["\u0001".repeat(1000), "€".repeat(333), "\ud800".repeat(333), '"\\'.repeat(500)];
    const ids = contents.map((content, i) => net.peers[i]!.publish(content).id);
    const stored = (id: string) => net.peers.filter((p) => p.messages().some((m) => m.id === id)).length;
    await net.until(() => ids.every((id) => stored(id) === 5), "every message at every peer");
    assert.equal(closed, 0, "no link closed");
  } finally {
    await net.stop();
  }
});

Deno.test("a peer stores at most storeBytes of messages however many large ones pass, the newest kept", async () => {
  const net = new FakeNetwork({ settings: { ...TIGHT, storeBytes: 20_000 } });
  try {
    await net.addSeed("10.0.0.1");
    const [a, b] = [await net.addPeer("10.0.1.1"), await net.addPeer("10.0.1.2")];
    await net.until(() => net.isConnected(), "a link");
    let last = "";
    for (let i = 0; i < 200; i++) {
      last = a.publish(`${i}:`.padEnd(333, "€")).id;
      await net.clock.advance(1);
    }
    await net.until(() => b.messages().some((m) => m.id === last), "the last message at b");
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
