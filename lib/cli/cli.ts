/**
 * The `p2pnet` command line: argument parsing, settings from config.json and flags,
 * and the `seed`, `peer` and `clean` commands over the library.
 */

import { type Address, formatAddress, isLocalHost, parseAddress, parseHostPort } from "../wire/address.ts";
import { type ApiServer, serveApi } from "../api/api_server.ts";
import { type ApiSource, peerSource, seedSource } from "../api/source.ts";
import { cleanData, cleanLogs, type RemovedFolder } from "./clean.ts";
import { ConfigError, type Settings } from "../settings/config.ts";
import { flagOptions } from "../settings/flags.ts";
import { DEMO_OPTIONS, runDemoCommand } from "./demo_command.ts";
import {
  COMMON_OPTIONS,
  listenFailure,
  loadSettings,
  onStopSignal,
  type Options,
  parseCommand,
  parseWithPositionals,
  UsageError,
  type Values,
  VERSION,
} from "./args.ts";
import { CLIENT_COMMANDS, runClient } from "./client.ts";
import { printTrace, traceFromLogs } from "./trace_command.ts";
import type { Command } from "../settings/kinds.ts";
import { closeLogging, loggingOptions, nodeLogger, setupLogging } from "../log/logging.ts";
import type { Logger } from "@logtape/logtape";
import { formatConnections, formatMessages, readLines } from "./peer_console.ts";
import { JoinError, PeerNode } from "../peer/peer_node.ts";
import { SeedNode } from "../seed/seed_node.ts";
import { DataDirError } from "../store/node_database.ts";
import { HELP, USAGE_HINT } from "./cli_help.ts";

export { VERSION };

/** Each command's flags: the setting flags the table gives it, and its own. */
const OPTIONS: Record<Command, Options> = {
  seed: { ...COMMON_OPTIONS, ...flagOptions("seed") },
  peer: { ...COMMON_OPTIONS, ...flagOptions("peer"), "no-console": { type: "boolean" } },
  demo: DEMO_OPTIONS,

  clean: { ...COMMON_OPTIONS, ...flagOptions("clean"), data: { type: "boolean" } },
};

async function runSeed(args: string[]): Promise<number> {
  const values = parseCommand("seed", args, OPTIONS.seed);
  if (values.help) return printHelp("seed");
  const settings = await loadSettings(values, "seed");
  const advertised = settings.advertise === "" ? undefined : parseHostPort(settings.advertise);
  let nodes: { address: Address; advertise: string }[];
  if (values.port !== undefined) {
    nodes = [{ address: { host: settings.host, port: settings.port }, advertise: settings.advertise }];
  } else {
    // The seeds of the list named by the host they are announced at (or bound to, with --host alone).
    const named = advertised?.host ?? (values.host === undefined ? undefined : settings.host);
    nodes = settings.seeds
      .filter((a) => named === undefined ? isLocalHost(a.host) : a.host === named)
      .map((a) => ({
        address: { host: values.host === undefined ? a.host : settings.host, port: a.port },
        advertise: advertised ? formatAddress({ host: advertised.host, port: a.port }) : "",
      }));
    if (nodes.length === 0) {
      throw new ConfigError(
        `no seed in the config is on this machine${
          named ? ` at host ${named}` : ""
        }; pass --port to start one`,
      );
    }
  }
  await setupLogging(loggingOptions(settings));
  const seeds: SeedNode[] = [];
  const apis: ApiServer[] = [];
  const stop = onStopSignal();
  try {
    for (const { address, advertise } of nodes) {
      // Seeds started together are distinct nodes: each keeps its state in a directory of its own.
      const dataDir = settings.dataDir && nodes.length > 1
        ? `${settings.dataDir}/seed-${address.port}`
        : settings.dataDir;
      const seed = new SeedNode({
        host: address.host,
        port: address.port,
        advertise,
        settings: { ...settings, dataDir },
      });
      try {
        await seed.start();
      } catch (error) {
        throw listenFailure(formatAddress(address), error);
      }
      seeds.push(seed);
    }
    for (const [i, seed] of seeds.entries()) {
      if (settings.api !== "") {
        apis.push(await startApi(seedSource(seed), settings, i, nodeLogger("seed", seed.label)));
      }
    }
    console.log(
      `p2pnet ${VERSION}: ${seeds.length} seed${seeds.length === 1 ? "" : "s"} running (${
        seeds.map((s) => s.label).join(", ")
      })${apiNote(apis)}; Ctrl+C stops`,
    );
    const signal = await stop.signalled;
    console.log(`p2pnet: ${signal}: stopping`);
    return 0;
  } finally {
    await Promise.all(apis.map((a) => a.stop()));
    await Promise.all(seeds.map((s) => s.stop()));
    stop.dispose();
    await closeLogging();
  }
}

