/** Catch-up's decisions: what one page of history holds. */

import assert from "node:assert/strict";
import { joinsPage, recentPageStart } from "../../lib/peer/catch_up_rules.ts";

const LIMITS = { count: 3, bytes: 100 };

Deno.test("joinsPage takes messages within the page's count and bytes, and the first whatever its size", () => {
  const cases: [number, number, number, boolean, string][] = [
    [0, 0, 500, true, "the first message, larger than a page"],
    [1, 40, 60, true, "exactly filling the page"],
    [1, 40, 61, false, "one byte over"],
    [2, 10, 10, true, "the third"],
    [3, 10, 10, false, "a fourth past the count"],
  ];
  for (const [count, bytes, frame, joins, what] of cases) {
    assert.equal(joinsPage(count, bytes, frame, LIMITS), joins, what);
  }
});

Deno.test("recentPageStart keeps the newest messages that fit one page, skipping those no longer stored", () => {
  const cases: [number[], number, string][] = [
    [[10, 10, 10, 10, 10], 2, "the newest three by count"],
    [[10, 50, 60, 30], 2, "the newest two by bytes"],
    [[10, 10, 500], 2, "the newest alone, larger than a page"],
    [[10, 0, 0, 10], 0, "evicted ones skipped, not counted"],
    [[], 0, "nothing to send"],
  ];
  for (const [sizes, start, what] of cases) {
    assert.equal(recentPageStart(sizes.length, (i) => sizes[i]!, LIMITS), start, what);
  }
});
