/** Table tests of the overlay's decisions: whom to dial, whom to accept, when to ask the seeds again. */

import assert from "node:assert/strict";
import {
  declineReason,
  healRetryDelay,
  type LostCandidate,
  nextSeedRetry,
  nextShortRetry,
  offenceBackoff,
  OFFENDER_DECLINE,
  type PeerRequestFacts,
  pickDials,
  pickHealDial,
} from "../../lib/peer/overlay_rules.ts";
import { TUNING } from "../../lib/settings/config.ts";
import { mulberry32 } from "../_helpers.ts";

const REQUEST: PeerRequestFacts = {
  self: "127.0.0.1:5000",
  addr: "127.0.0.1:6000",
  onRemoteHost: true,
  neighbour: false,
  dialling: false,
  inbound: 3,
  maxInbound: 12,
  offender: false,
};

Deno.test("declineReason accepts a fresh request and names why it declines any other", () => {
  const cases: [Partial<PeerRequestFacts>, string | undefined][] = [
    [{}, undefined],
    [{ addr: "127.0.0.1:5000" }, "that is my own address"],
    [{ onRemoteHost: false }, "announced address is not on your host"],
    [{ neighbour: true }, "already neighbours"],
    [{ offender: true, neighbour: true }, OFFENDER_DECLINE],
    [{ dialling: true }, "simultaneous connect; mine wins"], // the smaller address's dial wins
    [{ dialling: true, addr: "127.0.0.1:4000" }, undefined], // its dial wins: accept
    [{ inbound: 12 }, "full: 12 inbound neighbours"],
    [{ inbound: 11 }, undefined],
  ];
  for (const [change, reason] of cases) {
    assert.equal(declineReason({ ...REQUEST, ...change }), reason, JSON.stringify(change));
  }
});

Deno.test("pickDials skips neighbours, dials under way, candidates backing off and banned hosts, and says when it ran short", () => {
  const known = ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1"];
  const state = {
    known,
    want: 2,
    now: 1000,
    isNeighbour: (addr: string) => addr === "a:1",
    isDialling: (addr: string) => addr === "b:1",
    backoffUntil: (addr: string) => addr === "c:1" ? 1001 : addr === "d:1" ? 1000 : undefined,
    isBanned: (addr: string) => addr === "f:1",
    random: mulberry32(7),
  };
  const { dial, short } = pickDials(state);
  assert.deepEqual([...dial].sort(), ["d:1", "e:1"], "a backoff that ended at now no longer counts");
  assert.equal(short, false);
  assert.deepEqual(pickDials({ ...state, want: 3 }).short, true, "two candidates for three links");
  assert.deepEqual(pickDials({ ...state, want: 0 }), { dial: [], short: false });
});

Deno.test("nextShortRetry starts at overlayInterval / shortRetryDivisor and doubles while shorter than a round", () => {
  const waits: number[] = [];
  for (let wait = nextShortRetry(0, 1000); wait !== undefined; wait = nextShortRetry(wait, 1000)) {
    waits.push(wait);
  }
  assert.deepEqual(waits, [50, 100, 200, 400, 800]);
});

Deno.test("nextSeedRetry starts at seedTimeout and doubles while shorter than the renewal period", () => {
  const waits: number[] = [];
  for (
    let wait = nextSeedRetry(0, 3000, 39_000);
    wait !== undefined;
    wait = nextSeedRetry(wait, 3000, 39_000)
  ) {
    waits.push(wait);
  }
  assert.deepEqual(waits, [3000, 6000, 12_000, 24_000]);
  assert.equal(nextSeedRetry(0, 3000, 3000), undefined, "renewals come as often: no retry of its own");
});

Deno.test("offenceBackoff doubles with each offence from two overlay rounds, up to the ban time", () => {
  const table: [number, number][] = [[1, 10_000], [2, 20_000], [3, 40_000], [4, 60_000], [9, 60_000]];
  for (const [offences, ms] of table) {
    assert.equal(offenceBackoff(offences, 5000, 60_000), ms, `offence ${offences}`);
  }
});

Deno.test("healRetryDelay doubles from one overlay round up to healRetryMaxRounds", () => {
  const waits = [0, 1, 2, 3, 4, 10].map((attempts) => healRetryDelay(attempts, 1000));
  assert.deepEqual(waits, [1000, 2000, 4000, 4000, 4000, 4000]);
  assert.equal(TUNING.healRetryMaxRounds, 4, "the table above assumes the shipped cap");
});

Deno.test("pickHealDial dials the earliest due lost neighbour that is not linked, dialled or banned, and drops old ones", () => {
  const lost = new Map<string, LostCandidate>([
    ["old:1", { since: 0, retryAt: 750 }],
    ["linked:1", { since: 500, retryAt: 500 }],
    ["banned:1", { since: 500, retryAt: 500 }],
    ["later:1", { since: 500, retryAt: 2000 }],
    ["due:1", { since: 500, retryAt: 900 }],
    ["due:2", { since: 500, retryAt: 800 }],
  ]);
  const state = {
    lost,
    now: 1000,
    retainMs: 600,
    isNeighbour: (addr: string) => addr === "linked:1",
    isDialling: () => false,
    isBanned: (addr: string) => addr === "banned:1",
  };
  assert.deepEqual(pickHealDial(state), { dial: "due:2", expired: ["old:1"] });
  assert.deepEqual(pickHealDial({ ...state, isDialling: (a) => a === "due:2" }).dial, "due:1");
  assert.deepEqual(pickHealDial({ ...state, now: 700, retainMs: 1000 }).dial, undefined, "none due yet");
});
