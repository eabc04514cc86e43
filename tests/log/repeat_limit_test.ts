/** Repeated log lines are summarised: a count every few seconds instead of a line each. */

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { repeatLimited } from "../../lib/log/repeat_limit.ts";

function record(
  at: number,
  properties: Record<string, unknown>,
  level: LogRecord["level"] = "warning",
): LogRecord {
  return {
    category: ["p2pnet", "peer"],
    level,
    message: ["could not connect to ", properties.peer, ""],
    rawMessage: "could not connect to {peer}",
    timestamp: at,
    properties: { role: "peer", addr: "10.0.0.1:7000", event: "overlay.dial_failed", ...properties },
  };
}

Deno.test("repeatLimited passes the first of identical records, then one summary with the count per window", () => {
  const out: LogRecord[] = [];
  const sink = repeatLimited((r) => out.push(r), { windowMs: 5000 });
  // A storm: the same line every 10 ms for 12 s, from ever new remote ports.
  for (let t = 0; t < 12_000; t += 10) {
    sink(record(t, { peer: "10.0.0.2:7000", remote: `10.0.0.2:${40_000 + t}` }));
  }
  sink(record(12_000, { peer: "10.0.0.3:7000" }));
  sink[Symbol.dispose]();
  const lines = out.map((r) => `${r.timestamp} ${r.message.join("")} ${r.properties.repeated ?? ""}`.trim());
  assert.deepEqual(lines, [
    "0 could not connect to 10.0.0.2:7000",
    "4990 (499 more like this in 5 s) could not connect to 10.0.0.2:7000 499",
    "5000 could not connect to 10.0.0.2:7000",
    "9990 (499 more like this in 5 s) could not connect to 10.0.0.2:7000 499",
    "10000 could not connect to 10.0.0.2:7000",
    "12000 could not connect to 10.0.0.3:7000",
    "11990 (199 more like this in 2 s) could not connect to 10.0.0.2:7000 199",
  ]);
  assert.equal(out[1]!.properties.event, "overlay.dial_failed", "the summary keeps the event name");
});

Deno.test("repeatLimited passes records that differ, and debug records, as they are", () => {
  const out: LogRecord[] = [];
  const sink = repeatLimited((r) => out.push(r), { windowMs: 5000 });
  sink(record(0, { peer: "a:1" }));
  sink(record(1, { peer: "b:1" }));
  sink(record(2, { peer: "a:1" }, "error"));
  for (let t = 3; t < 6; t++) sink(record(t, { peer: "a:1" }, "debug"));
  sink[Symbol.dispose]();
  assert.equal(out.length, 6);
  assert.ok(out.every((r) => r.properties.repeated === undefined));
});
