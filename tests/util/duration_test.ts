/** Durations as people write them: parsed from text, and formatted back. */

import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../lib/util/duration.ts";

Deno.test("parseDuration reads units and bare milliseconds, and returns undefined otherwise", () => {
  const table: [string, number | undefined][] = [
    ["250ms", 250],
    ["13s", 13_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1500", 1500],
    ["0", 0],
    ["0s", 0],
    ["1.5s", 1500],
    ["0.5m", 30_000],
    ["1.0006s", 1001],
    [" 13s\n", 13_000],
    ["", undefined],
    ["s", undefined],
    ["13", 13],
    ["13 s", undefined],
    ["13S", undefined],
    ["13sec", undefined],
    ["1d", undefined],
    ["-1s", undefined],
    ["+1s", undefined],
    [".5s", undefined],
    ["1.s", undefined],
    ["1e3", undefined],
    ["1s500ms", undefined],
    ["Infinity", undefined],
    ["9".repeat(400), undefined],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, JSON.stringify(text));
});

Deno.test("formatDuration writes the largest whole unit among ms, s, m and h", () => {
  const table: [number, string][] = [
    [0, "0ms"],
    [1, "1ms"],
    [250, "250ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1500ms"],
    [13_000, "13s"],
    [59_000, "59s"],
    [60_000, "1m"],
    [90_000, "90s"],
    [120_000, "2m"],
    [3_600_000, "1h"],
    [5_400_000, "90m"],
    [86_400_000, "24h"],
  ];
  for (const [ms, text] of table) assert.equal(formatDuration(ms), text, String(ms));
});

Deno.test("parseDuration reads back whatever formatDuration writes", () => {
  const values = [0, 1, 7, 250, 999, 1000, 1001, 13_000, 59_999, 60_000, 61_000, 3_600_000, 86_400_000];
  for (let ms = 0; ms < 200_000; ms += 997) values.push(ms);
  for (const ms of values) assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
});
