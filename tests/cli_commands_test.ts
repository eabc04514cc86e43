import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { freePorts, runP2pnet } from "./_process.ts";

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

async function tempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "p2pnet-cli-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("p2pnet --help, <command> --help and --version print to stdout and exit 0", async () => {
  const [help, seed, peer, clean, demo, version] = await Promise.all([
    runP2pnet(["--help"]),
    runP2pnet(["seed", "--help"]),
    runP2pnet(["peer", "--help"]),
    runP2pnet(["clean", "--help"]),
    runP2pnet(["demo", "--help"]),
    runP2pnet(["--version"]),
  ]);
  for (const r of [help, seed, peer, clean, demo, version]) assert.equal(r.code, 0, r.stderr);
  for (const command of ["seed", "peer", "clean", "demo"]) {
    assert.match(help.stdout, new RegExp(`p2pnet ${command}`));
  }
  assert.match(peer.stdout, /--liveliness-interval DUR/);
  assert.match(seed.stdout, /Usage: p2pnet seed/);
  assert.match(clean.stdout, /Usage: p2pnet clean/);
  assert.match(demo.stdout, /--churn/);
  assert.equal(version.stdout.trim(), `p2pnet ${denoJson.version}`);
});

Deno.test("bad usage exits 2 with one line on stderr that names the problem and points at --help", async () => {
  const cases: [string[], RegExp][] = [
    [["peer", "--bogus"], /^p2pnet: peer: unknown option '--bogus'; see 'p2pnet peer --help'$/],
    [["frobnicate"], /^p2pnet: unknown command 'frobnicate'; see 'p2pnet --help'$/],
    [["--bogus"], /^p2pnet: unknown option '--bogus'; see 'p2pnet --help'$/],
    [
      ["peer", "--degree", "x"],
      /^p2pnet: --degree: must be an integer >= 1, got "x"; see .p2pnet peer --help.$/,
    ],
    [["peer", "--port"], /^p2pnet: peer: option '--port' needs a value/],
    [["peer", "--liveliness-interval", "soon"], /^p2pnet: --liveliness-interval: must be a duration/],
    [["seed", "--config", "/nonexistent/p2pnet.json"], /^p2pnet: \/nonexistent\/p2pnet.json: file not found/],
    [["demo", "--duration", "forever"], /^p2pnet: --duration: must be a duration/],
  ];
  const results = await Promise.all(cases.map(([args]) => runP2pnet(args)));
  results.forEach((r, i) => {
    const [args, pattern] = cases[i]!;
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(lines(r.stderr).length, 1, `${args.join(" ")}: one line, got ${r.stderr}`);
    assert.match(r.stderr.trim(), pattern);
  });
});

Deno.test("a malformed config.json exits 2 naming the file and the field", async () => {
  await tempDir(async (dir) => {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, JSON.stringify({ seeds: ["127.0.0.1:6001", "127.0.0.1:abc"] }));
    const r = await runP2pnet(["peer", "--config", path]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), `p2pnet: ${path}: seeds[1]: port must be an integer 1-65535, got "abc"`);
    await Deno.writeTextFile(path, "{ nope");
    const invalid = await runP2pnet(["seed", "--config", path]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, new RegExp(`^p2pnet: ${path}: invalid JSON`));
  });
});

Deno.test("a peer that cannot reach a seed majority exits 1 with one clear line, in bounded time", async () => {
  await tempDir(async (dir) => {
    const seeds = freePorts(3).map((port) => `127.0.0.1:${port}`);
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, JSON.stringify({ seeds, seedTimeout: "1s", logDir: join(dir, "logs") }));
    const started = Date.now();
    const r = await runP2pnet(["peer", "--config", path, "--no-console"]);
    assert.equal(r.code, 1, r.stderr);
    const error = lines(r.stderr).filter((l) => l.startsWith("p2pnet:"));
    assert.equal(error.length, 1, r.stderr);
    assert.match(error[0]!, /^p2pnet: registered with 0 of 3 seeds, need 2: /);
    for (const seed of seeds) assert.ok(error[0]!.includes(`${seed} refused`), error[0]);
    assert.ok(Date.now() - started < 20_000);
  });
});

Deno.test("clean removes seeds/ and peers/ with what and how many bytes, and nothing else", async () => {
  await tempDir(async (dir) => {
    const logDir = join(dir, "logs");
    await Deno.mkdir(join(logDir, "seeds"), { recursive: true });
    await Deno.mkdir(join(logDir, "peers"), { recursive: true });
    await Deno.writeTextFile(join(logDir, "seeds", "seed-127.0.0.1-6001.log"), "x".repeat(100));
    await Deno.writeTextFile(join(logDir, "peers", "peer-127.0.0.1-7001.log"), "y".repeat(50));
    await Deno.writeTextFile(join(logDir, "notes.txt"), "keep me");
    await Deno.writeTextFile(join(dir, "beside.log"), "keep me too");

    const full = await runP2pnet(["clean", "--log-dir", logDir]);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, new RegExp(`removed ${join(logDir, "seeds")} \\(1 file, 100 bytes\\)`));
    assert.match(full.stdout, new RegExp(`removed ${join(logDir, "peers")} \\(1 file, 50 bytes\\)`));
    assert.match(full.stdout, /removed 2 files, 150 bytes in all/);
    assert.deepEqual([...Deno.readDirSync(logDir)].map((e) => e.name), ["notes.txt"]);
    assert.equal(await Deno.readTextFile(join(dir, "beside.log")), "keep me too");

    const empty = await runP2pnet(["clean", "--log-dir", logDir]);
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout.trim(), `nothing to remove in ${logDir}`);
    const missing = await runP2pnet(["clean", "--log-dir", join(dir, "never-made")]);
    assert.equal(missing.code, 0);
    assert.match(missing.stdout, /nothing to remove/);
  });
});

Deno.test("clean removes a symbolic link in place of a log folder, not what it points to", async () => {
  await tempDir(async (dir) => {
    const logDir = join(dir, "logs");
    const elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(logDir);
    await Deno.mkdir(elsewhere);
    await Deno.writeTextFile(join(elsewhere, "precious.txt"), "keep");
    await Deno.symlink(elsewhere, join(logDir, "peers"));
    const r = await runP2pnet(["clean", "--log-dir", logDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(join(elsewhere, "precious.txt")), "keep");
    assert.deepEqual([...Deno.readDirSync(logDir)], []);
  });
});
