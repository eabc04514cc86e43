/**
 * `p2pnet trace ID`: the tree a message took, rebuilt from the JSON logs of every peer
 * under a log directory (`--log-format json`), from the `message.delivered` records.
 */

import { join } from "node:path";
import { buildTrace, formatTrace, fromRecords, type Trace } from "../log/trace.ts";
import { UsageError } from "./args.ts";

/** A message id or the start of one, as the console and `p2pnet messages` show it (12 digits). */
const ID_PREFIX = /^[0-9a-f]{6,32}$/;

/** The parsed records of every JSON log file of the peers under `logDir` (rotated ones too). */
export async function readPeerRecords(logDir: string): Promise<Record<string, unknown>[]> {
  const dir = join(logDir, "peers");
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && /\.jsonl(\.\d+)?$/.test(e.name)).map((e) =>
      e.name
    );
  } catch (error) {
    throw new Error(`cannot read logs in ${dir}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (names.length === 0) {
    throw new Error(`no JSON logs in ${dir}: run the nodes with --log-format json (or logFormat "json")`);
  }
  const records: Record<string, unknown>[] = [];
  for (const name of names.sort()) {
    for (const line of (await Deno.readTextFile(join(dir, name))).split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // A line cut short (a node killed mid-write) is skipped.
      }
    }
  }
  return records;
}

/** The full id that `prefix` names among the delivery records; throws a one-line error when none or several do. */
export function resolveId(prefix: string, records: readonly Record<string, unknown>[]): string {
  if (!ID_PREFIX.test(prefix)) {
    throw new UsageError(`trace: the message id must be 6-32 hex digits, got ${JSON.stringify(prefix)}`);
  }
  const ids = new Set<string>();
  for (const r of records) {
    if (r.event === "message.delivered" && typeof r.id === "string" && r.id.startsWith(prefix)) ids.add(r.id);
  }
  if (ids.size === 0) throw new Error(`no peer's log records message ${prefix}`);
  if (ids.size > 1) {
    throw new Error(`message id ${prefix} is ambiguous: ${[...ids].slice(0, 3).join(", ")}, ...`);
  }
  return [...ids][0]!;
}

/** The trace of the message `prefix` names, from the logs under `logDir`. */
export async function traceFromLogs(prefix: string, logDir: string): Promise<Trace> {
  const records = await readPeerRecords(logDir);
  const id = resolveId(prefix, records);
  const { deliveries, spans } = fromRecords(id, records);
  return buildTrace(id, deliveries, spans);
}

/** Prints the trace, as a tree or as JSON. */
export function printTrace(trace: Trace, json: boolean): void {
  console.log(json ? JSON.stringify(trace, null, 2) : formatTrace(trace));
}
