/**
 * `deno task bench`: starts 3 seeds and N peers in this process, waits for the
 * overlay, and prints one JSON object per scenario on stdout (progress on stderr):
 * setup, latency, throughput, failure, memory. See `--help`.
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { Cluster, percentile } from "../lib/demo/cluster.ts";
import {
  DEFAULT_SETTINGS,
  parseFlagValue,
  resolveSettings,
  type SettingName,
  type Settings,
} from "../lib/settings/config.ts";
import { sample } from "../lib/util/random.ts";
import { removalBoundMs } from "../lib/settings/bounds.ts";
import type { PeerNode } from "../lib/peer/peer_node.ts";

/**
 * What a run secures: `unsigned` neither signs nor encrypts (signMessages off, no key),
 * `plain` signs every message (the default settings, no key), `secure` signs and
 * encrypts (a network key).
 */
export const MODES = ["unsigned", "plain", "secure"] as const;
export type Mode = (typeof MODES)[number];

/** The settings a mode adds. */
function modeSettings(mode: Mode, key: string): Partial<Settings> {
  if (mode === "unsigned") return { signMessages: "off" };
  if (mode === "secure") return { networkKey: key };
  return {};
}

export interface BenchOptions {
  /** Modes to measure for each size, one run each, in this order. @default ["plain", "secure"] */
  modes: Mode[];
  /** The network key of the secure mode. @default "bench" */
  key: string;
  /** Network sizes to measure, one run each. @default [10, 100, 500, 1000] */
  peers: number[];
  /** Outbound neighbours per peer. @default 4 */
  degree: number;
  /** Messages in the throughput burst. @default 1000 */
  messages: number;
  /** Messages sent one at a time for the latency scenario. @default 200 */
  latencyMessages: number;
  /** Bytes of each message's content. @default 100 */
  size: number;
  /** Peers killed without goodbye in the failure scenario. @default 5 */
  kill: number;
  /**
   * Run every size in this process, with its V8 flags, instead of one child process per
   * size with its young generation sized by {@link semiSpaceMiB}. @default false
   */
  inProcess: boolean;
  /** Give each peer a data directory of its own (in a temporary folder, removed afterwards). @default false */
  dataDir: boolean;
  /** Node timers. */
  settings: Partial<Settings>;
}

const HELP =
  `Usage: deno task bench [--peers 10,100,500,1000] [--degree 4] [--messages 1000] [--latency-messages 200]
                       [--size 100] [--kill 5] [--liveliness-interval 13s] [--liveliness-misses 3]
                       [--probe-timeout 2s] [--gossip-mode tree|flood] [--modes plain,secure]
                       [--key SECRET] [--data-dir] [--in-process]

Prints one JSON object per scenario, network size and mode on stdout; progress goes to stderr.
--gossip-mode flood pushes every message to every neighbour, to compare with tree gossip (the default).
--modes lists what to measure for each size, each run in turn: unsigned (no signatures, no key),
plain (signed messages, the default, no key), secure (signed messages and a network key, --key).
After the modes of one size, a "compare" object gives each mode's burst and p99 against the first.
--data-dir gives each peer a data directory of its own, to measure what the durable store costs.
Each size runs in a child process whose V8 young generation fits it (semi-spaces of N/32 MiB, at least 4);
--in-process runs them all in this process, with the V8 flags it was started with (memory figures then
carry over from one size to the next).`;

/**
 * Bench settings: the shipped timers (liveliness every 13 s, 2 s probe timeout, 3
 * misses; flags change them), no messages of the peers' own, and patient joins, since
 * a thousand peers join one process at once. A crash is found through the lost
 * connection within milliseconds whatever the timers; shorter liveliness timers only
 * add probe traffic, and under a burst at N = 1000 in one process every socket waits
 * seconds to be read, more than a 1 s probe timeout allows.
 */
const BENCH_SETTINGS: Partial<Settings> = {
  gossipCount: 0,
  seedTimeout: 10_000,
  connectTimeout: 10_000,
};

/** Messages gossiped one at a time after setup and before the scenarios, not measured. */
const WARMUP_MESSAGES = 10;
/** Milliseconds one message of the latency scenario may take to reach every peer before it counts as not delivered. */
const MESSAGE_TIMEOUT_MS = 10_000;

function progress(text: string): void {
  console.error(`[bench] ${text}`);
}

