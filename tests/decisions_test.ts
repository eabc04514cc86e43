/** Table tests of the pure decision functions and small bounded structures. */

import assert from "node:assert/strict";
import { BanList } from "../lib/net/ban_list.ts";
import { sample, shuffled } from "../lib/util/random.ts";
import { TokenBucket } from "../lib/util/rate_limiter.ts";
import { DecayingMax } from "../lib/util/decaying_max.ts";
import { Scheduler } from "../lib/util/scheduler.ts";
import { SeenSet } from "../lib/peer/seen_set.ts";
import { MessageStore } from "../lib/peer/message_store.ts";
import { hostMatches, isAddress, parseAddress } from "../lib/wire/address.ts";

Deno.test("SeenSet forgets the oldest ids past its count and its age", () => {
  const seen = new SeenSet(3, 1000);
  for (const [i, id] of ["a", "b", "c", "d"].entries()) seen.add(id, i);
  assert.deepEqual(["a", "b", "c", "d"].map((id) => seen.has(id)), [false, true, true, true]);
  seen.prune(1002);
  assert.deepEqual(["b", "c", "d"].map((id) => seen.has(id)), [false, false, true]);
  assert.equal(seen.size, 1);
});

Deno.test("TokenBucket passes a burst, then the rate", () => {
  const bucket = new TokenBucket(10, 20, 0);
  let passed = 0;
  for (let i = 0; i < 30; i++) if (bucket.take(1, 0)) passed++;
  assert.equal(passed, 20);
  assert.equal(bucket.take(1, 50), false); // half a token after 50 ms
  assert.equal(bucket.take(1, 100), true); // one token after 100 ms
});

Deno.test("BanList bans a host after threshold strikes within the window, for banTime", () => {
  const bans = new BanList(3, 1000);
  assert.equal(bans.strike("h", 0), false);
  assert.equal(bans.strike("h", 10), false);
  assert.equal(bans.strike("h", 20), true);
  assert.equal(bans.isBanned("h", 500), true);
  assert.equal(bans.isBanned("other", 500), false);
  assert.equal(bans.isBanned("h", 1021), false);
  // Strikes further apart than the window do not add up.
  assert.equal(bans.strike("x", 0), false);
  assert.equal(bans.strike("x", 600), false);
  assert.equal(bans.strike("x", 1700), false);
  assert.equal(new BanList(0, 1000).strike("h", 0), false, "threshold 0 never bans");
});

Deno.test("Scheduler runs periodic and one-shot tasks on one timer and leaves none after stop", async () => {
  const scheduler = new Scheduler();
  const ran: string[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  // Registered first, so it is due first even if the clock moves between the two calls.
  scheduler.after(1, () => ran.push("once"));
  scheduler.every(5, () => {
    ran.push("tick");
    if (ran.filter((r) => r === "tick").length === 3) resolve();
  });
  const cancel = scheduler.after(2, () => ran.push("cancelled"));
  cancel();
  await promise;
  scheduler.stop();
  assert.equal(ran[0], "once");
  assert.ok(!ran.includes("cancelled"));
  assert.equal(ran.filter((r) => r === "tick").length, 3);
});

Deno.test("sample and shuffled pick distinct items without losing any", () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  assert.deepEqual([...shuffled(items)].sort((a, b) => a - b), items);
  const picked = sample(items, 10);
  assert.equal(new Set(picked).size, 10);
  assert.deepEqual(sample(items.slice(0, 3), 10).sort(), [0, 1, 2]);
});

Deno.test("isAddress accepts exactly what parseAddress parses", () => {
  const parses = (text: string) => {
    try {
      parseAddress(text);
      return true;
    } catch {
      return false;
    }
  };
  const cases = [
    "127.0.0.1:6001",
    "localhost:1",
    "host:65535",
    "host:65536",
    "host:0",
    "host:00080",
    "host:123456",
    "[::1]:6001",
    "[::ffff:127.0.0.1]:80",
    "[::1]:0",
    "[zz]:80",
    "::1:80",
    "host:",
    ":80",
    "a b:80",
    "host:8a",
    "host:80\n",
    "[::1]:80:",
    "",
  ];
  for (const text of cases) assert.equal(isAddress(text), parses(text), JSON.stringify(text));
  // Random strings over the characters that matter.
  const alphabet = "0123456789:[].af ab\n";
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    let text = "";
    const length = Math.floor(next() * 12);
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
    assert.equal(isAddress(text), parses(text), JSON.stringify(text));
  }
});

Deno.test("hostMatches accepts only an announced address on the connection's own host", () => {
  const remote = parseAddress("127.0.0.1:5555");
  assert.equal(hostMatches(remote, "127.0.0.1:7000"), true);
  assert.equal(hostMatches(remote, "localhost:7000"), true);
  assert.equal(hostMatches({ host: "::ffff:127.0.0.1", port: 1 }, "127.0.0.1:7000"), true);
  assert.equal(hostMatches(remote, "10.0.0.1:7000"), false);
  assert.equal(hostMatches(remote, "not an address"), false);
});

Deno.test("MessageStore keeps the newest storeLimit messages and remembers ids it no longer stores", () => {
  const store = new MessageStore({ storeLimit: 3, seenLimit: 10, seenTtl: 1000 });
  for (let i = 0; i < 5; i++) {
    store.add({
      id: `m${i}`,
      origin: "127.0.0.1:1",
      content: `${i}`,
      created: i,
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

Deno.test("DecayingMax keeps the largest recent sample and lets it fade by half every half-life", () => {
  const max = new DecayingMax(1000);
  assert.equal(max.valueAt(0), 0);
  max.note(800, 0);
  assert.equal(max.valueAt(1000), 400);
  max.note(300, 1000); // smaller than the faded 400: ignored
  assert.equal(max.valueAt(2000), 200);
  max.note(500, 2000); // larger than the faded 200: the new maximum
  assert.equal(max.valueAt(2000), 500);
  assert.equal(max.valueAt(3000), 250);
});
