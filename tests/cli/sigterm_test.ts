import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";

Deno.test("SIGTERM mid-gossip: the peer leaves cleanly, exits 0 and its log file ends with its clean-stop line", async () => {
  await withTempDir(async (dir) => {
    const logDir = join(dir, "logs");
    const config = join(dir, "config.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({ seeds: freePorts(3).map((p) => `127.0.0.1:${p}`), logDir }),
    );
    const seed = new Proc(["seed", "--config", config]);
    const fast = [
      "--config",
      config,
      "--no-console",
      "--liveliness-interval",
      "500ms",
      "--gossip-interval",
      "50ms",
    ];
    const peers: Proc[] = [];
    try {
      await waitFor(() => seed.stdout.includes("3 seeds running"), { what: "the seeds", timeoutMs: 20_000 });
      peers.push(
        new Proc(["peer", ...fast, "--gossip-count", "100000"]),
        new Proc(["peer", ...fast, "--gossip-count", "0"]),
      );
      const joined = /peer (127\.0\.0\.1:\d+) joined/;
      await waitFor(() => peers.every((p) => joined.test(p.stdout)), {
        what: "both peers to join",
        timeoutMs: 20_000,
      });
      const label = joined.exec(peers[0]!.stdout)![1]!;
      const logFile = join(logDir, "peers", `peer-${label.replace(":", "-")}.log`);
      const gossiping = () => (peers[0]!.stdout.match(/new message/g) ?? []).length >= 10;
      await waitFor(gossiping, { what: "gossip in flight", timeoutMs: 20_000 });

      peers[0]!.signal("SIGTERM");
      assert.equal(await peers[0]!.exit(), 0);
      assert.match(peers[0]!.stdout, /SIGTERM: leaving the network/);
      const lines = (await Deno.readTextFile(logFile)).trimEnd().split("\n");
      assert.ok(lines.at(-1)!.includes(`[INF] peer ${label}: peer stopped`), `last line: ${lines.at(-1)}`);
      await waitFor(() => seed.stdout.includes(`removed peer ${label}: leaving`), {
        what: "the seeds to log the removal",
        timeoutMs: 5000,
      });

      // Two interrupts in a row: the second forces the exit at once if the first has not finished.
      peers[1]!.signal("SIGINT");
      peers[1]!.signal("SIGINT");
      assert.ok([0, 130].includes(await peers[1]!.exit()));
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0);
    } finally {
      for (const p of [...peers, seed]) p.signal("SIGKILL");
      await Promise.all([...peers, seed].map((p) => p.exit()));
    }
  });
});
