/** Table tests of the overlay's decisions: whom to dial, whom to accept, when to ask the seeds again. */

import assert from "node:assert/strict";
import {
  declineReason,
  nextSeedRetry,
  nextShortRetry,
  type PeerRequestFacts,
  pickDials,
} from "../../lib/peer/overlay_rules.ts";
import { mulberry32 } from "../_helpers.ts";

const REQUEST: PeerRequestFacts = {
  self: "127.0.0.1:5000",
  addr: "127.0.0.1:6000",
  onRemoteHost: true,
  neighbour: false,
  dialling: false,
  inbound: 3,
  maxInbound: 12,
};

Deno.test("declineReason accepts a fresh request and names why it declines any other", () => {
  const cases: [Partial<PeerRequestFacts>, string | undefined][] = [
    [{}, undefined],
    [{ addr: "127.0.0.1:5000" }, "that is my own address"],
    [{ onRemoteHost: false }, "announced address is not on your host"],
    [{ neighbour: true }, "already neighbours"],
    [{ dialling: true }, "simultaneous connect; mine wins"], // the smaller address's dial wins
    [{ dialling: true, addr: "127.0.0.1:4000" }, undefined], // its dial wins: accept
    [{ inbound: 12 }, "full: 12 inbound neighbours"],
    [{ inbound: 11 }, undefined],
  ];
  for (const [change, reason] of cases) {
    assert.equal(declineReason({ ...REQUEST, ...change }), reason, JSON.stringify(change));
  }
});

Deno.test("pickDials skips neighbours, dials under way and candidates backing off, and says when it ran short", () => {
  const known = ["a:1", "b:1", "c:1", "d:1", "e:1"];
  const state = {
    known,
    want: 2,
    now: 1000,
    isNeighbour: (addr: string) => addr === "a:1",
    isDialling: (addr: string) => addr === "b:1",
    backoffUntil: (addr: string) => addr === "c:1" ? 1001 : addr === "d:1" ? 1000 : undefined,
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
