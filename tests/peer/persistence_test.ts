/** A peer's messages in its data directory: batched commits, deliveries after them, restore. */

import assert from "node:assert/strict";
import { NodeCore } from "../../lib/node/node_core.ts";
import { MessageStore, type StoredMessage } from "../../lib/peer/message_store.ts";
import { PeerPersistence } from "../../lib/peer/persistence.ts";
import { type Settings, TUNING } from "../../lib/settings/config.ts";
import { FakeClock } from "../../lib/util/clock.ts";
import { DataDirError, NodeDatabase } from "../../lib/store/node_database.ts";
import { withLogs } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

/** A message `id` first seen at wall-clock time `at`. */
function stored(id: string, at = 1_700_000_000_000): StoredMessage {
  return {
    id,
    origin: "127.0.0.1:1",
    originId: "A".repeat(43),
    content: `content of ${id}`,
    created: at,
    sig: "s".repeat(86),
    firstSeen: 0,
    seenAt: at,
    from: "127.0.0.1:2",
    hops: 3,
    offTree: false,
    via: "push",
  };
}

/** A peer's store and persistence on `dataDir`, as a PeerNode wires them, on fake time. */
function openPeer(dataDir: string, settings: Partial<Settings> = {}, candidates: string[] = []) {
  const clock = new FakeClock();
  const core = new NodeCore("peer", { settings: { dataDir, ...settings }, clock }, 0);
  const store = new MessageStore(core.settings);
  const delivered: string[] = [];
  const saved = new PeerPersistence(core, core.database!, store, {
    deliver: (message) => {
      assert.equal(core.database!.messages.pending, 0, "delivered only once committed");
      delivered.push(message.id);
    },
    candidates: () => candidates,
  });
  const restored = saved.restore();
  /** Stores and delivers `message` as the broadcast tree does. */
  const receive = (message: StoredMessage) => {
    store.add(message);
    saved.deliver(message);
  };
  return { clock, core, store, saved, delivered, restored, receive };
}

Deno.test("with a data directory a message is delivered once the batch that stores it is committed: at the end of the turn, or at once when the batch is full", async () => {
  await withTempDir(async (dir) => {
    const peer = openPeer(dir);
    for (const id of ["a", "b", "c"]) peer.receive(stored(id));
    assert.deepEqual(peer.delivered, [], "nothing delivered before the commit");
    assert.equal(peer.core.database!.messages.pending, 3);
    await peer.clock.advance(0);
    assert.deepEqual(peer.delivered, ["a", "b", "c"]);

    const batch = Array.from({ length: TUNING.storeBatchMessages }, (_, i) => `m${i}`);
    for (const id of batch) peer.receive(stored(id));
    assert.equal(peer.delivered.length, 3 + TUNING.storeBatchMessages, "a full batch commits at once");
    peer.saved.close();

    const again = openPeer(dir);
    assert.deepEqual(again.store.values().map((m) => m.id), ["a", "b", "c", ...batch]);
    assert.deepEqual(again.restored, { messages: 3 + batch.length, seen: 0, peers: 0 });
    const { firstSeen: _, ...kept } = again.store.get("b")!;
    const { firstSeen: __, ...original } = stored("b");
    assert.deepEqual(kept, original, "a message comes back as it was stored");
    again.saved.close();
  });
});

