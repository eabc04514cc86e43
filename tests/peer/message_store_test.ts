/** What a peer keeps: stored messages and the ids of dropped ones, both bounded. */

import assert from "node:assert/strict";
import { SeenSet } from "../../lib/peer/seen_set.ts";
import { MessageStore, storedBytes, type StoredMessage } from "../../lib/peer/message_store.ts";
import { TUNING } from "../../lib/settings/config.ts";

Deno.test("SeenSet forgets the oldest ids past its count and its age", () => {
  const seen = new SeenSet(3, 1000);
  for (const [i, id] of ["a", "b", "c", "d"].entries()) seen.add(id, i);
  assert.deepEqual(["a", "b", "c", "d"].map((id) => seen.has(id)), [false, true, true, true]);
  seen.prune(1002);
  assert.deepEqual(["b", "c", "d"].map((id) => seen.has(id)), [false, false, true]);
  assert.equal(seen.size, 1);
});

/** A stored message `id` with `content`, first seen at `at`. */
function stored(id: string, content = id, at = 0): StoredMessage {
  return {
    id,
    origin: "127.0.0.1:1",
    originId: "A".repeat(43),
    content,
    created: at,
    sig: undefined,
    firstSeen: at,
    seenAt: at,
    from: undefined,
    hops: 0,
    offTree: false,
    via: "self",
  };
}

const UNBOUNDED = { storeLimit: 1000, storeBytes: 1 << 30, seenLimit: 10, seenTtl: 1000 };

Deno.test("MessageStore keeps the newest storeLimit messages and remembers ids it no longer stores", () => {
  const store = new MessageStore({ ...UNBOUNDED, storeLimit: 3 });
  for (let i = 0; i < 5; i++) store.add(stored(`m${i}`, `${i}`, i));
  assert.deepEqual(store.values().map((m) => m.id), ["m2", "m3", "m4"]);
  assert.equal(store.has("m0"), true, "seen, though no longer stored");
  assert.deepEqual(store.recentIds(2), ["m3", "m4"]);
  store.prune(2000);
  assert.equal(store.has("m0"), false, "forgotten past its age");
  assert.equal(store.has("m2"), true, "a stored message counts as seen whatever its age");
});

Deno.test("MessageStore keeps at most storeBytes of messages, counting content in UTF-8, oldest out first", () => {
  // Each message counts 100 bytes of content, 11 of origin and the fixed overhead.
  const each = 100 + 11 + TUNING.storedMessageBytes;
  assert.equal(storedBytes(stored("x", "€".repeat(33) + "a")), each, "a '€' counts 3 bytes");
  const store = new MessageStore({ ...UNBOUNDED, storeBytes: 3 * each + 10 });
  for (let i = 0; i < 10; i++) store.add(stored(`m${i}`, "x".repeat(100)));
  assert.deepEqual(store.values().map((m) => m.id), ["m7", "m8", "m9"]);
  assert.equal(store.bytes, 3 * each);
  store.add(stored("big", "€".repeat(400)));
  assert.deepEqual(store.values().map((m) => m.id), ["big"], "the newest stays even if it alone is over");
  assert.equal(store.has("m9"), true, "evicted ids are still seen");
});

Deno.test("MessageStore's seen set stays bounded however many messages pass through", () => {
  const store = new MessageStore({ storeLimit: 5, storeBytes: 1 << 30, seenLimit: 20, seenTtl: 1_000_000 });
  for (let i = 0; i < 10_000; i++) store.add(stored(`m${i}`, "x", i));
  assert.equal(store.size, 5);
  const seen = Array.from({ length: 10_000 }, (_, i) => store.has(`m${i}`)).filter(Boolean).length;
  assert.equal(seen, 25, "5 stored and the 20 most recent dropped ids");
});

Deno.test("MessageStore lists the messages a peer lacks by sequence number, and reads them back until evicted", () => {
  const store = new MessageStore({ ...UNBOUNDED, storeLimit: 4 });
  for (let i = 0; i < 4; i++) store.add(stored(`m${i}`));
  const missing = store.missingSeqs(["m1"]);
  assert.deepEqual(missing.map((seq) => store.atSeq(seq)?.id), ["m0", "m2", "m3"]);
  store.add(stored("m4"));
  store.add(stored("m5"));
  assert.deepEqual(missing.map((seq) => store.atSeq(seq)?.id), [undefined, "m2", "m3"], "m0 was evicted");
  assert.deepEqual(store.missingSeqs([]).map((seq) => store.atSeq(seq)?.id), ["m2", "m3", "m4", "m5"]);
  assert.equal(store.atSeq(99), undefined);
  // Past a thousand evictions the front of the order is dropped: the numbers still hold.
  for (let i = 6; i < 3000; i++) store.add(stored(`m${i}`));
  const tail = store.missingSeqs([]);
  assert.deepEqual(tail.map((seq) => store.atSeq(seq)?.id), ["m2996", "m2997", "m2998", "m2999"]);
});
