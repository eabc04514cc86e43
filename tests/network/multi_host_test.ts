/**
 * Three hosts on one bridge, for real: network namespaces with their own addresses,
 * a seed and three peers in each as `p2pnet` processes. Full delivery; one host cut off
 * (its bridge port down: the links drop traffic, no connection is reset); detection,
 * and each side keeps delivering; the heal; then every peer holds every message and
 * every seed lists every peer within the documented bound, and no one is banned.
 *
 * Needs root and iproute2's `ip` (`.ci/run` installs it); skipped with a printed reason
 * otherwise. The addresses exist only inside the namespaces the test creates, and every
 * namespace is removed at the end, failed or not (and stale ones of an earlier run first).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { Proc, withTempDir } from "../_process.ts";
import { healBoundMs } from "../../lib/settings/bounds.ts";
import { resolveSettings } from "../../lib/settings/config.ts";

const PREFIX = "p2pt-";
const SUBNET = "10.213.47";
const HOSTS = ["a", "b", "c"] as const;
const PEERS_PER_HOST = 3;

/** Node settings of every process (a config file), fast enough for a test of seconds. */
const SETTINGS = {
  livelinessInterval: "1s",
  livelinessMisses: 2,
  probeTimeout: "500ms",
  overlayInterval: "1s",
  connectTimeout: "1s",
  seedTimeout: "2s",
  degree: 3,
  gossipInterval: "1s",
  gossipCount: 90,
  fileLogLevel: "warning" as const,
};

/** Why the test cannot run here, or undefined. */
function missing(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "network namespaces need root";
  try {
    if (!new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync().success) {
      return "`ip -V` failed";
    }
  } catch {
    return "iproute2's `ip` is not installed";
  }
  // Root in a container may still lack the right to make namespaces: try one.
  const probe = `${PREFIX}probe-${Deno.pid}`;
  const made = new Deno.Command("ip", { args: ["netns", "add", probe], stdout: "null", stderr: "piped" })
    .outputSync();
  if (!made.success) {
    return `cannot create a network namespace: ${new TextDecoder().decode(made.stderr).trim()}`;
  }
  new Deno.Command("ip", { args: ["netns", "del", probe], stdout: "null", stderr: "null" }).outputSync();
  return undefined;
}

const SKIP = missing();
if (SKIP !== undefined) console.log(`multi_host_test: skipped: ${SKIP}`);

