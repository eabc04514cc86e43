import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";

Deno.test("real processes: a seed process and three peers gossip, list connections (1) and messages (2) on the console, and leave cleanly", async () => {
  await withTempDir(async (dir) => {
    const logDir = join(dir, "logs");
    const config = join(dir, "config.json");
    const seeds = freePorts(3).map((port) => `127.0.0.1:${port}`);
    await Deno.writeTextFile(config, JSON.stringify({ seeds, logDir, probeTimeout: "300ms" }));
    const fast = [
      "--config",
      config,
      "--gossip-interval",
      "200ms",
      "--gossip-count",
      "2",
      "--liveliness-interval",
      "500ms",
    ];
    const seed = new Proc(["seed", "--config", config]);
    const peers: Proc[] = [];
    try {
      await waitFor(() => seed.stdout.includes("3 seeds running"), {
        what: "the seeds to start",
        timeoutMs: 20_000,
      });
      for (let i = 0; i < 3; i++) peers.push(new Proc(["peer", ...fast], { stdin: true }));
      const joined = /peer (127\.0\.0\.1:\d+) joined through/;
      await waitFor(() => peers.every((p) => joined.test(p.stdout)), {
        what: "three peers to join",
        timeoutMs: 20_000,
      });
      const labels = peers.map((p) => joined.exec(p.stdout)![1]!);
      const [first] = peers as [Proc];

      // Ask for the messages until all six (two from each peer) have arrived.
      await waitFor(async () => {
        await first.type("2");
        await new Promise((resolve) => setTimeout(resolve, 100));
        return first.stdout.includes("6 messages:");
      }, { what: "six messages at the first peer", timeoutMs: 20_000 });
      const listing = first.stdout.slice(first.stdout.lastIndexOf("6 messages:"));
      for (const label of labels) assert.ok(listing.includes(`:${label}:2`), `message 2 of ${label} listed`);
      assert.ok(listing.includes("(published here)"));

      // Once gossip stops, links fall quiet and the peers probe each other. Any frame proves
      // life, so of two neighbours whose rounds fall within half an interval of each other
      // only the earlier probes: the second peer may answer probes and never send one. A
      // liveliness check in its log is either end of one; some peer must get a reply.
      const peerLogPath = (label: string) => join(logDir, "peers", `peer-${label.replace(":", "-")}.log`);
      const livelinessCheck = /received liveliness(_reply)? from/;
      await waitFor(async () => livelinessCheck.test(await Deno.readTextFile(peerLogPath(labels[1]!))), {
        what: "a liveliness check in the second peer's log",
        timeoutMs: 20_000,
      });
      const replied = async () => {
        const logs = await Promise.all(labels.map((l) => Deno.readTextFile(peerLogPath(l))));
        return logs.some((log) => log.includes("received liveliness_reply from"));
      };
      await waitFor(replied, { what: "a liveliness reply in some peer's log", timeoutMs: 20_000 });

      const before = first.stdout.length;
      await first.type("1");
      await waitFor(() => /active connections?:/.test(first.stdout.slice(before)), {
        what: "the connection list",
      });
      const connections = first.stdout.slice(before);
      for (const label of labels.slice(1)) {
        assert.ok(connections.includes(label), `${label} in ${connections}`);
      }

      await first.type("q");
      assert.equal(await first.exit(), 0);
      assert.ok(first.stdout.includes('console input "q": leaving the network'));

      const seedLogs = join(logDir, "seeds");
      const seedLogText = async () =>
        (await Promise.all(
          [...Deno.readDirSync(seedLogs)].map((f) => Deno.readTextFile(join(seedLogs, f.name))),
        )).join("");
      await waitFor(async () => (await seedLogText()).includes(`removed peer ${labels[0]}: leaving`), {
        what: "a seed to log the removal",
        timeoutMs: 5000,
      });
      for (const peer of peers.slice(1)) peer.signal("SIGTERM");
      for (const peer of peers.slice(1)) assert.equal(await peer.exit(), 0);
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0);

      const seedFiles = [...Deno.readDirSync(seedLogs)].map((f) => f.name).sort();
      assert.deepEqual(seedFiles, seeds.map((s) => `seed-${s.replace(":", "-")}.log`).sort());
      const peerFiles = [...Deno.readDirSync(join(logDir, "peers"))].map((f) => f.name).sort();
      assert.deepEqual(peerFiles, labels.map((l) => `peer-${l.replace(":", "-")}.log`).sort());
      const peerLog = await Deno.readTextFile(peerLogPath(labels[1]!));
      assert.match(peerLog, livelinessCheck);
      assert.match(peerLog, /peer stopped/);
    } finally {
      for (const p of [...peers, seed]) p.signal("SIGKILL");
      await Promise.all([...peers, seed].map((p) => p.exit()));
    }
  });
});
