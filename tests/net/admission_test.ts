/** The endpoint's decisions: which connection it takes, and which it closes for doing nothing. */

import assert from "node:assert/strict";
import { type Arrival, expiry, isLoopback, refusal } from "../../lib/net/admission.ts";

const ROOMY: Arrival = {
  banned: false,
  connections: 10,
  maxConnections: 100,
  fromHost: 3,
  maxConnectionsPerHost: 4,
  loopback: false,
};

Deno.test("refusal takes a connection within both caps and names the cap it would pass", () => {
  const cases: [Partial<Arrival>, string | undefined][] = [
    [{}, undefined],
    [{ banned: true }, "banned"],
    [{ connections: 100 }, "connection limit 100 reached"],
    [{ fromHost: 4 }, "limit of 4 connections from one host reached"],
    [{ fromHost: 400, loopback: true }, undefined],
    [{ fromHost: 400, loopback: true, connections: 100 }, "connection limit 100 reached"],
  ];
  for (const [change, why] of cases) {
    assert.equal(refusal({ ...ROOMY, ...change })?.why, why, JSON.stringify(change));
  }
  assert.equal(refusal({ ...ROOMY, fromHost: 4 })?.reason, "host_limit");
});

Deno.test("isLoopback knows 127.0.0.0/8, its IPv4-mapped form and ::1, and nothing else", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::ffff:127.0.0.1", "::1"]) {
    assert.equal(isLoopback(host), true, host);
  }
  for (const host of ["10.0.0.1", "128.0.0.1", "::", "0.0.0.0", "localhost", "::ffff:10.0.0.1"]) {
    assert.equal(isLoopback(host), false, host);
  }
});

Deno.test("expiry: no frame past the handshake timeout, a frame slower than the frame timeout, idle unless kept", () => {
  const t = { handshakeTimeout: 5, frameTimeout: 10, idleTimeout: 30 };
  const fresh = {
    openedAt: 0,
    framesReceived: 0,
    pendingBytes: 0,
    frameStartedAt: 0,
    lastFrameAt: 0,
    kept: false,
  };
  const cases: [Partial<typeof fresh>, number, string | undefined][] = [
    [{}, 5, undefined],
    [{}, 6, "handshake"],
    [{ framesReceived: 1, pendingBytes: 3, frameStartedAt: 20, lastFrameAt: 20 }, 30, undefined],
    [{ framesReceived: 1, pendingBytes: 3, frameStartedAt: 20, lastFrameAt: 20 }, 31, "frame"],
    [{ framesReceived: 1, lastFrameAt: 20 }, 50, undefined],
    [{ framesReceived: 1, lastFrameAt: 20 }, 51, "idle"],
    [{ framesReceived: 1, lastFrameAt: 20, kept: true }, 5000, undefined],
    [{ framesReceived: 1, lastFrameAt: 20, kept: true, pendingBytes: 1, frameStartedAt: 100 }, 111, "frame"],
  ];
  for (const [change, now, why] of cases) {
    assert.equal(expiry({ ...fresh, ...change }, now, t), why, `${JSON.stringify(change)} at ${now}`);
  }
});
