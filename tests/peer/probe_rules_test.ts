/** Table tests of the failure detector's decisions: probe waits and whether a round counts. */

import assert from "node:assert/strict";
import {
  directProbeTimeout,
  judgeConfirmation,
  judgeRound,
  type ProbeRound,
  probeTimeout,
  type ProbeTiming,
} from "../../lib/peer/probe_rules.ts";

const TIMING: ProbeTiming = {
  probeTimeout: 2000,
  slowRtt: 0,
  livelinessInterval: 13_000,
  livelinessMisses: 3,
};

Deno.test("probeTimeout follows the slowest recent round trip up, from probeTimeout to interval × misses", () => {
  const cases: [Partial<ProbeTiming>, number][] = [
    [{}, 2000],
    [{ slowRtt: 900 }, 2000], // twice 900 is under the setting
    [{ slowRtt: 1500.4 }, 3001],
    [{ slowRtt: 30_000 }, 39_000], // capped at interval × misses
  ];
  for (const [change, expected] of cases) assert.equal(probeTimeout({ ...TIMING, ...change }), expected);
});

Deno.test("directProbeTimeout is a liveliness interval, at least twice the probe timeout", () => {
  assert.equal(directProbeTimeout(TIMING), 13_000);
  assert.equal(directProbeTimeout({ ...TIMING, slowRtt: 5000 }), 20_000);
  assert.equal(directProbeTimeout({ ...TIMING, livelinessInterval: 1000, probeTimeout: 800 }), 1600);
});

const ROUND: ProbeRound = {
  probed: 4,
  silent: 1,
  lateByMs: 0,
  probeTimeoutMs: 100,
  inconclusiveBefore: 0,
  missesLimit: 3,
};

Deno.test("judgeRound counts silence only when this node checked in time and most neighbours answered", () => {
  const cases: [Partial<ProbeRound>, boolean][] = [
    [{}, true],
    [{ silent: 2 }, true], // half silent still counts
    [{ silent: 3 }, false], // most silent at once: suspect this node
    [{ probed: 2, silent: 2 }, true], // too few neighbours to tell
    [{ lateByMs: 51 }, false], // checked late: this node is overloaded
    [{ lateByMs: 50 }, true],
    [{ silent: 4, inconclusiveBefore: 3 }, true], // after `missesLimit` inconclusive rounds, count anyway
    [{ lateByMs: 500, inconclusiveBefore: 2 }, false],
  ];
  for (const [change, counts] of cases) {
    assert.equal(judgeRound({ ...ROUND, ...change }).counts, counts, JSON.stringify(change));
  }
});

Deno.test("judgeConfirmation: dead when the direct probe fails, unresponsive when it answers once too often", () => {
  const cases: [boolean, boolean, number, string][] = [
    [false, false, 0, "dead"],
    [false, false, 5, "dead"],
    [true, false, 0, "spared"],
    [true, false, 1, "spared"],
    [true, false, 2, "unresponsive"], // answered fresh probes twice before, its link silent all along
    [false, true, 9, "spared"], // inconclusive: the silence may be this node's
  ];
  for (const [alive, inconclusive, spared, verdict] of cases) {
    assert.equal(
      judgeConfirmation({ alive, inconclusive, spared }),
      verdict,
      `${alive} ${inconclusive} ${spared}`,
    );
  }
});
