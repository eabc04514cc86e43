/**
 * The `p2pnet` command line, run as real processes: help and version, usage and config
 * errors (exit 2, one line on stderr), a peer that cannot join (exit 1), and `clean`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { freePorts, type Output, runP2pnet, withTempDir } from "../_process.ts";

// ---- helpers ----------------------------------------------------------------------

/** Runs `p2pnet <args>` to completion; 30 s at most. */
function p2pnet(args: string[], { timeoutMs = 30_000 } = {}): Promise<Output> {
  return runP2pnet(args, { timeoutMs });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Asserts a usage or config error: exit 2, nothing on stdout, exactly one line on stderr; returns it. */
function oneErrorLine(run: Output, what: string): string {
  assert.equal(run.code, 2, `${what}: exit code, stderr: ${run.stderr}`);
  assert.equal(run.stdout, "", `${what}: stdout`);
  const errors = lines(run.stderr);
  assert.equal(errors.length, 1, `${what}: one line on stderr, got ${JSON.stringify(run.stderr)}`);
  return errors[0]!;
}

async function writeFile(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

// ---- help and version -------------------------------------------------------------

Deno.test("--help lists the seed, peer, clean and demo commands and exits 0", async () => {
  const [help, bare, short] = await Promise.all([p2pnet(["--help"]), p2pnet([]), p2pnet(["-h"])]);
  for (const run of [help, bare, short]) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.equal(run.stdout, help.stdout, "no command and -h print the same help");
  }
  assert.ok(help.stdout.startsWith(`p2pnet ${denoJson.version}: `), help.stdout);
  for (const command of ["seed", "peer", "clean", "demo"]) {
    assert.match(help.stdout, new RegExp(`^  p2pnet ${command} +\\[options\\]`, "m"), command);
  }
  assert.match(help.stdout, /--version/);
  assert.match(help.stdout, /Exit codes: 0 done, 1 failed at run time, 2 bad usage or config/);
});

Deno.test("seed, peer, clean and demo --help print their usage and options and exit 0", async () => {
  const [seed, peer, clean, peerShort, demo] = await Promise.all([
    p2pnet(["seed", "--help"]),
    p2pnet(["peer", "--help"]),
    p2pnet(["clean", "--help"]),
    p2pnet(["peer", "-h"]),
    p2pnet(["demo", "--help"]),
  ]);
  assert.ok(demo.stdout.startsWith("Usage: p2pnet demo "), demo.stdout);
  assert.match(demo.stdout, /--churn/);
  for (const run of [seed, peer, clean, peerShort, demo]) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
  }
  assert.ok(seed.stdout.startsWith("Usage: p2pnet seed "), seed.stdout);
  for (
    const flag of ["--config FILE", "--host H", "--port P", "--log-dir DIR", "--log-level L", "-h, --help"]
  ) {
    assert.ok(seed.stdout.includes(flag), `seed --help mentions ${flag}`);
  }
  assert.ok(peer.stdout.startsWith("Usage: p2pnet peer "), peer.stdout);
  for (const flag of ["--degree N", "--liveliness-interval DUR", "--gossip-count N", "--no-console"]) {
    assert.ok(peer.stdout.includes(flag), `peer --help mentions ${flag}`);
  }
  assert.match(peer.stdout, /--degree N +outbound neighbours to keep \(default: 4\)/);
  assert.match(peer.stdout, /time between probes to each quiet neighbour \(default: 13s\)/);
  assert.equal(peerShort.stdout, peer.stdout);
  assert.ok(clean.stdout.startsWith("Usage: p2pnet clean "), clean.stdout);
  assert.match(clean.stdout, /--log-dir DIR/);
  assert.match(clean.stdout, /Nothing outside those folders is touched/);
});

Deno.test("--version prints p2pnet and the version of deno.json", async () => {
  const [long, short] = await Promise.all([p2pnet(["--version"]), p2pnet(["-V"])]);
  for (const run of [long, short]) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `p2pnet ${denoJson.version}\n`);
    assert.equal(run.stderr, "");
  }
});

// ---- usage errors -----------------------------------------------------------------

