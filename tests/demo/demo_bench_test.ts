import assert from "node:assert/strict";
import { join } from "node:path";
import { formatSummary } from "../../lib/demo/demo.ts";
import { runDeno, withTempDir } from "../_process.ts";

Deno.test("p2pnet demo runs a network for a few seconds and reports full delivery and no false removals", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runDeno([
      "run",
      "-A",
      "main.ts",
      "demo",
      "--duration",
      "3s",
      "--peers",
      "12",
      "--churn",
      "--log-dir",
      dir,
    ]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /delivery ratio\s+100\.00%/);
    assert.match(stdout, /false removals\s+0/);
    assert.match(stdout, /duplicates delivered\s+0/);
    assert.ok([...Deno.readDirSync(join(dir, "peers"))].length >= 12, "one log file per peer");
  });
});

Deno.test("deno task bench runs its smallest configuration in both modes, one JSON object per scenario, and compares them", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "-A",
    "bench/bench.ts",
    "--peers",
    "10",
    "--messages",
    "20",
    "--latency-messages",
    "5",
    "--kill",
    "1",
  ]);
  assert.equal(code, 0, stderr);
  const results = stdout.trim().split("\n").map((line) => JSON.parse(line));
  const scenarios = ["setup", "latency", "throughput", "failure", "memory"];
  assert.deepEqual(results.map((r) => r.scenario), [...scenarios, ...scenarios, "compare"]);
  assert.deepEqual(results.slice(0, 10).map((r) => r.mode), [
    ...scenarios.map(() => "plain"),
    ...scenarios.map(() => "secure"),
  ]);
  for (const r of results) assert.equal(r.peers, 10);
  for (const at of [0, 5]) {
    const [setup, latency, throughput, failure] = results.slice(at);
    assert.equal(setup.overlayReady, true);
    assert.equal(latency.deliveryRatio, 1);
    assert.equal(throughput.allDelivered, true);
    // Every delivery to a peer other than the origin is verified once, never twice.
    assert.equal(throughput.verificationsPerDelivery, 1);
    assert.equal(failure.removedByEverySeed, 1);
    assert.equal(failure.falseRemovals, 0);
  }
  const compare = results[10];
  assert.equal(compare.against, "plain");
  assert.equal(compare.plain.burstRatio, 1);
  assert.ok(compare.secure.burstRatio > 0);
});

Deno.test("the demo summary writes latencies with two decimals, whole numbers too", () => {
  const text = formatSummary({
    peers: 20,
    messages: 3,
    deliveryRatio: 1,
    delivered: 60,
    expected: 60,
    duplicates: 0,
    latencyMs: { p50: 3, p99: 10.5, max: 15.55 },
    killed: 1,
    detected: 1,
    detectionMs: { p50: 12, max: 12 },
    falseRemovals: 0,
    durationMs: 30_000,
    interrupted: false,
  });
  assert.match(text, /full-delivery latency p50 3\.00 ms, p99 10\.50 ms, max 15\.55 ms\n/);
  assert.match(
    text,
    /dead peers detected {3}1 of 1 killed \(kill to last seed removal: p50 12 ms, max 12 ms\)/,
  );
});
