/** A peer's messages table: batched writes in order, drops, and the bounded record of dropped ids. */

import assert from "node:assert/strict";
import { NodeDatabase } from "../../lib/store/node_database.ts";
import { withTempDir } from "../_process.ts";

Deno.test("MessageTable.commit writes queued messages and drops in order, however many, in one transaction", async () => {
  await withTempDir((dir) => {
    const db = NodeDatabase.open(dir, "peer");
    const ids = Array.from({ length: 45 }, (_, i) => `m${i}`);
    for (const id of ids) db.messages.add(id, JSON.stringify({ id }));
    db.messages.drop("m0", 1);
    db.messages.drop("m7", 2);
    for (const id of ["n0", "n1", "n2"]) db.messages.add(id, JSON.stringify({ id }));
    assert.equal(db.messages.pending, 50);
    db.messages.commit();
    assert.equal(db.messages.pending, 0);
    db.close();
    const again = NodeDatabase.open(dir, "peer");
    const saved = again.messages.load(0, 10);
    again.close();
    const expected = [...ids.filter((id) => id !== "m0" && id !== "m7"), "n0", "n1", "n2"];
    assert.deepEqual(saved.bodies.map((b) => JSON.parse(b).id), expected);
    assert.deepEqual(saved.seen, [{ id: "m0", seenAt: 1 }, { id: "m7", seenAt: 2 }]);
  });
});

Deno.test("MessageTable.pruneSeen forgets dropped ids from the oldest up to the first younger one, and past the count", async () => {
  await withTempDir((dir) => {
    const db = NodeDatabase.open(dir, "peer");
    for (const [id, at] of [["a", 1], ["b", 2], ["c", 10], ["d", 3], ["e", 11]] as const) {
      db.messages.drop(id, at);
    }
    db.messages.commit();
    db.messages.pruneSeen(5, 100);
    assert.deepEqual(db.messages.load(0, 100).seen.map((s) => s.id), ["c", "d", "e"]);
    db.messages.pruneSeen(5, 2);
    assert.deepEqual(db.messages.load(0, 100).seen.map((s) => s.id), ["d", "e"]);
    db.messages.pruneSeen(100, 100);
    assert.deepEqual(db.messages.load(0, 100).seen, []);
    db.close();
  });
});
