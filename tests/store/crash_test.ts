import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { TestNetwork, waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";

/** The ids a JSON log file records as `message.delivered` (a line cut short by the kill is skipped). */
async function deliveredIds(logDir: string): Promise<string[]> {
  const ids: string[] = [];
  const peers = join(logDir, "peers");
  for await (const file of Deno.readDir(peers)) {
    for (const line of (await Deno.readTextFile(join(peers, file.name))).split("\n")) {
      try {
        const record = JSON.parse(line);
        if (record.event === "message.delivered") ids.push(record.id);
      } catch {
        // The last line of a killed process may be cut short.
      }
    }
  }
  return ids;
}

async function storedMessages(api: string): Promise<number> {
  const response = await fetch(`http://${api}/status`);
  return (await response.json()).messages;
}

// Two real processes of a peer (about 2 s of start-up each under load) around a SIGKILL.
Deno.test("a peer killed with SIGKILL mid-burst restarts on its data directory with every message it logged as delivered, delivers none again, and catches up the rest", async () => {
  await withTempDir(async (dir) => {
    const net = await TestNetwork.start(1, 1, { gossipCount: 0 });
    const [source] = net.peers as [typeof net.peers[0]];
    const [port, apiPort] = freePorts(2) as [number, number];
    const api = `127.0.0.1:${apiPort}`;
    const dataDir = join(dir, "data");
    const peerArgs = (logDir: string) => [
      "peer",
      ...["--seeds", net.seedAddresses.map((a) => `${a.host}:${a.port}`).join(",")],
      ...["--port", String(port), "--api", api, "--data-dir", dataDir],
      ...["--log-dir", logDir, "--log-format", "json", "--log-level", "warning"],
      ...["--liveliness-interval", "500ms", "--gossip-count", "0", "--no-console"],
    ];
    const published: string[] = [];
    // The burst runs until 500 messages after the kill, and within the peers' storeLimit.
    let stopAt = 8000;
    let proc: Proc | undefined;
    try {
      proc = new Proc(peerArgs(join(dir, "logs1")));
      await waitFor(() => proc!.stdout.includes("joined through"), {
        what: "the peer to join",
        timeoutMs: 20_000,
      });
      await net.waitFor(() => source.neighbours().length > 0, { what: "the peer to link to the source" });
      // The burst: 10 messages every few milliseconds.
      const burst = (async () => {
        for (let i = 0; i < stopAt; i++) {
          published.push(source.publish(`burst ${i}`).id);
          if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      // Killed once its log shows deliveries, while the burst goes on.
      await waitFor(async () => (await deliveredIds(join(dir, "logs1"))).length >= 200, {
        what: "200 deliveries in the first run's log",
        timeoutMs: 20_000,
      });
      proc.signal("SIGKILL");
      await proc.exit();
      stopAt = Math.min(stopAt, published.length + 500);
      await burst;

      const reported = await deliveredIds(join(dir, "logs1"));
      assert.ok(reported.length >= 200);
      assert.ok(reported.length < published.length, "killed mid-burst");
      const db = new DatabaseSync(join(dataDir, "p2pnet.db"));
      const check = db.prepare("PRAGMA quick_check").get()?.quick_check;
      const stored = new Set(db.prepare("SELECT id FROM messages").all().map((r) => String(r.id)));
      db.close();
      assert.equal(check, "ok");
      const missing = reported.filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], "every message logged as delivered is in the database");

      proc = new Proc(peerArgs(join(dir, "logs2")));
      await waitFor(() => proc!.stdout.includes("joined through"), {
        what: "the restarted peer to join",
        timeoutMs: 20_000,
      });
      await waitFor(async () => await storedMessages(api) === published.length, {
        what: `the restarted peer to store all ${published.length} messages`,
        timeoutMs: 30_000,
      });
      proc.signal("SIGTERM");
      assert.equal(await proc.exit(), 0);
      const again = await deliveredIds(join(dir, "logs2"));
      assert.deepEqual(again.filter((id) => stored.has(id)), [], "nothing stored before is delivered again");
      assert.equal(new Set(again).size, again.length, "each delivered once");
      assert.deepEqual(new Set([...stored, ...again]), new Set(published), "the rest was caught up");
    } finally {
      stopAt = 0;
      proc?.signal("SIGKILL");
      await proc?.exit();
      await net.stop();
    }
  });
});
