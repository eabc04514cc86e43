/**
 * The `p2pnet` command line: argument parsing, settings from config.json and flags,
 * and the `seed`, `peer` and `clean` commands over the library.
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { formatAddress, isLocalHost } from "../wire/address.ts";
import { cleanLogs } from "./clean.ts";
import { ConfigError, loadConfigFile, resolveSettings, type Settings } from "../settings/config.ts";
import { flagOptions, settingsFromFlags } from "../settings/flags.ts";
import type { Command } from "../settings/kinds.ts";
import { closeLogging, loggingOptions, setupLogging } from "../log/logging.ts";
import { formatConnections, formatMessages, readLines } from "./peer_console.ts";
import { JoinError, PeerNode } from "../peer/peer_node.ts";
import { SeedNode } from "../seed/seed_node.ts";
import { HELP, USAGE_HINT } from "./cli_help.ts";
import { type DemoProgress, formatProgress, formatSummary, runDemo } from "../demo/demo.ts";
import { parseDuration } from "../util/duration.ts";

export const VERSION: string = denoJson.version;

/** A bad command line: exit code 2, one line on stderr. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command takes besides its setting flags. */
const COMMON_OPTIONS: Options = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** Each command's flags: the setting flags the table gives it, and its own. */
const OPTIONS: Record<Command, Options> = {
  seed: { ...COMMON_OPTIONS, ...flagOptions("seed") },
  peer: { ...COMMON_OPTIONS, ...flagOptions("peer"), "no-console": { type: "boolean" } },
  demo: {
    ...COMMON_OPTIONS,
    ...flagOptions("demo"),
    seeds: { type: "string" },
    peers: { type: "string" },
    duration: { type: "string" },
    rate: { type: "string" },
    churn: { type: "boolean" },
  },
  clean: { ...COMMON_OPTIONS, ...flagOptions("clean") },
};

type Values = Record<string, string | boolean | undefined>;

/** Parses a command's arguments strictly; unknown flags and missing values become one-line usage errors. */
function parseCommand(command: string, args: string[], options: Options): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`${command}: unknown option '${flag.split(" ")[0]}'`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(`${command}: option '${flag.split(" ")[0]}' needs a value`);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(`${command}: unexpected argument '${flag}'`);
    }
    throw new UsageError(`${command}: ${message.split("\n")[0]}`);
  }
}

