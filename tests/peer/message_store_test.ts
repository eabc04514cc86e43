/** What a peer keeps: stored messages and the ids of dropped ones, both bounded. */

import assert from "node:assert/strict";
import { SeenSet } from "../../lib/peer/seen_set.ts";
import { MessageStore } from "../../lib/peer/message_store.ts";

Deno.test("SeenSet forgets the oldest ids past its count and its age", () => {
  const seen = new SeenSet(3, 1000);
  for (const [i, id] of ["a", "b", "c", "d"].entries()) seen.add(id, i);
  assert.deepEqual(["a", "b", "c", "d"].map((id) => seen.has(id)), [false, true, true, true]);
  seen.prune(1002);
  assert.deepEqual(["b", "c", "d"].map((id) => seen.has(id)), [false, false, true]);
  assert.equal(seen.size, 1);
});

Deno.test("MessageStore keeps the newest storeLimit messages and remembers ids it no longer stores", () => {
  const store = new MessageStore({ storeLimit: 3, seenLimit: 10, seenTtl: 1000 });
  for (let i = 0; i < 5; i++) {
    store.add({
      id: `m${i}`,
      origin: "127.0.0.1:1",
      originId: "A".repeat(43),
      content: `${i}`,
      created: i,
      sig: undefined,
      firstSeen: i,
      seenAt: i,
      from: undefined,
      hops: 0,
      offTree: false,
      via: "self",
    });
  }
  assert.deepEqual(store.values().map((m) => m.id), ["m2", "m3", "m4"]);
  assert.equal(store.has("m0"), true, "seen, though no longer stored");
  assert.deepEqual(store.recentIds(2), ["m3", "m4"]);
  assert.deepEqual(store.missingFrom(["m3"], 10).map((m) => m.id), ["m2", "m4"]);
  assert.deepEqual(store.missingFrom([], 1).map((m) => m.id), ["m4"]);
  store.prune(2000);
  assert.equal(store.has("m0"), false, "forgotten past its age");
  assert.equal(store.has("m2"), true, "a stored message counts as seen whatever its age");
});