Deno.test("an unknown flag exits 2 with one line that names it and points at the command's --help", async () => {
  const [peer, seed, top] = await Promise.all([
    p2pnet(["peer", "--bogus"]),
    p2pnet(["seed", "--degree", "4"]), // a peer flag is unknown to seed
    p2pnet(["--bogus"]),
  ]);
  assert.equal(
    oneErrorLine(peer, "peer --bogus"),
    "p2pnet: peer: unknown option '--bogus'; see 'p2pnet peer --help'",
  );
  assert.equal(
    oneErrorLine(seed, "seed --degree"),
    "p2pnet: seed: unknown option '--degree'; see 'p2pnet seed --help'",
  );
  assert.equal(oneErrorLine(top, "--bogus"), "p2pnet: unknown option '--bogus'; see 'p2pnet --help'");
});

Deno.test("an unknown command exits 2 with one line that names it", async () => {
  const run = await p2pnet(["frobnicate", "--help"]);
  assert.equal(oneErrorLine(run, "frobnicate"), "p2pnet: unknown command 'frobnicate'; see 'p2pnet --help'");
});

Deno.test("a malformed or missing flag value exits 2 with one line naming the flag", async () => {
  const cases: [string[], string][] = [
    [
      ["peer", "--degree", "x"],
      `p2pnet: --degree: must be an integer >= 1, got "x"; see 'p2pnet peer --help'`,
    ],
    [["peer", "--degree=0"], `p2pnet: --degree: must be an integer >= 1, got "0"; see 'p2pnet peer --help'`],
    [
      ["peer", "--liveliness-interval", "soon"],
      `p2pnet: --liveliness-interval: must be a duration such as "250ms", "13s" or "2m" (or milliseconds), ` +
      `got "soon"; see 'p2pnet peer --help'`,
    ],
    [
      ["seed", "--port", "99999"],
      `p2pnet: --port: port must be an integer 0-65535, got "99999"; see 'p2pnet seed --help'`,
    ],
    [["peer", "--port"], "p2pnet: peer: option '--port' needs a value; see 'p2pnet peer --help'"],
    [["clean", "--log-dir"], "p2pnet: clean: option '--log-dir' needs a value; see 'p2pnet clean --help'"],
    [
      ["demo", "--duration", "forever"],
      `p2pnet: --duration: must be a duration such as "30s" or "2m", got "forever"; see 'p2pnet demo --help'`,
    ],
  ];
  const runs = await Promise.all(cases.map(([args]) => p2pnet(args)));
  runs.forEach((run, i) => {
    const [args, line] = cases[i]!;
    assert.equal(oneErrorLine(run, args.join(" ")), line);
  });
});

Deno.test("a malformed config file given with --config exits 2 with one line naming the file and the field", async () => {
  await withTempDir(async (dir) => {
    const files: Record<string, string> = {
      port: JSON.stringify({ seeds: ["127.0.0.1:6001", "127.0.0.1:abc"] }),
      typo: JSON.stringify({ degre: 4 }),
      json: "{ nope",
      duration: JSON.stringify({ livelinessInterval: "soon" }),
    };
    const paths = Object.fromEntries(Object.keys(files).map((name) => [name, join(dir, `${name}.json`)]));
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(paths[name]!, text);
    const [port, typo, json, duration] = await Promise.all([
      p2pnet(["peer", "--config", paths.port!]),
      p2pnet(["seed", "--config", paths.typo!]),
      p2pnet(["peer", "--config", paths.json!]),
      p2pnet(["clean", "--config", paths.duration!]),
    ]);
    assert.equal(
      oneErrorLine(port, "bad port"),
      `p2pnet: ${paths.port}: seeds[1]: port must be an integer 1-65535, got "abc"`,
    );
    assert.ok(
      oneErrorLine(typo, "typo").startsWith(`p2pnet: ${paths.typo}: degre: unknown field; known fields are `),
      typo.stderr,
    );
    assert.ok(
      oneErrorLine(json, "invalid JSON").startsWith(`p2pnet: ${paths.json}: invalid JSON: `),
      json.stderr,
    );
    assert.ok(
      oneErrorLine(duration, "duration").startsWith(
        `p2pnet: ${paths.duration}: livelinessInterval: must be a duration`,
      ),
      duration.stderr,
    );
  });
});

Deno.test("a missing --config file exits 2 with one line naming it", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "absent.json");
    const [peer, clean] = await Promise.all([
      p2pnet(["peer", "--config", path]),
      p2pnet(["clean", "--config", path]),
    ]);
    const line = `p2pnet: ${path}: file not found; pass --config FILE or create it (see README)`;
    assert.equal(oneErrorLine(peer, "peer"), line);
    assert.equal(oneErrorLine(clean, "clean"), line);
  });
});