async function runPeer(args: string[]): Promise<number> {
  const values = parseCommand("peer", args, OPTIONS.peer);
  if (values.help) return printHelp("peer");
  const settings = await loadSettings(values, "peer");
  await setupLogging(loggingOptions(settings));
  const peer = new PeerNode({ settings });
  const stop = onStopSignal();
  // A signal while the peer is still joining (seeds not up yet) stops it as cleanly as later.
  let joined = false;
  let stoppedEarly: string | undefined;
  stop.signalled.then((signal) => {
    if (joined) return;
    stoppedEarly = signal;
    peer.stop();
  });
  let api: ApiServer | undefined;
  try {
    try {
      await peer.start();
    } catch (error) {
      if (stoppedEarly !== undefined) {
        console.log(`p2pnet: ${stoppedEarly}: stopped before joining the network`);
        return 0;
      }
      if (error instanceof JoinError || error instanceof DataDirError) throw error;
      throw listenFailure(`${settings.host}:${settings.port}`, error);
    }
    joined = true;
    if (settings.api !== "") {
      api = await startApi(peerSource(peer), settings, 0, nodeLogger("peer", peer.label));
    }
    const useConsole = !values["no-console"];
    console.log(
      `p2pnet ${VERSION}: peer ${peer.label} joined through ${peer.registeredSeeds().join(", ")}` +
        apiNote(api ? [api] : []) +
        (useConsole ? "; type 1 for connections, 2 for messages, anything else to quit" : "; Ctrl+C stops"),
    );
    const reason = await Promise.race([
      stop.signalled,
      useConsole ? consoleLoop(peer) : new Promise<never>(() => {}),
    ]);
    console.log(`p2pnet: ${reason}: leaving the network`);
    return 0;
  } finally {
    await api?.stop();
    await peer.stop();
    stop.dispose();
    await closeLogging();
  }
}

/**
 * Starts the control API of the `index`-th node of this process: the first at `api`,
 * the next ones on the ports after it (or free ports, for port 0).
 */
async function startApi(
  source: ApiSource,
  settings: Settings,
  index: number,
  log: Logger,
): Promise<ApiServer> {
  const { host, port } = parseAddress(settings.api, { allowPortZero: true });
  const at = formatAddress({ host, port: port === 0 ? 0 : port + index });
  try {
    return await serveApi(source, { api: at, networkKey: settings.networkKey }, log);
  } catch (error) {
    throw listenFailure(`${at} (the control API)`, error);
  }
}

function apiNote(apis: ApiServer[]): string {
  return apis.length === 0 ? "" : `; control API on ${apis.map((a) => a.url).join(", ")}`;
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

async function runClean(args: string[]): Promise<number> {
  const { values, positionals } = parseWithPositionals("clean", args, OPTIONS.clean);
  if (values.help) return printHelp("clean");
  if (values.data) return await runCleanData(values, positionals);
  if (positionals.length > 0) throw new UsageError(`clean: unexpected argument '${positionals[0]}'`);
  const logDir = typeof values["log-dir"] === "string"
    ? values["log-dir"]
    : (await loadSettings(values, "clean")).logDir;
  return printRemoved(logDir, await cleanLogs(logDir));
}

/** `p2pnet clean --data [DIR...]`: the data directories named, or the config's dataDir. */
async function runCleanData(values: Values, dirs: string[]): Promise<number> {
  if (dirs.length === 0) {
    const { dataDir } = await loadSettings(values, "clean");
    if (dataDir === "") {
      throw new UsageError(
        "clean: --data needs a directory: 'p2pnet clean --data DIR', or dataDir in the config",
      );
    }
    dirs = [dataDir];
  }
  // Every directory is checked before anything is removed.
  const { removed, nothing } = await cleanData(dirs);
  for (const dir of nothing) console.log(`nothing to remove in ${dir}`);
  if (removed.length > 0) printRemoved(dirs.join(", "), removed);
  for (const kept of removed.filter((r) => !r.removedDir)) {
    console.log(`kept ${kept.path}: it holds files p2pnet did not write`);
  }
  return 0;
}

/** Prints what was removed from `dir`, or that there was nothing to remove. */
function printRemoved(dir: string, removed: RemovedFolder[]): number {
  if (removed.length === 0) {
    console.log(`nothing to remove in ${dir}`);
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

async function runTrace(args: string[]): Promise<number> {
  const { values, positionals } = parseWithPositionals("trace", args, TRACE_OPTIONS);
  if (values.help) return printHelp("trace");
  if (positionals.length !== 1) {
    throw new UsageError(`trace: give one message id, got ${positionals.length} arguments`);
  }
  const logDir = typeof values["log-dir"] === "string"
    ? values["log-dir"]
    : (await loadSettings(values)).logDir;
  printTrace(await traceFromLogs(positionals[0]!, logDir), values.json === true);
  return 0;
}

const TRACE_OPTIONS: Options = {
  ...COMMON_OPTIONS,
  "log-dir": { type: "string" },
  json: { type: "boolean" },
};

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  seed: runSeed,
  peer: runPeer,
  clean: runClean,
  demo: (args) => runDemoCommand(args, () => printHelp("demo")),
  trace: runTrace,
  ...Object.fromEntries(
    CLIENT_COMMANDS.map((
      command,
    ) => [command, (args: string[]) => runClient(command, args, () => printHelp(command))]),
  ),
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