Deno.test("messages dropped past storeLimit leave the database, and their ids are still seen after a restart", async () => {
  await withTempDir(async (dir) => {
    const peer = openPeer(dir, { storeLimit: 5 });
    for (let i = 0; i < 8; i++) peer.receive(stored(`m${i}`));
    await peer.clock.advance(0);
    peer.saved.close();

    const again = openPeer(dir, { storeLimit: 5 });
    assert.deepEqual(again.store.values().map((m) => m.id), ["m3", "m4", "m5", "m6", "m7"]);
    assert.deepEqual(again.restored, { messages: 5, seen: 3, peers: 0 });
    assert.equal(again.store.has("m0"), true, "dropped before the restart, still seen");
    assert.equal(again.store.get("m0"), undefined);
    again.saved.close();

    // Restarted with a lower bound: the oldest go, from the database too.
    const lower = openPeer(dir, { storeLimit: 2 });
    assert.deepEqual(lower.store.values().map((m) => m.id), ["m6", "m7"]);
    lower.saved.close();
    const db = NodeDatabase.open(dir, "peer");
    const saved = db.messages.load(0, 100);
    db.close();
    assert.equal(saved.bodies.length, 2);
    assert.deepEqual(saved.seen.map((s) => s.id), ["m0", "m1", "m2", "m3", "m4", "m5"]);
  });
});

Deno.test("dropped ids older than seenTtl are not restored", async () => {
  await withTempDir(async (dir) => {
    const peer = openPeer(dir, { storeLimit: 1, seenTtl: 60_000 });
    const now = peer.clock.wallNow();
    peer.receive(stored("old", now - 120_000));
    peer.receive(stored("recent", now - 1_000));
    peer.receive(stored("kept", now));
    await peer.clock.advance(0);
    peer.saved.close();
    const again = openPeer(dir, { storeLimit: 1, seenTtl: 60_000 });
    assert.deepEqual([again.store.has("old"), again.store.has("recent"), again.store.has("kept")], [
      false,
      true,
      true,
    ]);
    again.saved.close();
  });
});

Deno.test("a peer's known peers are kept at close and given back at the next start", async () => {
  await withTempDir((dir) => {
    const peer = openPeer(dir, {}, ["127.0.0.1:7001", "127.0.0.1:7002"]);
    assert.deepEqual(peer.saved.knownPeers(), []);
    peer.saved.close();
    const again = openPeer(dir);
    assert.deepEqual(again.saved.knownPeers(), ["127.0.0.1:7001", "127.0.0.1:7002"]);
    assert.equal(again.restored.peers, 2);
    // None known at close: the saved ones stay for the next run.
    again.saved.close();
    const third = openPeer(dir);
    assert.deepEqual(third.saved.knownPeers(), ["127.0.0.1:7001", "127.0.0.1:7002"]);
    third.saved.close();
  });
});

Deno.test("a batch that fails to commit is logged, its messages wait undelivered, and it is tried again", async () => {
  await withTempDir(async (dir) => {
    await withLogs(async (records) => {
      const peer = openPeer(dir);
      const table = peer.core.database!.messages;
      const commit = table.commit.bind(table);
      let failures = 1;
      table.commit = () => {
        if (failures-- > 0) throw new Error("disk I/O error");
        commit();
      };
      peer.receive(stored("a"));
      await peer.clock.advance(0);
      assert.deepEqual(peer.delivered, []);
      const failed = records.find((r) => r.properties.event === "store.write_failed");
      assert.equal(failed?.properties.error, "disk I/O error");
      await peer.clock.advance(TUNING.storeRetryMs);
      assert.deepEqual(peer.delivered, ["a"]);
      peer.saved.close();
    });
  });
});

Deno.test("a stored message that p2pnet did not write stops the restore with one line, and nothing is rewritten", async () => {
  await withTempDir(async (dir) => {
    const db = NodeDatabase.open(dir, "peer");
    db.messages.add("good", JSON.stringify(stored("good")));
    db.messages.add("bad", '{"id": 42}');
    db.messages.commit();
    db.close();
    const before = await Deno.readFile(`${dir}/p2pnet.db`);
    assert.throws(
      () => openPeer(dir),
      (error: Error) =>
        error instanceof DataDirError &&
        error.message === `data directory ${dir}: p2pnet.db: stored message 2 is not one p2pnet wrote; ` +
            "move the file away to start afresh",
    );
    assert.deepEqual(await Deno.readFile(`${dir}/p2pnet.db`), before);
  });
});