// ---- a peer that cannot join ------------------------------------------------------

Deno.test("with --retry-join 0 a peer whose seeds are all unreachable exits 1 at once naming each seed", async () => {
  await withTempDir(async (dir) => {
    const seeds = freePorts(3).map((port) => `127.0.0.1:${port}`);
    const config = join(dir, "config.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({ seeds, seedTimeout: "1s", connectTimeout: "1s", logDir: join(dir, "logs") }),
    );
    const run = await p2pnet(["peer", "--config", config, "--no-console", "--retry-join", "0"], {
      timeoutMs: 20_000,
    });
    assert.equal(run.code, 1, run.stderr);
    const errors = lines(run.stderr).filter((line) => line.startsWith("p2pnet: "));
    assert.equal(errors.length, 1, run.stderr);
    const line = errors[0]!;
    assert.ok(line.startsWith("p2pnet: registered with 0 of 3 seeds, need 2: "), line);
    for (const seed of seeds) assert.ok(line.includes(seed), `${seed} is named in ${line}`);
    assert.ok(run.ms < 15_000, `took ${run.ms} ms`);
  });
});

// ---- clean ------------------------------------------------------------------------

Deno.test("clean --log-dir removes seeds/ and peers/, prints what and how many bytes, and keeps other files", async () => {
  await withTempDir(async (dir) => {
    const logDir = join(dir, "logs");
    await writeFile(join(logDir, "seeds", "seed-127.0.0.1-6001.log"), "s".repeat(100));
    await writeFile(join(logDir, "seeds", "old", "seed-127.0.0.1-6002.log"), "s".repeat(20));
    await writeFile(join(logDir, "peers", "peer-127.0.0.1-7001.log"), "p".repeat(50));
    await writeFile(join(logDir, "notes.txt"), "inside the log directory");
    await writeFile(join(dir, "logs.txt"), "beside the log directory");

    const run = await p2pnet(["clean", "--log-dir", logDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.deepEqual(lines(run.stdout), [
      `removed ${join(logDir, "seeds")} (2 files, 120 bytes)`,
      `removed ${join(logDir, "peers")} (1 file, 50 bytes)`,
      "removed 3 files, 170 bytes in all",
    ]);
    assert.equal(await exists(join(logDir, "seeds")), false);
    assert.equal(await exists(join(logDir, "peers")), false);
    assert.equal(await Deno.readTextFile(join(logDir, "notes.txt")), "inside the log directory");
    assert.equal(await Deno.readTextFile(join(dir, "logs.txt")), "beside the log directory");
    assert.deepEqual([...Deno.readDirSync(logDir)].map((entry) => entry.name), ["notes.txt"]);
  });
});

Deno.test("clean with only one of the folders removes that one and counts a single byte right", async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "peers", "p.log"), "x");
    const run = await p2pnet(["clean", "--log-dir", dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(lines(run.stdout), [
      `removed ${join(dir, "peers")} (1 file, 1 byte)`,
      "removed 1 file, 1 byte in all",
    ]);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("clean on an empty or missing log directory says there is nothing to remove and exits 0", async () => {
  await withTempDir(async (dir) => {
    const empty = join(dir, "empty");
    const missing = join(dir, "never-made");
    const other = join(dir, "other");
    await Deno.mkdir(empty);
    await writeFile(join(other, "seeds.txt"), "not a log folder");
    const runs = await Promise.all(
      [empty, missing, other].map((logDir) => p2pnet(["clean", "--log-dir", logDir])),
    );
    runs.forEach((run, i) => {
      const logDir = [empty, missing, other][i]!;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      assert.equal(run.stdout, `nothing to remove in ${logDir}\n`);
    });
    assert.equal(await exists(missing), false, "clean does not create the directory");
    assert.equal(await Deno.readTextFile(join(other, "seeds.txt")), "not a log folder");
  });
});

Deno.test("clean removes a symbolic link in place of a log folder, not what it points to", async () => {
  await withTempDir(async (dir) => {
    const logDir = join(dir, "logs");
    const elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(logDir);
    await Deno.mkdir(elsewhere);
    await Deno.writeTextFile(join(elsewhere, "precious.txt"), "keep");
    await Deno.symlink(elsewhere, join(logDir, "peers"));
    const run = await p2pnet(["clean", "--log-dir", logDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await Deno.readTextFile(join(elsewhere, "precious.txt")), "keep");
    assert.deepEqual([...Deno.readDirSync(logDir)], []);
  });
});
