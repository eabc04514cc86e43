import assert from "node:assert/strict";
import { join } from "node:path";
import { type DemoProgress, formatProgress } from "../../lib/demo/demo.ts";
import { ROOT, runOnTerminal, runP2pnet, withTempDir } from "../_process.ts";

const BUSY: DemoProgress = {
  elapsedMs: 123_456.7,
  totalMs: 600_000,
  peers: 4999,
  links: 19_876,
  published: 1_234_567,
  delivered: 987_654_321,
  killed: 1234,
  detected: 1230,
};

Deno.test("formatProgress fits the width it is given, with elapsed and total time, in full words when they fit", () => {
  assert.equal(
    formatProgress({
      ...BUSY,
      elapsedMs: 2500,
      totalMs: 30_000,
      peers: 20,
      links: 80,
      published: 25,
      delivered: 500,
      killed: 1,
      detected: 1,
    }),
    "2.5/30s  peers 20  links 80  messages 25 published, 500 delivered  dead 1 killed, 1 removed by all seeds",
  );
  for (const width of [200, 120, 80, 60, 40, 20, 1]) {
    const line = formatProgress(BUSY, width);
    assert.ok(line.length < width, `${width}: ${line.length} ${line}`);
    if (width >= 60) assert.ok(line.startsWith("123.5/600s"), line);
  }
  assert.equal(
    formatProgress(BUSY, 80),
    "123.5/600s peers 4999 links 19876 msgs 1234567/987654321 dead 1234/1230",
  );
});

/** Runs `p2pnet demo ARGS` on an 80-column pseudo-terminal (util-linux `script`); undefined without `script`. */
async function demoOnTerminal(args: string[]): Promise<string | undefined> {
  return await withTempDir(async (dir) => {
    const command = `stty cols 80 rows 30; '${Deno.execPath()}' run -A '${join(ROOT, "main.ts")}' demo ${
      args.join(" ")
    } --log-dir '${join(dir, "logs")}'`;
    const run = await runOnTerminal(command, { NO_COLOR: "1" });
    if (run !== undefined) assert.equal(run.code, 0, run.output);
    return run?.output;
  });
}

Deno.test("on an 80-column terminal the demo redraws one progress line that never wraps; with node logs shown it prints lines", async () => {
  const [redrawn, logged] = await Promise.all([
    demoOnTerminal(["--duration", "3s", "--peers", "6", "--churn"]),
    demoOnTerminal(["--duration", "3s", "--peers", "4", "--log-level", "info"]),
  ]);
  if (redrawn === undefined || logged === undefined) {
    console.log("skipped: no `script` command to make a pseudo-terminal (util-linux)");
    return;
  }
  const redraws = redrawn.split("\r\x1b[2K").slice(1).map((s) => s.split(/[\r\n]/)[0]!);
  assert.ok(redraws.length >= 3, JSON.stringify(redrawn.slice(0, 500)));
  for (const line of redraws) {
    assert.ok(line.length < 80, `${line.length} columns: ${line}`);
    assert.match(line, /^\d+\.\d\/3s /);
  }
  assert.match(redrawn, /\nsummary after /);
  // Node logs on the console: progress goes on lines of its own, never redrawn under a log line.
  assert.ok(!logged.includes("\r\x1b[2K"), JSON.stringify(logged.slice(0, 500)));
  assert.match(logged, /\[INF\] peer 127\.0\.0\.1:\d+: /);
  assert.match(logged, /^\d+\.\d\/3s +peers \d+/m);
});

Deno.test("demo --duration without a unit is refused with a hint, and exits 2", async () => {
  const { code, stdout, stderr } = await runP2pnet(["demo", "--duration", "5"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `p2pnet: --duration: needs a unit, such as "5s" or "2m", got "5"; see 'p2pnet demo --help'\n`,
  );
  const bad = await runP2pnet(["demo", "--duration", "soon"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^p2pnet: --duration: must be a duration such as "30s" or "2m", got "soon"/);
});
