/** Table tests of the broadcast tree's decisions: the prune rule and the first-ask allowance. */

import assert from "node:assert/strict";
import {
  firstAskAllowance,
  judgeRepeat,
  type RepeatFacts,
  type RepeatVerdict,
  type TreeState,
} from "../../lib/peer/tree_rules.ts";

/** A repeat over a pushing link, of the newest message, whose first copy came 3 hops over another pushing link. */
const LOOP: RepeatFacts = {
  tree: true,
  markedOffTree: false,
  viaPushLink: true,
  firstFetched: false,
  newest: true,
  first: { offTree: false, firstSeen: 500, hops: 3 },
  linkSince: 100,
  firstLink: "push",
  hops: 3,
};

Deno.test("judgeRepeat prunes the repeat's link when it is no shorter, and the first copy's when it is shorter", () => {
  const cases: [string, Partial<RepeatFacts>, RepeatVerdict][] = [
    ["same length: the repeat's link goes", {}, "pruneSender"],
    ["up to pruneHopSlack longer: the repeat's link goes", { hops: 5 }, "pruneSender"],
    ["more than pruneHopSlack longer: the sender prunes its own first link", { hops: 6 }, "keep"],
    ["shorter: the first copy's pushing link goes", { hops: 2 }, "pruneFirstLink"],
    ["shorter, first copy over the same link: nothing", { hops: 2, firstLink: "same" }, "keep"],
    ["shorter, first copy published here: nothing", { hops: 2, firstLink: "none" }, "keep"],
    ["same link, no shorter: the link goes", { firstLink: "same" }, "pruneSender"],
    ["hop count not shown: the repeat's link goes", { hops: undefined }, "pruneSender"],
    [
      "only the id remembered: the repeat's link goes",
      { first: undefined, firstLink: "none" },
      "pruneSender",
    ],
  ];
  for (const [what, change, verdict] of cases) {
    assert.equal(judgeRepeat({ ...LOOP, ...change }), verdict, what);
  }
});

Deno.test("judgeRepeat prunes nothing for copies off the tree, older messages, newer links or flooding", () => {
  const cases: [string, Partial<RepeatFacts>, RepeatVerdict][] = [
    ["flood mode", { tree: false }, "keep"],
    ["the repeat is marked off the tree", { markedOffTree: true }, "keep"],
    ["the repeat came over an announce link", { viaPushLink: false }, "keep"],
    ["the first copy was fetched: a push-lag sample", { firstFetched: true }, "pushLag"],
    [
      "a fetched first copy of an older message is still a lag sample",
      { firstFetched: true, newest: false },
      "pushLag",
    ],
    ["newer messages arrived since", { newest: false }, "keep"],
    ["the first copy came off the tree", { first: { offTree: true, firstSeen: 500, hops: 3 } }, "keep"],
    ["the first copy came before the repeat's link opened", { linkSince: 500 }, "keep"],
    ["the first copy came over a link already pruned here", { firstLink: "announce" }, "keep"],
  ];
  for (const [what, change, verdict] of cases) {
    assert.equal(judgeRepeat({ ...LOOP, ...change }), verdict, what);
  }
});

Deno.test("firstAskAllowance waits for a late tree, not for a cut one", () => {
  const late: TreeState = {
    now: 100_000,
    fetchTimeout: 1000,
    pushLinkLostAt: 0,
    pushLag: 0,
    pushLinks: true,
  };
  const cases: [string, Partial<TreeState>, number][] = [
    ["a quiet tree: two more fetch timeouts", {}, 2000],
    ["the tree ran later than that lately", { pushLag: 4500 }, 4500],
    ["a pushing link was cut lately: ask after fetchTimeout", { pushLinkLostAt: 97_001 }, 0],
    ["no link pushes here: ask the moment it is announced", { pushLinks: false, pushLag: 4500 }, -1000],
    ["3 fetch timeouts after the cut, back to waiting", { pushLinkLostAt: 97_000, pushLag: 4500 }, 4500],
  ];
  for (const [what, change, expected] of cases) {
    assert.equal(firstAskAllowance({ ...late, ...change }), expected, what);
  }
});
