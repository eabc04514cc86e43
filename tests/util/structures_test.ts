/** Small bounded structures and helpers of lib/util/: token bucket, decaying maximum, scheduler, sampling. */

import assert from "node:assert/strict";
import { sample, shuffled } from "../../lib/util/random.ts";
import { TokenBucket } from "../../lib/util/rate_limiter.ts";
import { DecayingMax } from "../../lib/util/decaying_max.ts";
import { Scheduler } from "../../lib/util/scheduler.ts";
import { fitsUtf8, utf8Length } from "../../lib/util/utf8.ts";

Deno.test("TokenBucket passes a burst, then the rate", () => {
  const bucket = new TokenBucket(10, 20, 0);
  let passed = 0;
  for (let i = 0; i < 30; i++) if (bucket.take(1, 0)) passed++;
  assert.equal(passed, 20);
  assert.equal(bucket.take(1, 50), false); // half a token after 50 ms
  assert.equal(bucket.take(1, 100), true); // one token after 100 ms
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

Deno.test("utf8Length counts the bytes TextEncoder writes, lone surrogates as U+FFFD", () => {
  const encoder = new TextEncoder();
  const cases = [
    "",
    "hello",
    "é",
    "€",
    "€".repeat(5),
    "😀",
    "a😀b",
    "\ud800",
    "\udc00x",
    "\ud800\ud800",
    "\u0001\u007f\u0080\u07ff\u0800\uffff",
  ];
  for (const text of cases) assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
  assert.equal(fitsUtf8("€".repeat(100), 300), true);
  assert.equal(fitsUtf8("€".repeat(101), 300), false, "101 characters, 303 bytes");
  assert.equal(fitsUtf8("x".repeat(301), 300), false);
  assert.equal(fitsUtf8("x".repeat(100), 300), true);
});
