/**
 * The command line for networks across machines: --seeds, --retry-join, --advertise
 * and binding to every interface, through real processes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";

/** A config whose own seeds are nowhere: every test names its seeds with --seeds. */
async function config(dir: string): Promise<string> {
  const path = join(dir, "config.json");
  const nowhere = freePorts(3).map((port) => `127.0.0.1:${port}`);
  await Deno.writeTextFile(
    path,
    JSON.stringify({ seeds: nowhere, logDir: join(dir, "logs"), livelinessInterval: "1s", gossipCount: 0 }),
  );
  return path;
}

const JOINED = /^p2pnet [\d.]+: peer (\S+) joined through/m;

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) p.signal("SIGKILL");
  await Promise.all(procs.map((p) => p.exit()));
}

Deno.test("cli: a peer started before its seeds keeps trying (--retry-join), joins the seeds named by --seeds once they are up, and leaves on SIGTERM", async () => {
  await withTempDir(async (dir) => {
    const cfg = await config(dir);
    const seeds = freePorts(3).map((port) => `127.0.0.1:${port}`).join(",");
    const procs: Proc[] = [];
    try {
      const early = new Proc([
        "peer",
        "--config",
        cfg,
        "--seeds",
        seeds,
        "--retry-join",
        "1m",
        "--no-console",
      ]);
      procs.push(early);
      await waitFor(
        () => /registered with 0 of 3 seeds, need 2: .*; trying again in \d+ ms/.test(early.stdout),
        {
          what: "a retry round in the early peer's log",
          timeoutMs: 20_000,
        },
      );
      const seed = new Proc(["seed", "--config", cfg, "--seeds", seeds]);
      procs.push(seed);
      await waitFor(() => seed.stdout.includes("3 seeds running"), { what: "the seeds", timeoutMs: 20_000 });
      for (const s of seeds.split(",")) assert.ok(seed.stdout.includes(s), `seed ${s} started from --seeds`);
      await waitFor(() => JOINED.test(early.stdout), { what: "the early peer to join", timeoutMs: 40_000 });
      early.signal("SIGTERM");
      assert.equal(await early.exit(), 0);
      assert.match(early.stdout, /SIGTERM: leaving the network/);
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0);
    } finally {
      await stopAll(procs);
    }
  });
});

Deno.test("cli: a peer still joining stops cleanly on SIGTERM, and one that gives up leaves the seeds it reached", async () => {
  await withTempDir(async (dir) => {
    const cfg = await config(dir);
    const [up, ...down] = freePorts(3).map((port) => `127.0.0.1:${port}`);
    const procs: Proc[] = [];
    try {
      const waiting = new Proc(["peer", "--config", cfg, "--seeds", down.join(","), "--no-console"]);
      procs.push(waiting);
      const seed = new Proc(["seed", "--config", cfg, "--seeds", up!]);
      procs.push(seed);
      await waitFor(() => /trying again/.test(waiting.stdout), { what: "a retry round", timeoutMs: 20_000 });
      waiting.signal("SIGTERM");
      assert.equal(await waiting.exit(), 0);
      assert.match(waiting.stdout, /SIGTERM: stopped before joining the network/);

      await waitFor(() => seed.stdout.includes("1 seed running"), { what: "the seed", timeoutMs: 20_000 });
      // One of three seeds up: it registers there, gives up after --retry-join, and says goodbye to it.
      const giving = new Proc([
        "peer",
        "--config",
        cfg,
        "--seeds",
        [up, ...down].join(","),
        "--retry-join",
        "2s",
        "--no-console",
      ]);
      procs.push(giving);
      assert.equal(await giving.exit(30_000), 1);
      const line = giving.stderr.trim().split("\n").at(-1)!;
      assert.match(
        line,
        /^p2pnet: registered with 1 of 3 seeds, need 2: .*; gave up after \d+ rounds in 2s$/,
      );
      await waitFor(() => /removed peer \S+: leaving/.test(seed.stdout), {
        what: "the seed to log the peer leaving",
        timeoutMs: 5000,
      });
      assert.doesNotMatch(seed.stdout, /removed peer \S+: dead/);
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0);
    } finally {
      await stopAll(procs);
    }
  });
});

Deno.test("cli: a peer bound to 0.0.0.0 announces the address of its seed connection; --advertise names another; a refused address shows the seed's reason", async () => {
  await withTempDir(async (dir) => {
    const cfg = await config(dir);
    const seeds = freePorts(3).map((port) => `127.0.0.1:${port}`).join(",");
    const procs: Proc[] = [];
    const peer = (...args: string[]) => {
      const p = new Proc(["peer", "--config", cfg, "--seeds", seeds, "--no-console", ...args]);
      procs.push(p);
      return p;
    };
    try {
      const seed = new Proc(["seed", "--config", cfg, "--seeds", seeds]);
      procs.push(seed);
      await waitFor(() => seed.stdout.includes("3 seeds running"), { what: "the seeds", timeoutMs: 20_000 });
      const [port] = freePorts(1);
      const wildcard = peer("--host", "0.0.0.0", "--port", String(port), "--log-format", "json");
      const named = peer("--advertise", "localhost");
      const elsewhere = peer("--advertise", "127.0.0.2", "--retry-join", "0");

      await waitFor(() => JOINED.test(wildcard.stdout), {
        what: "the wildcard peer to join",
        timeoutMs: 20_000,
      });
      assert.equal(JOINED.exec(wildcard.stdout)![1], `127.0.0.1:${port}`);
      const chosen = wildcard.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
        .find((r) => r.event === "node.address_chosen");
      assert.ok(chosen, wildcard.stdout);
      assert.equal(chosen.addr, `127.0.0.1:${port}`);
      assert.equal(chosen.bound, `0.0.0.0:${port}`);

      await waitFor(() => JOINED.test(named.stdout), {
        what: "the advertised peer to join",
        timeoutMs: 20_000,
      });
      assert.match(JOINED.exec(named.stdout)![1]!, /^localhost:\d+$/);
      await waitFor(() => /registered peer localhost:\d+/.test(seed.stdout), { what: "a seed to list it" });

      assert.equal(await elsewhere.exit(20_000), 1);
      const line = elsewhere.stderr.trim().split("\n").at(-1)!;
      assert.match(
        line,
        /^p2pnet: registered with 0 of 3 seeds, need 2: .*refused: announced address 127\.0\.0\.2:\d+ is not on the host this connection comes from, 127\.0\.0\.1/,
      );
      for (const p of [wildcard, named]) p.signal("SIGTERM");
      for (const p of [wildcard, named]) assert.equal(await p.exit(), 0);
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0);
    } finally {
      await stopAll(procs);
    }
  });
});
