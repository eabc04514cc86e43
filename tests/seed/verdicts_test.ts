/** Table tests of a seed's decisions about death reports. */

import assert from "node:assert/strict";
import {
  admitReport,
  type ContradictionFacts,
  excuseReport,
  judgeProbe,
  type ProbeStep,
  type ReportFacts,
} from "../../lib/seed/verdicts.ts";

const DEAD: ReportFacts = {
  reason: "dead",
  addr: "127.0.0.1:7000",
  reporterField: "127.0.0.1:5000",
  reporter: "127.0.0.1:5000",
  onRegisteredConnection: true,
  accusedListed: true,
};

Deno.test("admitReport verifies a report of another listed peer and takes a leave only from the peer itself", () => {
  const leave = { ...DEAD, reason: "leaving" as const, addr: DEAD.reporter };
  const cases: [string, ReportFacts, string][] = [
    ["a listed peer reported dead", DEAD, "verify"],
    ["a peer the seed does not list", { ...DEAD, accusedListed: false }, "ignore"],
    [
      "a reporter field naming another peer",
      { ...DEAD, reporterField: "127.0.0.1:1" },
      "refuse: reporter field says 127.0.0.1:1",
    ],
    [
      "a peer reporting itself dead",
      { ...DEAD, addr: DEAD.reporter },
      "refuse: a peer cannot report itself dead",
    ],
    ["a leave from the peer, on its registered connection", leave, "leave"],
    [
      "a leave for another peer",
      { ...leave, addr: "127.0.0.1:7000" },
      "refuse: only a peer itself may leave",
    ],
    [
      "a leave on another connection",
      { ...leave, onRegisteredConnection: false },
      "refuse: leave not sent on the registering connection",
    ],
  ];
  for (const [what, facts, expected] of cases) {
    const decision = admitReport(facts);
    assert.equal(decision.action === "refuse" ? `refuse: ${decision.why}` : decision.action, expected, what);
  }
});

Deno.test("judgeProbe keeps answering peers, removes refused ones at once and silent ones after misses + 1 probes", () => {
  const noReply = { alive: false as const, reason: "no reply" };
  const base = { attempt: 1, inconclusive: 0, maxInconclusive: 10, missesLimit: 3, renewed: false };
  const cases: [string, ProbeStep, string][] = [
    [
      "it answered: the report was false",
      { ...base, result: { alive: true, rttMs: 3 } },
      "keep, false report",
    ],
    ["nothing listens there", { ...base, result: { alive: false, reason: "connect refused" } }, "remove"],
    ["first silence", { ...base, result: noReply }, "retry"],
    ["third silence", { ...base, attempt: 3, result: noReply }, "retry"],
    ["fourth silence (misses + 1)", { ...base, attempt: 4, result: noReply }, "remove"],
    ["a connect that times out counts as silence", {
      ...base,
      attempt: 4,
      result: { alive: false, reason: "connect timed out" },
    }, "remove"],
    [
      "silent but it renewed its registration: busy",
      { ...base, attempt: 2, renewed: true, result: noReply },
      "keep",
    ],
    ["refused even though it renewed", {
      ...base,
      renewed: true,
      result: { alive: false, reason: "connect refused" },
    }, "remove"],
    [
      "this seed too busy to judge",
      { ...base, inconclusive: 9, result: { ...noReply, inconclusive: true } },
      "retry, inconclusive",
    ],
    ["too busy too often: keep, blame no one", {
      ...base,
      inconclusive: 10,
      result: { ...noReply, inconclusive: true },
    }, "keep"],
  ];
  for (const [what, step, expected] of cases) {
    const v = judgeProbe(step);
    const shown = v.action === "keep"
      ? (v.falseReport ? "keep, false report" : "keep")
      : v.action === "retry" && v.inconclusive
      ? "retry, inconclusive"
      : v.action;
    assert.equal(shown, expected, what);
  }
});

Deno.test("excuseReport counts a contradicted report as a lie only when the seed kept contact with both sides", () => {
  const steady = { lastHeard: 9_900, silenceEndedAt: -Infinity };
  const facts: ContradictionFacts = {
    now: 10_000,
    reportAt: 9_000,
    windowMs: 3000,
    silenceMs: 500,
    reporter: steady,
    accused: steady,
  };
  const cases: [string, Partial<ContradictionFacts>, string | undefined][] = [
    ["in contact with both throughout: a lie", {}, undefined],
    [
      "the reporter is silent now",
      { reporter: { lastHeard: 9_400, silenceEndedAt: -Infinity } },
      "lost contact with the reporter",
    ],
    [
      "the reporter's silence ended within the window (its report came late, after a partition)",
      { reporter: { lastHeard: 9_990, silenceEndedAt: 9_200 } },
      "out of contact with the reporter lately",
    ],
    [
      "a silence that ended before the window does not excuse",
      { reporter: { lastHeard: 9_990, silenceEndedAt: 5_999 } },
      undefined,
    ],
    [
      "the accused was cut off from this seed during the check",
      { accused: { lastHeard: 9_990, silenceEndedAt: 9_950 } },
      "out of contact with the accused lately",
    ],
    ["the accused has no connection to this seed", { accused: undefined }, "no connection to the accused"],
    ["the reporter has none", { reporter: undefined }, "no connection to the reporter"],
  ];
  for (const [what, change, excuse] of cases) {
    const got = excuseReport({ ...facts, ...change });
    if (excuse === undefined) assert.equal(got, undefined, what);
    else assert.ok(got?.includes(excuse), `${what}: ${got}`);
  }
});