/** Settings from defaults, the config file, then flags. */
async function loadSettings(values: Values): Promise<Settings> {
  const path = typeof values.config === "string" ? values.config : "config.json";
  const fromFile = await loadConfigFile(path, { required: values.config !== undefined });
  let fromFlags: Partial<Settings>;
  try {
    fromFlags = settingsFromFlags(values);
  } catch (error) {
    // A bad flag value is a usage error: its line points at --help.
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  return resolveSettings(fromFile, fromEnvironment(), fromFlags);
}

/** Settings from the environment: P2PNET_KEY, the network key (kept out of files and shell history). */
function fromEnvironment(): Partial<Settings> {
  let key: string | undefined;
  try {
    key = Deno.env.get("P2PNET_KEY");
  } catch {
    // No permission to read it: the config file decides.
  }
  return key ? { networkKey: key } : {};
}

/** Resolves on the first SIGINT or SIGTERM; a second one forces exit at once. */
function onStopSignal(): { signalled: Promise<string>; dispose: () => void } {
  const { promise, resolve } = Promise.withResolvers<string>();
  let count = 0;
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => {
      count++;
      if (count > 1) {
        console.error(`p2pnet: ${signal} again, exiting at once`);
        Deno.exit(130);
      }
      resolve(signal);
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  return { signalled: promise, dispose: () => handlers.forEach((remove) => remove()) };
}

function listenFailure(what: string, error: unknown): Error {
  if (error instanceof Deno.errors.AddrInUse) {
    return new Error(`cannot listen on ${what}: address already in use (is another node running there?)`);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new Error(`cannot listen on ${what}: address not available on this machine`);
  }
  return new Error(`cannot listen on ${what}: ${(error as Error).message}`);
}

async function runSeed(args: string[]): Promise<number> {
  const values = parseCommand("seed", args, OPTIONS.seed);
  if (values.help) return printHelp("seed");
  const settings = await loadSettings(values);
  let addresses = settings.seeds;
  if (values.port !== undefined) {
    addresses = [{ host: settings.host, port: settings.port }];
  } else {
    addresses = addresses.filter((a) =>
      values.host === undefined ? isLocalHost(a.host) : a.host === settings.host
    );
    if (addresses.length === 0) {
      throw new ConfigError(
        `no seed in the config is on this machine${
          values.host ? ` at host ${values.host}` : ""
        }; pass --port to start one`,
      );
    }
  }
  await setupLogging(loggingOptions(settings));
  const seeds: SeedNode[] = [];
  const stop = onStopSignal();
  try {
    for (const address of addresses) {
      // Seeds started together are distinct nodes: each keeps its state in a directory of its own.
      const dataDir = settings.dataDir && addresses.length > 1
        ? `${settings.dataDir}/seed-${address.port}`
        : settings.dataDir;
      const seed = new SeedNode({
        host: address.host,
        port: address.port,
        settings: { ...settings, dataDir },
      });
      try {
        await seed.start();
      } catch (error) {
        throw listenFailure(formatAddress(address), error);
      }
      seeds.push(seed);
    }
    console.log(
      `p2pnet ${VERSION}: ${seeds.length} seed${seeds.length === 1 ? "" : "s"} running (${
        seeds.map((s) => s.label).join(", ")
      }); Ctrl+C stops`,
    );
    const signal = await stop.signalled;
    console.log(`p2pnet: ${signal}: stopping`);
    return 0;
  } finally {
    await Promise.all(seeds.map((s) => s.stop()));
    stop.dispose();
    await closeLogging();
  }
}

async function runPeer(args: string[]): Promise<number> {
  const values = parseCommand("peer", args, OPTIONS.peer);
  if (values.help) return printHelp("peer");
  const settings = await loadSettings(values);
  await setupLogging(loggingOptions(settings));
  const peer = new PeerNode({ settings });
  const stop = onStopSignal();
  try {
    try {
      await peer.start();
    } catch (error) {
      if (error instanceof JoinError) throw error;
      throw listenFailure(`${settings.host}:${settings.port}`, error);
    }
    const useConsole = !values["no-console"];
    console.log(
      `p2pnet ${VERSION}: peer ${peer.label} joined through ${peer.registeredSeeds().join(", ")}` +
        (useConsole ? "; type 1 for connections, 2 for messages, anything else to quit" : "; Ctrl+C stops"),
    );
    const reason = await Promise.race([
      stop.signalled,
      useConsole ? consoleLoop(peer) : new Promise<never>(() => {}),
    ]);
    console.log(`p2pnet: ${reason}: leaving the network`);
    return 0;
  } finally {
    await peer.stop();
    stop.dispose();
    await closeLogging();
  }
}

/** Reads console lines until one asks to quit; at end of input it waits forever (a signal ends the peer). */
async function consoleLoop(peer: PeerNode): Promise<string> {
  for await (const line of readLines(Deno.stdin.readable)) {
    const command = line.trim();
    if (command === "1") console.log(formatConnections(peer.neighbours(), performance.now()));
    else if (command === "2") console.log(formatMessages(peer.messages()));
    else return `console input ${JSON.stringify(command)}`;
  }
  return await new Promise<never>(() => {});
}

/** Parses a whole-number flag within bounds, or throws a usage error naming it. */
function intFlag(values: Values, flag: string, fallback: number, min: number, max: number): number {
  const text = values[flag];
  if (text === undefined) return fallback;
  const n = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: must be an integer ${min}-${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

async function runDemoCommand(args: string[]): Promise<number> {
  const values = parseCommand("demo", args, OPTIONS.demo);
  if (values.help) return printHelp("demo");
  const settings = await loadSettings(values);
  const seeds = intFlag(values, "seeds", 3, 1, 50);
  const peers = intFlag(values, "peers", 20, 1, 5000);
  const rate = intFlag(values, "rate", 10, 1, 10_000);
  const durationText = typeof values.duration === "string" ? values.duration : "30s";
  const durationMs = parseDuration(durationText);
  if (durationMs === undefined || durationMs <= 0) {
    throw new UsageError(
      `--duration: must be a duration such as "30s" or "2m", got ${JSON.stringify(durationText)}`,
    );
  }
  await setupLogging({
    ...loggingOptions(settings),
    consoleLevel: values["log-level"] === undefined ? null : settings.logLevel,
  });
  const tty = Deno.stdout.isTerminal();
  console.log(
    `p2pnet ${VERSION} demo: ${seeds} seeds and ${peers} peers on 127.0.0.1 for ${durationText}` +
      `${
        values.churn ? " with churn" : ""
      }, ${rate} messages/s; logs in ${settings.logDir}; Ctrl+C stops early`,
  );
  const abort = new AbortController();
  const stop = onStopSignal();
  stop.signalled.then(() => abort.abort());
  let ticks = 0;
  const show = (p: DemoProgress) => {
    if (tty) Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${formatProgress(p)}`));
    else if (ticks++ % 8 === 0) console.log(formatProgress(p));
  };
  try {
    // Nodes run on the demo's fast timers; config.json contributes only where logs go.
    const result = await runDemo(
      { seeds, peers, durationMs, churn: values.churn === true, rate, settings: {} },
      show,
      abort.signal,
    );
    if (tty) console.log();
    console.log(formatSummary(result));
    return result.deliveryRatio === 1 && result.falseRemovals === 0 ? 0 : 1;
  } finally {
    stop.dispose();
    await closeLogging();
  }
}

async function runClean(args: string[]): Promise<number> {
  const values = parseCommand("clean", args, OPTIONS.clean);
  if (values.help) return printHelp("clean");
  const logDir = typeof values["log-dir"] === "string"
    ? values["log-dir"]
    : (await loadSettings(values)).logDir;
  const removed = await cleanLogs(logDir);
  if (removed.length === 0) {
    console.log(`nothing to remove in ${logDir}`);
    return 0;
  }
  let files = 0;
  let bytes = 0;
  for (const folder of removed) {
    console.log(`removed ${folder.path} (${plural(folder.files, "file")}, ${plural(folder.bytes, "byte")})`);
    files += folder.files;
    bytes += folder.bytes;
  }
  console.log(`removed ${plural(files, "file")}, ${plural(bytes, "byte")} in all`);
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function printHelp(topic: keyof typeof HELP): number {
  console.log(HELP[topic].replaceAll("{version}", VERSION));
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  seed: runSeed,
  peer: runPeer,
  clean: runClean,
  demo: runDemoCommand,
};

/**
 * Runs the command line and returns the exit code: 0 done, 1 failed at run time,
 * 2 bad usage or configuration. Errors are printed as one line on stderr.
 */
export async function runCli(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      return printHelp("main");
    }
    if (command === "--version" || command === "-V") {
      console.log(`p2pnet ${VERSION}`);
      return 0;
    }
    const run = COMMANDS[command];
    if (run === undefined) {
      throw new UsageError(
        command.startsWith("-") ? `unknown option '${command}'` : `unknown command '${command}'`,
      );
    }
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`p2pnet: ${error.message}; ${USAGE_HINT(command)}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`p2pnet: ${error.message}`);
      return 2;
    }
    console.error(`p2pnet: ${(error as Error).message}`);
    return 1;
  }
}