/** Runs a command to completion; throws with its stderr when it fails. */
async function run(command: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

/** Namespaces of this test's prefix, from `ip netns list` ("name" or "name (id: 3)"). */
async function ourNamespaces(): Promise<string[]> {
  return (await run("ip", "netns", "list")).split("\n").map((l) => l.split(" ")[0]!)
    .filter((name) => name.startsWith(PREFIX));
}

/** Ends what still runs in a namespace of ours (by pid), then deletes it. */
async function removeNamespace(name: string): Promise<void> {
  const pids = await run("ip", "netns", "pids", name).catch(() => "");
  for (const pid of pids.split("\n").map(Number).filter((p) => p > 0)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await run("ip", "netns", "del", name).catch(() => "");
}

/** Three host namespaces joined by a bridge in a fourth; returns the bridge port of each host. */
async function buildHosts(
  tag: string,
): Promise<{ ns: Record<string, string>; bridge: string; port: Record<string, string> }> {
  const bridge = `${PREFIX}${tag}-br`;
  const ns: Record<string, string> = {};
  const port: Record<string, string> = {};
  await run("ip", "netns", "add", bridge);
  await run("ip", "-n", bridge, "link", "add", "br0", "type", "bridge");
  await run("ip", "-n", bridge, "link", "set", "br0", "up");
  for (const [i, host] of HOSTS.entries()) {
    const name = ns[host] = `${PREFIX}${tag}-${host}`;
    port[host] = `p-${host}`;
    await run("ip", "netns", "add", name);
    await run(
      "ip",
      "-n",
      name,
      "link",
      "add",
      "eth0",
      "type",
      "veth",
      "peer",
      "name",
      port[host]!,
      "netns",
      bridge,
    );
    await run("ip", "-n", bridge, "link", "set", port[host]!, "master", "br0");
    await run("ip", "-n", bridge, "link", "set", port[host]!, "up");
    await run("ip", "-n", name, "addr", "add", `${SUBNET}.${i + 1}/24`, "dev", "eth0");
    await run("ip", "-n", name, "link", "set", "lo", "up");
    await run("ip", "-n", name, "link", "set", "eth0", "up");
  }
  return { ns, bridge, port };
}

/** The JSON log records a process printed so far (its console runs --log-format json). */
function records(proc: Proc): Record<string, unknown>[] {
  return proc.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

interface Delivery {
  id: string;
  /** Wall time the origin created it, from its content `<ms>:<host>:<port>:<n>`. */
  created: number;
}

/** The messages a peer delivered, by id. */
function delivered(proc: Proc): Map<string, Delivery> {
  const got = new Map<string, Delivery>();
  for (const r of records(proc)) {
    if (r.event !== "message.delivered") continue;
    got.set(r.id as string, { id: r.id as string, created: Number(String(r.content).split(":")[0]) });
  }
  return got;
}

/** The peers a seed lists, replayed from its registered and removed events. */
function listedBy(seed: Proc): Set<string> {
  const listed = new Set<string>();
  for (const r of records(seed)) {
    if (r.event === "seed.peer_registered") listed.add(r.peer as string);
    if (r.event === "seed.peer_removed") listed.delete(r.peer as string);
  }
  return listed;
}

Deno.test({
  name:
    "three hosts on a bridge: full delivery, a host cut off and healed, everyone holds everything within the bound",
  ignore: SKIP !== undefined,
  sanitizeResources: false,
  async fn() {
    for (const stale of await ourNamespaces()) await removeNamespace(stale);
    const tag = Math.floor(Math.random() * 0xffff).toString(16);
    const procs: Proc[] = [];
    let hosts: Awaited<ReturnType<typeof buildHosts>> | undefined;
    try {
      hosts = await buildHosts(tag);
      const { ns, bridge, port } = hosts;
      await withTempDir(async (dir) => {
        const config = join(dir, "config.json");
        await Deno.writeTextFile(config, JSON.stringify({ ...SETTINGS, logDir: join(dir, "logs") }));
        const seedList = HOSTS.map((_, i) => `${SUBNET}.${i + 1}:6001`).join(",");
        const common = ["--config", config, "--seeds", seedList, "--log-format", "json"];
        const seeds = HOSTS.map((host, i) => {
          const p = new Proc(["seed", ...common, "--host", `${SUBNET}.${i + 1}`, "--port", "6001"], {
            via: ["ip", "netns", "exec", ns[host]!],
          });
          procs.push(p);
          return p;
        });
        await waitFor(() => seeds.every((s) => s.stdout.includes("1 seed running")), {
          what: "three seeds",
          timeoutMs: 30_000,
        });
        const peers: { proc: Proc; host: string; label: () => string }[] = [];
        for (const [i, host] of HOSTS.entries()) {
          for (let k = 0; k < PEERS_PER_HOST; k++) {
            const proc = new Proc(["peer", ...common, "--host", `${SUBNET}.${i + 1}`, "--no-console"], {
              via: ["ip", "netns", "exec", ns[host]!],
            });
            procs.push(proc);
            peers.push({ proc, host, label: () => /peer (\S+) joined through/.exec(proc.stdout)?.[1] ?? "" });
          }
        }
        await waitFor(() => peers.every((p) => p.label() !== ""), {
          what: "nine peers to join",
          timeoutMs: 40_000,
        });
        const cut = peers.filter((p) => p.host === "c");
        const rest = peers.filter((p) => p.host !== "c");
        /** Every message created by then that any peer of `from` delivered is delivered at every peer of `to`. */
        const holdAll = (to: typeof peers, from: typeof peers, createdBefore: number) => {
          const wanted = new Set<string>();
          for (const p of from) {
            for (const m of delivered(p.proc).values()) if (m.created < createdBefore) wanted.add(m.id);
          }
          return wanted.size > 0 && to.every((p) => {
            const got = delivered(p.proc);
            return [...wanted].every((id) => got.has(id));
          });
        };
        const createdBy = (group: typeof peers, after: number) =>
          group.some((p) => [...delivered(p.proc).values()].some((m) => m.created > after));

        // Full delivery before the cut.
        const joinedAt = Date.now();
        await waitFor(() => createdBy(peers, joinedAt + 2000) && holdAll(peers, peers, joinedAt + 2000), {
          what: "full delivery before the cut",
          timeoutMs: 20_000,
        });

        // Cut host c off: its bridge port goes down, its own link stays configured; packets are dropped.
        await run("ip", "-n", bridge, "link", "set", port.c!, "down");
        const cutAt = Date.now();
        const events = (event: string) =>
          procs.flatMap((p) =>
            records(p).filter((r) => r.event === event && Date.parse(r.time as string) >= cutAt)
          );
        await waitFor(() => events("neighbour.dead").length > 0 && events("seed.peer_removed").length > 0, {
          what: "the cut to be detected (a neighbour found dead, a seed removing a peer)",
          timeoutMs: 30_000,
        });
        const detectedAt = Date.now();
        // Each side keeps delivering what it publishes.
        await waitFor(
          () =>
            createdBy(cut, detectedAt) && createdBy(rest, detectedAt) &&
            holdAll(cut, cut, detectedAt + 1000) && holdAll(rest, rest, detectedAt + 1000),
          { what: "each side to deliver its own messages during the cut", timeoutMs: 20_000 },
        );
        const crossed = rest.some((p) =>
          [...delivered(p.proc).values()].some((m) =>
            m.created > detectedAt && cut.some((c) => delivered(c.proc).get(m.id) !== undefined)
          )
        );
        assert.ok(!crossed, "no message created during the cut crossed it");

        await run("ip", "-n", bridge, "link", "set", port.c!, "up");
        const healedAt = Date.now();
        const bound = healBoundMs(resolveSettings(SETTINGS));
        // TCP resumes a connection cut this long at its next retransmission: up to about the cut's length.
        const allowance = bound + (healedAt - cutAt);
        const labels = peers.map((p) => p.label());
        await waitFor(
          () =>
            holdAll(peers, peers, healedAt) && seeds.every((s) => labels.every((l) => listedBy(s).has(l))),
          { what: `everyone to hold everything and every seed to list everyone`, timeoutMs: allowance },
        );
        const healMs = Date.now() - healedAt;
        const excused = events("seed.report_rejected").filter((r) => String(r.why).includes("in good faith"));
        const cutMs = healedAt - cutAt;
        console.log(
          `multi_host_test: cut ${cutMs} ms, detected after ${
            detectedAt - cutAt
          } ms, healed in ${healMs} ms ` +
            `(bound ${bound} ms + ${cutMs} ms for TCP); ${events("seed.peer_removed").length} removals, ` +
            `${excused.length} reports excused`,
        );
        const bans = procs.flatMap((p) =>
          records(p).filter((r) => r.event === "seed.reporter_banned" || r.event === "connection.banned")
        );
        assert.deepEqual(bans, [], "no one banned");

        for (const p of procs) p.signal("SIGTERM");
        const codes = await Promise.all(procs.map((p) => p.exit(15_000)));
        assert.deepEqual(codes, procs.map(() => 0), "every node stops cleanly");
      });
    } finally {
      for (const p of procs) p.signal("SIGKILL");
      await Promise.all(procs.map((p) => p.exit()));
      for (const name of await ourNamespaces()) if (name.includes(tag)) await removeNamespace(name);
    }
  },
});
