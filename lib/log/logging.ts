/**
 * Logging through LogTape. Library code only asks for a logger by category
 * (`["p2pnet", role, node]`); an application calls {@link setupLogging} once to send
 * records to the console and to one file per node.
 */

import { getFileSink } from "@logtape/file";
import {
  configure,
  dispose,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  type Sink,
  withFilter,
} from "@logtape/logtape";
import { join } from "node:path";
import type { LogFormat, LogLevelName } from "../settings/config.ts";

/** The role part of a node's logger category, and of its log folder (`seeds/`, `peers/`). */
export type NodeRole = "seed" | "peer";

/** The logger of one node: category `["p2pnet", role, label]`, where label is `host:port`. */
export function nodeLogger(role: NodeRole, label: string): Logger {
  return getLogger(["p2pnet", role, label]);
}

/** The log file of a node under `logDir`: `seeds/seed-127.0.0.1-6001.log`, whatever the format. */
export function nodeLogPath(logDir: string, role: NodeRole, label: string): string {
  const slug = label.replace(/^\[|\]/g, "").replaceAll(":", "-");
  return join(logDir, `${role}s`, `${role}-${slug}.log`);
}

const LEVEL_TEXT: Record<LogLevel, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warning: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};
const LEVEL_COLOR: Record<LogLevel, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[90m",
  info: "\x1b[32m",
  warning: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[1;31m",
};
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";

/** The node a record belongs to, `seed 127.0.0.1:6001`, or the category's tail for other records. */
function nodeOf(record: LogRecord): string {
  const [, role, label] = record.category;
  return label === undefined ? (role ?? "p2pnet") : `${role} ${label}`;
}

function renderMessage(record: LogRecord): string {
  let text = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    text += i % 2 === 0 ? String(part) : renderValue(part);
  }
  return text;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

/** The properties not already shown in the message, as ` key=value` pairs. */
function renderFields(record: LogRecord): string {
  const template = typeof record.rawMessage === "string" ? record.rawMessage : "";
  let text = "";
  for (const [key, value] of Object.entries(record.properties)) {
    if (!template.includes(`{${key}}`)) text += ` ${key}=${renderValue(value)}`;
  }
  return text;
}

/** One line of text: time, level, node, event and its fields. */
export function formatTextLine(record: LogRecord): string {
  const time = new Date(record.timestamp).toISOString();
  return `${time} ${LEVEL_TEXT[record.level]} [${nodeOf(record)}] ${renderMessage(record)}${
    renderFields(record)
  }\n`;
}

/** One JSON line: `{"time", "level", "node", "event", ...fields}`. */
export function formatJsonLine(record: LogRecord): string {
  return JSON.stringify({
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    node: nodeOf(record),
    event: renderMessage(record),
    ...record.properties,
  }, (_key, value) => value instanceof Error ? value.message : value) + "\n";
}

/** A console line, coloured by level when `color` is set. */
function formatConsoleLine(record: LogRecord, color: boolean): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  const level = LEVEL_TEXT[record.level];
  const body = `[${nodeOf(record)}] ${renderMessage(record)}`;
  const fields = renderFields(record);
  if (!color) return `${time} ${level} ${body}${fields}\n`;
  return `${DIM}${time}${RESET} ${
    LEVEL_COLOR[record.level]
  }${level}${RESET} ${body}${DIM}${fields}${RESET}\n`;
}

/** Writes console lines to stdout synchronously, so they interleave correctly with console output. */
function consoleSink(color: boolean): Sink {
  const encoder = new TextEncoder();
  return (record) => {
    const bytes = encoder.encode(formatConsoleLine(record, color));
    let written = 0;
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  };
}

/**
 * Routes each node's records to its own file, opened on the node's first record.
 * Records that belong to no node (the CLI's own) are not written to files.
 */
class NodeFileSinks implements Disposable {
  readonly #files = new Map<string, Sink & Disposable>();
  constructor(readonly logDir: string, readonly format: LogFormat) {}

  readonly sink: Sink = (record) => {
    const [, role, label] = record.category;
    if ((role !== "seed" && role !== "peer") || label === undefined) return;
    const key = `${role} ${label}`;
    let file = this.#files.get(key);
    if (file === undefined) {
      const path = nodeLogPath(this.logDir, role, label);
      Deno.mkdirSync(join(this.logDir, `${role}s`), { recursive: true });
      file = getFileSink(path, {
        formatter: this.format === "json" ? formatJsonLine : formatTextLine,
        bufferSize: 16 * 1024,
        flushInterval: 1000,
      });
      this.#files.set(key, file);
    }
    file(record);
  };

  [Symbol.dispose](): void {
    for (const file of this.#files.values()) file[Symbol.dispose]();
    this.#files.clear();
  }
}

export interface LoggingOptions {
  /** Directory holding `seeds/` and `peers/`; no files are written when undefined. */
  logDir?: string;
  /** Lowest level shown on the console; `null` turns the console off. @default "info" */
  consoleLevel?: LogLevelName | null;
  /** Lowest level written to the files. @default "debug" */
  fileLevel?: LogLevelName;
  /** File format. @default "text" */
  format?: LogFormat;
  /** Colour the console by level. @default stdout is a terminal and NO_COLOR is unset */
  color?: boolean;
}

const ORDER: LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

/** Whether to colour console output: stdout is a terminal and `NO_COLOR` is not set. */
export function wantsColor(): boolean {
  let noColor = false;
  try {
    noColor = (Deno.env.get("NO_COLOR") ?? "") !== "";
  } catch {
    // Without env permission, fall back to the terminal check alone.
  }
  return !noColor && Deno.stdout.isTerminal();
}

/**
 * Configures LogTape once for the process: the console and one file per node.
 * Records at a level no sink wants are never created, so disabled levels cost a
 * level check on the hot path.
 */
export async function setupLogging(options: LoggingOptions): Promise<void> {
  const consoleLevel = options.consoleLevel === undefined ? "info" : options.consoleLevel;
  const fileLevel = options.fileLevel ?? "debug";
  const sinks: Record<string, Sink> = {};
  const levels: LogLevel[] = [];
  if (consoleLevel !== null) {
    sinks.console = withFilter(consoleSink(options.color ?? wantsColor()), consoleLevel);
    levels.push(consoleLevel);
  }
  if (options.logDir !== undefined) {
    const files = new NodeFileSinks(options.logDir, options.format ?? "text");
    sinks.files = Object.assign(withFilter(files.sink, fileLevel), {
      [Symbol.dispose]: () => files[Symbol.dispose](),
    });
    levels.push(fileLevel);
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

/** Flushes and closes every sink; call before the process exits. */
export async function closeLogging(): Promise<void> {
  await dispose();
}
