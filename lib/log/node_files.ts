/**
 * One log file per node, `seeds/seed-127.0.0.1-6001.log` and `peers/peer-127.0.0.1-6003.log`
 * under the log directory (`.jsonl` for JSON lines), written by @logtape/file's sinks.
 */

import { getFileSink, getRotatingFileSink } from "@logtape/file";
import type { Sink, TextFormatter } from "@logtape/logtape";
import { dirname, join } from "node:path";
import type { LogFormat } from "../settings/config.ts";

/** The role part of a node's logger category, and of its log folder (`seeds/`, `peers/`). */
export type NodeRole = "seed" | "peer";

const ROLES: readonly NodeRole[] = ["seed", "peer"];

/** Characters gathered before a write to a node's file. */
const FILE_BUFFER_CHARS = 16 * 1024;
/** Milliseconds after the last write at which the next record flushes, so a quiet node's file stays current. */
const FILE_FLUSH_MS = 1000;

/**
 * The log file of a node under `logDir`, named by format so that text and JSON records
 * never share a file: `seeds/seed-127.0.0.1-6001.log`, `peers/peer-127.0.0.1-6003.jsonl`.
 */
export function nodeLogPath(logDir: string, role: NodeRole, label: string, format: LogFormat): string {
  const slug = label.replace(/^\[|\]/g, "").replaceAll(":", "-");
  return join(logDir, `${role}s`, `${role}-${slug}.${format === "json" ? "jsonl" : "log"}`);
}

/** The log directory cannot be written to; the CLI prints the message as one line and exits 1. */
export class LogDirError extends Error {
  override name = "LogDirError";
  constructor(readonly logDir: string, cause: unknown) {
    const reason = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0];
    super(`cannot write logs in ${logDir}: ${reason}; set --log-dir or logDir to a writable directory`, {
      cause,
    });
  }
}

/** Creates `seeds/` and `peers/` under `logDir` and proves both writable, or throws a {@link LogDirError}. */
export function createLogFolders(logDir: string): void {
  try {
    for (const role of ROLES) {
      const dir = join(logDir, `${role}s`);
      Deno.mkdirSync(dir, { recursive: true });
      Deno.removeSync(Deno.makeTempFileSync({ dir, prefix: ".write-check-" }));
    }
  } catch (error) {
    throw new LogDirError(logDir, error);
  }
}

/** How {@link NodeFileSinks} writes. */
export interface NodeFilesOptions {
  /** Directory holding `seeds/` and `peers/`. */
  logDir: string;
  /** Names the files: `.log` for text, `.jsonl` for JSON lines. */
  format: LogFormat;
  /** Renders each record as one line. */
  formatter: TextFormatter;
  /** Bytes at which a file is rotated to `.1`, `.2`, ...; 0 never rotates. */
  maxFileBytes: number;
  /** Rotated files kept per node. */
  keepFiles: number;
}

const DROP: Sink & Disposable = Object.assign(() => {}, { [Symbol.dispose]: () => {} });

/**
 * Routes each record to its node's file by the `role` and `addr` properties every node's
 * logger carries, opening the file on the node's first record. Records of no node (the
 * CLI's own) go to no file.
 */
export class NodeFileSinks implements Disposable {
  readonly #files: Record<NodeRole, Map<string, Sink & Disposable>> = { seed: new Map(), peer: new Map() };
  readonly #options: NodeFilesOptions;

  constructor(options: NodeFilesOptions) {
    this.#options = options;
  }

  readonly sink: Sink = (record) => {
    const { role, addr } = record.properties;
    if ((role !== "seed" && role !== "peer") || typeof addr !== "string") return;
    (this.#files[role].get(addr) ?? this.#open(role, addr))(record);
  };

  #open(role: NodeRole, addr: string): Sink & Disposable {
    const { logDir, format, formatter, maxFileBytes, keepFiles } = this.#options;
    const path = nodeLogPath(logDir, role, addr, format);
    const files = this.#files[role];
    try {
      Deno.mkdirSync(dirname(path), { recursive: true });
      const file = maxFileBytes > 0
        ? getRotatingFileSink(path, {
          formatter,
          maxSize: maxFileBytes,
          maxFiles: keepFiles,
          // A file is rotated between flushes: at most half the cap a flush keeps files under it.
          bufferSize: Math.min(FILE_BUFFER_CHARS, Math.floor(maxFileBytes / 2)),
          flushInterval: FILE_FLUSH_MS,
        })
        : getFileSink(path, { formatter, bufferSize: FILE_BUFFER_CHARS, flushInterval: FILE_FLUSH_MS });
      files.set(addr, file);
      return file;
    } catch (error) {
      // LogTape reports this record's failure; the node's later records are dropped, not reported again.
      files.set(addr, DROP);
      throw new LogDirError(logDir, error);
    }
  }

  [Symbol.dispose](): void {
    for (const files of Object.values(this.#files)) {
      for (const file of files.values()) file[Symbol.dispose]();
      files.clear();
    }
  }
}
