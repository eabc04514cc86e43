/**
 * Data directories on the command line: `clean --data` removes what p2pnet wrote and
 * refuses anything else untouched; a node given a damaged or foreign database stops
 * with one line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { NodeDatabase } from "../../lib/store/node_database.ts";
import { freePorts, type Output, runP2pnet, withTempDir } from "../_process.ts";

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

/** A data directory as a node leaves it: its database (and a key file beside it). */
function dataDir(path: string, role: "peer" | "seed"): void {
  NodeDatabase.open(path, role).close();
  Deno.writeFileSync(join(path, "node.key"), new Uint8Array(48), { mode: 0o600 });
}

/** Every file under `dir` with its contents, to show nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) Object.assign(files, snapshot(path));
    else files[path] = btoa(String.fromCharCode(...Deno.readFileSync(path)));
  }
  return files;
}

Deno.test("clean --data removes a peer's data directory, and each seed's in the seeds' folder, and nothing else", async () => {
  await withTempDir(async (dir) => {
    const peer = join(dir, "peer");
    const shared = join(dir, "shared");
    const seeds = join(dir, "seeds");
    dataDir(peer, "peer");
    dataDir(shared, "peer");
    Deno.writeTextFileSync(join(shared, "notes.txt"), "mine");
    for (const port of [6001, 6002]) dataDir(join(seeds, `seed-${port}`), "seed");

    const run = await runP2pnet(["clean", "--data", peer, shared, seeds]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const out = lines(run.stdout);
    const removed = (path: string) => new RegExp(`^removed ${path} \\(2 files, \\d+ bytes\\)$`);
    assert.match(out[0]!, removed(peer));
    assert.match(out[1]!, removed(shared));
    assert.match(out[2]!, removed(`${seeds}/seed-6001`));
    assert.match(out[3]!, removed(`${seeds}/seed-6002`));
    assert.match(out[4]!, /^removed 8 files, \d+ bytes in all$/);
    assert.equal(out[5], `kept ${shared}: it holds files p2pnet did not write`);
    assert.equal(out.length, 6);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["shared"]);
    assert.deepEqual([...Deno.readDirSync(shared)].map((e) => e.name), ["notes.txt"]);
  });
});

Deno.test("clean --data refuses, untouched, a directory that holds no p2pnet database or another application's", async () => {
  await withTempDir(async (dir) => {
    const plain = join(dir, "plain");
    Deno.mkdirSync(plain);
    Deno.writeTextFileSync(join(plain, "photo.jpg"), "not p2pnet's");
    const foreign = join(dir, "foreign");
    Deno.mkdirSync(foreign);
    const db = new DatabaseSync(join(foreign, "p2pnet.db"));
    db.exec("CREATE TABLE users (name TEXT)");
    db.close();
    Deno.writeTextFileSync(join(foreign, "node.key"), "someone's");
    const nested = join(dir, "nested");
    dataDir(join(nested, "good"), "peer");
    Deno.mkdirSync(join(nested, "bad"));
    Deno.writeTextFileSync(join(nested, "bad", "p2pnet.db"), "text, not a database");
    const before = snapshot(dir);

    const [plainRun, foreignRun, nestedRun, missingRun, bothRun] = await Promise.all(
      [[plain], [foreign], [nested], [join(dir, "never-made")], [join(nested, "good"), plain]].map((dirs) =>
        runP2pnet(["clean", "--data", ...dirs])
      ),
    ) as [Output, Output, Output, Output, Output];
    assert.equal(plainRun.code, 1);
    assert.equal(
      plainRun.stderr,
      `p2pnet: ${plain} is not a p2pnet data directory: it holds no p2pnet.db, nor do its folders; nothing removed\n`,
    );
    assert.equal(foreignRun.code, 1);
    assert.match(
      foreignRun.stderr,
      /^p2pnet: .*foreign is not a p2pnet data directory: p2pnet\.db has application id 0x0, not p2pnet's; nothing removed\n$/,
    );
    assert.equal(nestedRun.code, 1);
    assert.match(
      nestedRun.stderr,
      /^p2pnet: .*nested is not a p2pnet data directory: bad: p2pnet\.db is not an SQLite database; nothing removed\n$/,
    );
    assert.equal(bothRun.code, 1, "one directory refused: none removed");
    assert.deepEqual(snapshot(dir), before, "nothing touched");
    assert.equal(missingRun.code, 0, missingRun.stderr);
    assert.equal(missingRun.stdout, `nothing to remove in ${join(dir, "never-made")}\n`);
  });
});

Deno.test("clean --data without a directory takes dataDir from the config, and without one says what to give", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, "data");
    dataDir(data, "peer");
    const config = join(dir, "config.json");
    Deno.writeTextFileSync(config, JSON.stringify({ dataDir: data }));
    const empty = join(dir, "empty.json");
    Deno.writeTextFileSync(empty, "{}");
    const [fromConfig, none, stray] = await Promise.all([
      runP2pnet(["clean", "--data", "--config", config]),
      runP2pnet(["clean", "--data", "--config", empty]),
      runP2pnet(["clean", "somewhere", "--config", empty]),
    ]);
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.match(fromConfig.stdout, /removed 2 files/);
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /^p2pnet: clean: --data needs a directory: 'p2pnet clean --data DIR', or dataDir in the config; see 'p2pnet clean --help'\n$/,
    );
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument 'somewhere'/);
  });
});

Deno.test("a peer or a seed whose data directory holds a damaged or foreign database stops with one line and exit 1, leaving the file as it was", async () => {
  await withTempDir(async (dir) => {
    const damaged = join(dir, "damaged");
    Deno.mkdirSync(damaged);
    Deno.writeFileSync(join(damaged, "p2pnet.db"), new TextEncoder().encode("x".repeat(4096)), {
      mode: 0o600,
    });
    const [port] = freePorts(1) as [number];
    // One seed keeps its state in the directory itself.
    const foreign = join(dir, "seed");
    Deno.mkdirSync(foreign);
    const db = new DatabaseSync(join(foreign, "p2pnet.db"));
    db.exec("CREATE TABLE accounts (id INTEGER)");
    db.close();
    Deno.chmodSync(join(foreign, "p2pnet.db"), 0o600);
    const before = snapshot(dir);
    const common = ["--log-dir", join(dir, "logs"), "--seeds", `127.0.0.1:${port}`];
    const [peer, seed] = await Promise.all([
      runP2pnet(["peer", "--data-dir", damaged, "--retry-join", "0", "--no-console", ...common]),
      runP2pnet(["seed", "--port", String(port), "--data-dir", foreign, ...common]),
    ]);
    assert.equal(peer.code, 1);
    assert.equal(
      peer.stderr,
      `p2pnet: data directory ${damaged}: p2pnet.db is not an SQLite database (file is not a database): it may be damaged; move it away to start afresh, or choose another --data-dir\n`,
    );
    assert.equal(seed.code, 1);
    assert.equal(
      seed.stderr,
      `p2pnet: data directory ${foreign}: p2pnet.db is an SQLite database of another application (tables accounts); p2pnet leaves it alone: choose another --data-dir\n`,
    );
    assert.deepEqual(snapshot(dir), { ...before, ...snapshot(join(dir, "logs")) }, "the databases untouched");
  });
});