function emit(result: Record<string, unknown>, options: BenchOptions): void {
  console.log(JSON.stringify({
    ...result,
    mode: options.modes[0],
    gossipMode: options.settings.gossipMode ?? DEFAULT_SETTINGS.gossipMode,
    key: options.modes[0] === "secure",
    dataDir: options.dataDir,
  }));
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 1000) / 1000;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Semi-space size, in MiB, of the V8 young generation for a bench process of `peers`
 * peers: 32 KiB per peer, at least 4. A message spreading through N peers allocates
 * kilobytes per delivery; the young generation must hold that several times over, or
 * what is still under way gets promoted, but each collection pauses the whole process
 * for longer the larger it is. docs/benchmarks.md has the figures behind the choice.
 */
export function semiSpaceMiB(peers: number): number {
  return Math.max(4, Math.round(peers / 32));
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A content string of `size` characters, unique per sequence number. */
function content(sequence: number, size: number): string {
  const head = `bench:${sequence}:`;
  return head + "x".repeat(Math.max(0, size - head.length));
}

function totalTraffic(peers: PeerNode[]) {
  const total = {
    framesSent: 0,
    bytesSent: 0,
    announcements: 0,
    fetches: 0,
    grafts: 0,
    prunes: 0,
    verifications: 0,
  };
  for (const peer of peers) {
    const t = peer.traffic();
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += t[key];
  }
  return total;
}

/**
 * Waits until every peer has its neighbours: `degree` outbound ones (or every other peer,
 * in a tiny network) and a connected overlay. A peer short of outbound links keeps
 * opening them every overlayInterval; waiting for all of them keeps new links (which start
 * pushing, and close loops in the push tree) out of the measured scenarios.
 */
async function overlayReady(cluster: Cluster, degree: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  const others = cluster.live.length - 1;
  const hasNeighbours = (peer: PeerNode) => {
    const neighbours = peer.neighbours();
    if (neighbours.length >= others) return true;
    let outbound = 0;
    for (const n of neighbours) if (n.direction === "outbound") outbound++;
    return outbound >= degree;
  };
  while (performance.now() < deadline) {
    if (cluster.live.every(hasNeighbours) && cluster.isConnected()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/** Runs every scenario for one network size, in the first of `options.modes`. */
export async function benchOne(n: number, options: BenchOptions): Promise<void> {
  const settings = {
    ...BENCH_SETTINGS,
    degree: options.degree,
    ...options.settings,
    ...modeSettings(options.modes[0]!, options.key),
  };
  const timers = resolveSettings(settings);
  gc();
  // This process before any node: the baseline that per-peer memory is measured from.
  const rssBefore = Deno.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const dataRoot = options.dataDir ? await Deno.makeTempDir({ prefix: "p2pnet-bench-" }) : undefined;
  let dirs = 0;
  const peerSettings = () => dataRoot === undefined ? {} : { dataDir: `${dataRoot}/${dirs++}` };
  const cluster = new Cluster({ seeds: 3, settings, peerSettings });
  let sequence = 0;
  try {
    // setup
    const setupStart = performance.now();
    await cluster.startSeeds();
    await cluster.addPeers(n, 10);
    const ready = await overlayReady(cluster, options.degree, 60_000 + n * 100);
    const setupSeconds = (performance.now() - setupStart) / 1000;
    // Warm-up, not measured: the first messages of a network build its push tree
    // (tree gossip prunes redundant links as repeats arrive), as in any network that ran a while.
    const warmupStart = performance.now();
    let warmedUp = 0;
    for (let i = 0; i < WARMUP_MESSAGES; i++) {
      const id = cluster.publish(cluster.randomPeer()!, content(++sequence, options.size));
      if (await cluster.messageDelivered(id, MESSAGE_TIMEOUT_MS) !== undefined) warmedUp++;
    }
    emit({
      scenario: "setup",
      peers: n,
      seconds: round(setupSeconds, 3),
      overlayReady: ready,
      links: cluster.links,
      warmupMessages: WARMUP_MESSAGES,
      warmupDelivered: warmedUp,
      warmupSeconds: round((performance.now() - warmupStart) / 1000, 3),
    }, options);
    progress(`N=${n}: setup ${round(setupSeconds, 2)} s, ${cluster.links} links`);

    // memory right after setup
    gc();
    const rssSetup = Deno.memoryUsage().rss;

    // latency: one message at a time
    const latencies: number[] = [];
    let complete = 0;
    for (let i = 0; i < options.latencyMessages; i++) {
      const id = cluster.publish(cluster.randomPeer()!, content(++sequence, options.size));
      const latency = await cluster.messageDelivered(id, MESSAGE_TIMEOUT_MS);
      if (latency !== undefined) {
        complete++;
        latencies.push(latency);
      }
    }
    latencies.sort((a, b) => a - b);
    emit({
      scenario: "latency",
      peers: n,
      messages: options.latencyMessages,
      p50Ms: round(percentile(latencies, 0.5), 3),
      p99Ms: round(percentile(latencies, 0.99), 3),
      maxMs: round(latencies.at(-1) ?? NaN, 3),
      deliveryRatio: round(cluster.summary().deliveryRatio, 6),
      fullyDelivered: complete,
    }, options);
    progress(
      `N=${n}: latency p50 ${round(percentile(latencies, 0.5), 2)} ms, p99 ${
        round(percentile(latencies, 0.99), 2)
      } ms`,
    );

    // throughput: a burst from random peers
    const before = totalTraffic(cluster.live);
    const burstStart = performance.now();
    const burst: string[] = [];
    for (let i = 0; i < options.messages; i++) {
      burst.push(cluster.publish(cluster.randomPeer()!, content(++sequence, options.size)));
    }
    const allDelivered = await cluster.delivered(60_000 + options.messages * n);
    const burstSeconds = (performance.now() - burstStart) / 1000;
    // When each message of the burst had reached every peer: the tail shows repairs.
    const completions = burst.map((id) => cluster.latency(id)).filter((ms) => ms !== undefined)
      .sort((a, b) => a - b);
    const after = totalTraffic(cluster.live);
    const summary = cluster.summary();
    emit({
      scenario: "throughput",
      peers: n,
      messages: options.messages,
      size: options.size,
      seconds: round(burstSeconds, 3),
      messagesPerSecond: round(options.messages / burstSeconds, 1),
      completionSeconds: {
        p50: round(percentile(completions, 0.5) / 1000, 3),
        p99: round(percentile(completions, 0.99) / 1000, 3),
      },
      allDelivered,
      deliveryRatio: round(summary.deliveryRatio, 6),
      duplicates: summary.duplicates,
      framesPerMessage: round((after.framesSent - before.framesSent) / options.messages, 1),
      bytesPerMessage: Math.round((after.bytesSent - before.bytesSent) / options.messages),
      // Tree upkeep during the burst: ihave frames per message; fetches, grafts and prunes in all.
      announcementsPerMessage: round((after.announcements - before.announcements) / options.messages, 1),
      fetches: after.fetches - before.fetches,
      grafts: after.grafts - before.grafts,
      prunes: after.prunes - before.prunes,
      // Signatures checked during the burst, over the deliveries to peers other than the origin.
      verifications: after.verifications - before.verifications,
      verificationsPerDelivery: round(
        (after.verifications - before.verifications) / (options.messages * (n - 1)),
        4,
      ),
    }, options);
    progress(
      `N=${n} ${options.modes[0]}: throughput ${round(options.messages / burstSeconds, 0)} messages/s`,
    );

    // failure: kill k peers without goodbye
    const victims = sample(cluster.live, Math.min(options.kill, Math.max(0, n - 2)));
    const failStart = performance.now();
    await Promise.all(victims.map((v) => cluster.kill(v)));
    const deadline = performance.now() + 60_000;
    while (cluster.detected < victims.length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const fail = cluster.summary();
    emit({
      scenario: "failure",
      peers: n,
      killed: victims.length,
      removedByEverySeed: fail.detected,
      seconds: round((performance.now() - failStart) / 1000, 3),
      detectionMs: fail.detectionMs,
      boundMs: removalBoundMs(timers),
      falseRemovals: fail.falseRemovals,
    }, options);
    progress(
      `N=${n}: failure ${fail.detected}/${victims.length} detected, ${fail.falseRemovals} false removals`,
    );

    const cpu = process.cpuUsage(cpuBefore);
    emit({
      scenario: "memory",
      peers: n,
      rssMiB: mib(rssSetup),
      rssPerPeerMiB: round(mib(rssSetup - rssBefore) / n, 3),
      heapUsedMiB: mib(Deno.memoryUsage().heapUsed),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    }, options);
  } finally {
    await cluster.stop();
    if (dataRoot !== undefined) await Deno.remove(dataRoot, { recursive: true });
  }
}

/** `args` without the given flags and their values. */
function withoutFlags(args: readonly string[], flags: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (flags.includes(arg)) i++;
    else if (!flags.some((flag) => arg.startsWith(`${flag}=`))) kept.push(arg);
  }
  return kept;
}

/** Each mode's burst rate and latency p99 beside the first mode's, for one size. */
export function compare(
  n: number,
  modes: Mode[],
  results: Record<string, unknown>[],
): Record<string, unknown> {
  const of = (mode: Mode, scenario: string) =>
    results.find((r) => r.mode === mode && r.scenario === scenario);
  const base = modes[0]!;
  const figures = Object.fromEntries(modes.map((mode) => {
    const burst = of(mode, "throughput")?.messagesPerSecond as number;
    const p99 = of(mode, "latency")?.p99Ms as number;
    const baseBurst = of(base, "throughput")?.messagesPerSecond as number;
    const baseP99 = of(base, "latency")?.p99Ms as number;
    return [mode, {
      burst,
      p99Ms: p99,
      burstRatio: round(burst / baseBurst, 3),
      p99Ratio: round(p99 / baseP99, 3),
    }];
  }));
  return { scenario: "compare", peers: n, against: base, ...figures };
}

function parseList(text: string): number[] {
  const list = text.split(",").map((x) => Number(x.trim()));
  if (list.some((x) => !Number.isSafeInteger(x) || x < 2)) {
    throw new Error(`--peers: expected sizes >= 2 like 10,100, got "${text}"`);
  }
  return list;
}

function parsePositive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${flag}: expected a whole number, got "${text}"`);
  return n;
}

/** Parses bench flags; throws an Error with a one-line message on bad input. */
export function parseBenchArgs(args: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      peers: { type: "string" },
      degree: { type: "string" },
      messages: { type: "string" },
      "latency-messages": { type: "string" },
      size: { type: "string" },
      kill: { type: "string" },
      "liveliness-interval": { type: "string" },
      "liveliness-misses": { type: "string" },
      "probe-timeout": { type: "string" },
      key: { type: "string" },
      "gossip-mode": { type: "string" },
      modes: { type: "string" },
      "in-process": { type: "boolean" },
      "data-dir": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  // Node settings are checked by their rows, as the CLI checks them.
  const settings: Partial<Settings> = {};
  const flags: [SettingName, string | undefined, string][] = [
    ["livelinessInterval", values["liveliness-interval"], "--liveliness-interval"],
    ["livelinessMisses", values["liveliness-misses"], "--liveliness-misses"],
    ["probeTimeout", values["probe-timeout"], "--probe-timeout"],
    ["gossipMode", values["gossip-mode"], "--gossip-mode"],
  ];
  for (const [field, text, flag] of flags) {
    if (text !== undefined) (settings as Record<string, unknown>)[field] = parseFlagValue(field, flag, text);
  }
  const modes = (values.modes ?? "plain,secure").split(",").map((m) => m.trim());
  for (const mode of modes) {
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new Error(`--modes: expected a list of ${MODES.join(", ")}, got "${values.modes}"`);
    }
  }
  return {
    modes: modes as Mode[],
    key: values.key ?? "bench",
    peers: values.peers ? parseList(values.peers) : [10, 100, 500, 1000],
    degree: values.degree === undefined
      ? DEFAULT_SETTINGS.degree
      : parseFlagValue("degree", "--degree", values.degree) as number,
    messages: parsePositive("messages", values.messages, 1000),
    latencyMessages: parsePositive("latency-messages", values["latency-messages"], 200),
    size: parsePositive("size", values.size, 100),
    kill: parsePositive("kill", values.kill, 5),
    inProcess: values["in-process"] ?? false,
    dataDir: values["data-dir"] ?? false,
    settings,
  };
}

if (import.meta.main) {
  let options: BenchOptions | "help";
  try {
    options = parseBenchArgs(Deno.args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message.split("\n")[0]}; see 'deno task bench --help'`);
    Deno.exit(2);
  }
  if (options === "help") {
    console.log(HELP);
    Deno.exit(0);
  }
  if (options.inProcess) {
    for (const n of options.peers) {
      for (const mode of options.modes) await benchOne(n, { ...options, modes: [mode] });
    }
  } else {
    // One process per network size and mode, so memory figures do not carry over, each
    // with a young generation sized for it (gc() is for the memory figures).
    for (const n of options.peers) {
      const results: Record<string, unknown>[] = [];
      for (const mode of options.modes) {
        const args = withoutFlags(Deno.args, ["--peers", "--modes"]);
        const { code, stdout } = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            `--v8-flags=--expose-gc,--max-semi-space-size=${semiSpaceMiB(n)}`,
            new URL(import.meta.url).pathname,
            ...args,
            "--peers",
            String(n),
            "--modes",
            mode,
            "--in-process",
          ],
          stdout: "piped",
          stderr: "inherit",
        }).output();
        const text = new TextDecoder().decode(stdout);
        Deno.stdout.writeSync(stdout);
        if (code !== 0) Deno.exit(code);
        for (const line of text.split("\n")) if (line.trim()) results.push(JSON.parse(line));
      }
      if (options.modes.length > 1) console.log(JSON.stringify(compare(n, options.modes, results)));
    }
  }
}
