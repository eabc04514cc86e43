/** Table test of the join loop's wait between rounds. */

import assert from "node:assert/strict";
import { joinRetryDelay } from "../../lib/peer/join_rules.ts";
import { TUNING } from "../../lib/settings/config.ts";

Deno.test("joinRetryDelay doubles from joinRetryFirstMs up to joinRetryMaxMs, shortened by jitter", () => {
  assert.deepEqual(
    [TUNING.joinRetryFirstMs, TUNING.joinRetryMaxMs, TUNING.joinRetryJitter],
    [1000, 30_000, 0.5],
    "the table assumes the shipped tuning",
  );
  const cases: [number, number, number][] = [
    // round, random, wait
    [1, 0, 1000],
    [2, 0, 2000],
    [3, 0, 4000],
    [5, 0, 16_000],
    [6, 0, 30_000],
    [40, 0, 30_000],
    [1, 0.5, 750],
    [1, 0.999, 500],
    [6, 0.999, 15_015],
    [0, 0, 1000],
  ];
  for (const [round, random, wait] of cases) {
    assert.equal(joinRetryDelay(round, random), wait, `round ${round}, random ${random}`);
  }
});
