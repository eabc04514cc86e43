import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function spawn(args: string[]): { child: Deno.ChildProcess; output: () => string; done: Promise<void> } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "main.ts"), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => {});
  return { child, output: () => text, done };
}

async function exitCode(child: Deno.ChildProcess, timeoutMs: number): Promise<number> {
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return (await child.status).code;
  } finally {
    clearTimeout(timer);
  }
}

function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  listeners.forEach((l) => l.close());
  return ports;
}

Deno.test("SIGTERM mid-gossip: the peer leaves cleanly, exits 0 and its log file ends with its clean-stop line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2pnet-sigterm-" });
  const logDir = join(dir, "logs");
  const config = join(dir, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({ seeds: freePorts(3).map((p) => `127.0.0.1:${p}`), logDir }),
  );
  const seed = spawn(["seed", "--config", config]);
  const fast = [
    "--config",
    config,
    "--no-console",
    "--liveliness-interval",
    "500ms",
    "--gossip-interval",
    "50ms",
  ];
  const peers = [
    spawn(["peer", ...fast, "--gossip-count", "100000"]),
    spawn(["peer", ...fast, "--gossip-count", "0"]),
  ];
  try {
    await waitFor(() => seed.output().includes("3 seeds running"), { what: "the seeds", timeoutMs: 20_000 });
    const joined = /peer (127\.0\.0\.1:\d+) joined/;
    await waitFor(() => peers.every((p) => joined.test(p.output())), {
      what: "both peers to join",
      timeoutMs: 20_000,
    });
    const label = joined.exec(peers[0]!.output())![1]!;
    const logFile = join(logDir, "peers", `peer-${label.replace(":", "-")}.log`);
    const gossiping = () => (peers[0]!.output().match(/new message/g) ?? []).length >= 10;
    await waitFor(gossiping, { what: "gossip in flight", timeoutMs: 20_000 });

    peers[0]!.child.kill("SIGTERM");
    assert.equal(await exitCode(peers[0]!.child, 10_000), 0);
    await peers[0]!.done;
    assert.match(peers[0]!.output(), /SIGTERM: leaving the network/);
    const lines = (await Deno.readTextFile(logFile)).trimEnd().split("\n");
    assert.match(lines.at(-1)!, /INFO {2}\[peer .*\] peer stopped/, `last line: ${lines.at(-1)}`);
    await waitFor(() => seed.output().includes(`removed peer ${label}: leaving`), {
      what: "the seeds to log the removal",
      timeoutMs: 5000,
    });

    // Two interrupts in a row: the second forces the exit at once if the first has not finished.
    peers[1]!.child.kill("SIGINT");
    peers[1]!.child.kill("SIGINT");
    assert.ok([0, 130].includes(await exitCode(peers[1]!.child, 10_000)));
    seed.child.kill("SIGTERM");
    assert.equal(await exitCode(seed.child, 10_000), 0);
  } finally {
    for (const p of [...peers, seed]) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
    await Promise.all([...peers, seed].map((p) => p.done));
    await Promise.all([...peers, seed].map((p) => p.child.status));
    await Deno.remove(dir, { recursive: true });
  }
});
