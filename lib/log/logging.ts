/**
 * Logging through LogTape. Library code only asks for a node's logger: category
 * `["p2pnet", role]`, with the node's `role` and `addr` as properties of every record.
 * An application calls {@link setupLogging} once to send records to the console and to
 * one file per node.
 */

import {
  configure,
  getConsoleSink,
  getLogger,
  type Logger,
  type LogLevel,
  reset,
  type Sink,
  withFilter,
} from "@logtape/logtape";
import { type LogFormat, type LogLevelName, type Settings, TUNING } from "../settings/config.ts";
import { repeatLimited } from "./repeat_limit.ts";
import { jsonFormatter, textFormatter } from "./formatters.ts";
import { createLogFolders, NodeFileSinks, type NodeRole } from "./node_files.ts";

export { LogDirError, nodeLogPath, type NodeRole } from "./node_files.ts";

/**
 * The logger of one node: category `["p2pnet", role]`, and `role` and `addr` (its
 * `host:port`) on every record. Other nodes named in a record go by other keys (`peer`,
 * `remote`, `seed`), since a record's own `addr` property would replace the node's.
 */
export function nodeLogger(role: NodeRole, label: string): Logger {
  return getLogger(["p2pnet", role]).with({ role, addr: label });
}

export interface LoggingOptions {
  /** Directory holding `seeds/` and `peers/`; no files are written when undefined. */
  logDir?: string;
  /** Lowest level shown on the console; `null` turns the console off. @default "info" */
  consoleLevel?: LogLevelName | null;
  /** Lowest level written to the files. @default "debug" */
  fileLevel?: LogLevelName;
  /** Format of the files and the console: `text` lines or `json` lines. @default "text" */
  format?: LogFormat;
  /** Colour console text by level. @default stdout is a terminal and NO_COLOR is unset or empty */
  color?: boolean;
  /** Bytes at which a node's file is rotated to `.1`, `.2`, ...; 0 never rotates. @default 0 */
  maxFileBytes?: number;
  /** Rotated files kept per node when `maxFileBytes` is set. @default 5 */
  keepFiles?: number;
}

/** The logging options of the CLI's node commands, from their settings. */
export function loggingOptions(
  settings: Pick<Settings, "logDir" | "logLevel" | "fileLogLevel" | "logFormat" | "logMaxBytes" | "logKeep">,
): LoggingOptions {
  return {
    logDir: settings.logDir,
    consoleLevel: settings.logLevel,
    fileLevel: settings.fileLogLevel,
    format: settings.logFormat,
    maxFileBytes: settings.logMaxBytes,
    keepFiles: settings.logKeep,
  };
}

/** Whether to colour console text: on a terminal, unless `NO_COLOR` is set to a non-empty value. */
export function wantsColor(
  { noColor, isTerminal }: { noColor: string | undefined; isTerminal: boolean },
): boolean {
  return isTerminal && (noColor ?? "") === "";
}

function environmentWantsColor(): boolean {
  let noColor: string | undefined;
  try {
    noColor = Deno.env.get("NO_COLOR");
  } catch {
    // Without env permission, the terminal check alone decides.
  }
  return wantsColor({ noColor, isTerminal: Deno.stdout.isTerminal() });
}

const ORDER: LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

/** Every level to `console.log`: stdout, written at once, so it interleaves with the CLI's own lines. */
const TO_STDOUT = Object.fromEntries(ORDER.map((level) => [level, "log"])) as Record<LogLevel, "log">;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot set up logging as '${name}' must be an integer >= ${min}: current value ${value}`,
    );
  }
}

/**
 * Configures LogTape once for the process: the console and one file per node, each
 * with repeated lines summarised ({@link repeatLimited}). The log
 * directory is created and proven writable first, or a {@link LogDirError} is thrown
 * and nothing is configured. Records at a level no sink wants are never created, so
 * disabled levels cost a level check on the hot path.
 */
export async function setupLogging(options: LoggingOptions): Promise<void> {
  const consoleLevel = options.consoleLevel === undefined ? "info" : options.consoleLevel;
  const fileLevel = options.fileLevel ?? "debug";
  const format = options.format ?? "text";
  const maxFileBytes = options.maxFileBytes ?? 0;
  const keepFiles = options.keepFiles ?? 5;
  checkCount("maxFileBytes", maxFileBytes, 0);
  checkCount("keepFiles", keepFiles, 1);
  const sinks: Record<string, Sink> = {};
  const levels: LogLevel[] = [];
  if (options.logDir !== undefined) {
    createLogFolders(options.logDir);
    const formatter = format === "json" ? jsonFormatter : textFormatter();
    const files = new NodeFileSinks({ logDir: options.logDir, format, formatter, maxFileBytes, keepFiles });
    sinks.files = repeatLimited(
      Object.assign(withFilter(files.sink, fileLevel), { [Symbol.dispose]: () => files[Symbol.dispose]() }),
      { windowMs: TUNING.logRepeatWindowMs },
    );
    levels.push(fileLevel);
  }
  if (consoleLevel !== null) {
    const formatter = format === "json"
      ? jsonFormatter
      : textFormatter({ color: options.color ?? environmentWantsColor(), timestamp: "time" });
    sinks.console = repeatLimited(
      withFilter(getConsoleSink({ formatter, levelMap: TO_STDOUT }), consoleLevel),
      {
        windowMs: TUNING.logRepeatWindowMs,
      },
    );
    levels.push(consoleLevel);
  }
  const lowest = levels.length === 0
    ? "fatal"
    : levels.reduce((a, b) => ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b);
  await configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["p2pnet"], sinks: Object.keys(sinks), lowestLevel: lowest },
      { category: ["logtape", "meta"], sinks: sinks.console ? ["console"] : [], lowestLevel: "warning" },
    ],
  });
}

/** Flushes and closes every sink and detaches them, so that no later record reopens a file. */
export async function closeLogging(): Promise<void> {
  await reset();
}
