/**
 * `p2pnet demo`: its flags, the progress line on a terminal (redrawn in place, never
 * wider than the terminal), the live page with `--web`, and the summary.
 */

import { formatAddress, parseAddress } from "../wire/address.ts";
import { ApiServer } from "../api/api_server.ts";
import { clusterSource } from "../demo/cluster_source.ts";
import type { Cluster } from "../demo/cluster.ts";
import { type DemoProgress, formatProgress, formatSummary, runDemo } from "../demo/demo.ts";
import { parseDuration } from "../util/duration.ts";
import { flagOptions } from "../settings/flags.ts";
import { closeLogging, loggingOptions, setupLogging } from "../log/logging.ts";
import {
  COMMON_OPTIONS,
  listenFailure,
  loadSettings,
  onStopSignal,
  type Options,
  parseCommand,
  UsageError,
  type Values,
  VERSION,
} from "./args.ts";

export const DEMO_OPTIONS: Options = {
  ...COMMON_OPTIONS,
  ...flagOptions("demo"),
  seeds: { type: "string" },
  peers: { type: "string" },
  duration: { type: "string" },
  rate: { type: "string" },
  churn: { type: "boolean" },
  web: { type: "string" },
};

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

export async function runDemoCommand(args: string[], printHelp: () => number): Promise<number> {
  // --web may stand alone: give it its default value, since parseArgs knows no optional values.
  args = args.map((arg, i) =>
    arg === "--web" && (args[i + 1] ?? "-").startsWith("-") ? `--web=${DEFAULT_WEB}` : arg
  );
  const values = parseCommand("demo", args, DEMO_OPTIONS);
  if (values.help) return printHelp();
  const settings = await loadSettings(values, "demo");
  const seeds = intFlag(values, "seeds", 3, 1, 50);
  const peers = intFlag(values, "peers", 20, 1, 5000);
  const rate = intFlag(values, "rate", 10, 1, 10_000);
  const durationText = typeof values.duration === "string" ? values.duration : "30s";
  const durationMs = demoDuration(durationText);
  const web = webAddress(values);
  await setupLogging({
    ...loggingOptions(settings),
    consoleLevel: values["log-level"] === undefined ? null : settings.logLevel,
  });
  // With node logs on the console, progress goes on lines of its own: a line redrawn in place would be torn by them.
  const tty = Deno.stdout.isTerminal() && values["log-level"] === undefined;
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
  let page: ApiServer | undefined;
  const show = (p: DemoProgress) => {
    if (tty) {
      Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${formatProgress(p, terminalWidth())}`));
    } else if (ticks++ % 8 === 0) console.log(formatProgress(p));
  };
  try {
    // Nodes run on the demo's fast timers; config.json contributes only where logs go.
    const result = await runDemo(
      {
        seeds,
        peers,
        durationMs,
        churn: values.churn === true,
        rate,
        settings: {},
        onCluster: web === undefined ? undefined : async (cluster) => {
          page = await startPage(cluster, web);
          console.log(`live page: ${page.url}/`);
        },
      },
      show,
      abort.signal,
    );
    if (tty) console.log();
    console.log(formatSummary(result));
    return result.deliveryRatio === 1 && result.falseRemovals === 0 ? 0 : 1;
  } finally {
    await page?.stop();
    stop.dispose();
    await closeLogging();
  }
}

/**
 * The demo's length: a number with a unit. A bare number is refused rather than read as
 * milliseconds, the unit of a duration in config.json, since `--duration 5` means 5 s
 * to a person and 5 ms would end the demo before it starts.
 */
function demoDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new UsageError(
      `--duration: needs a unit, such as "${text.trim()}s" or "2m", got ${JSON.stringify(text)}`,
    );
  }
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`--duration: must be a duration such as "30s" or "2m", got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** Where `--web` serves the live page: its value, or 127.0.0.1:8080 when the flag stands alone. */
function webAddress(values: Values): string | undefined {
  if (values.web === undefined) return undefined;
  const text = String(values.web);
  try {
    return formatAddress(parseAddress(text, { allowPortZero: true }));
  } catch (error) {
    throw new UsageError(`--web: ${(error as Error).message}`);
  }
}

const DEFAULT_WEB = "127.0.0.1:8080";

async function startPage(cluster: Cluster, at: string): Promise<ApiServer> {
  const { host, port } = parseAddress(at, { allowPortZero: true });
  const server = new ApiServer({ source: clusterSource(cluster), host, port });
  try {
    await server.start();
  } catch (error) {
    throw listenFailure(`${at} (the live page)`, error);
  }
  return server;
}

/** Columns of the terminal, for the progress line; 80 when it cannot be told. */
function terminalWidth(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
