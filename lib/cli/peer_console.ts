/**
 * The interactive console of a running peer: `1` lists connections, `2` lists
 * messages, any other line stops the peer. Pure formatting plus a line reader.
 */

import { formatDuration } from "../util/duration.ts";
import type { NeighbourInfo, StoredMessage } from "../peer/peer_node.ts";

/** Lays out rows under a header with columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    "  " + cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The answer to `1`: each active neighbour connection. */
export function formatConnections(neighbours: NeighbourInfo[], now: number): string {
  if (neighbours.length === 0) return "0 active connections";
  const rows = neighbours.map((n) => [
    n.addr,
    n.id,
    n.direction,
    formatDuration(Math.max(0, Math.round((now - n.since) / 1000)) * 1000),
    n.rttMs === undefined ? "-" : `${n.rttMs}ms`,
    String(n.misses),
    n.gossip,
  ]);
  return `${plural(neighbours.length, "active connection")}:\n` +
    table(["ADDRESS", "NODE ID", "DIRECTION", "CONNECTED", "RTT", "MISSED", "GOSSIP"], rows);
}

/** The answer to `2`: each message seen, oldest first. */
export function formatMessages(messages: StoredMessage[]): string {
  if (messages.length === 0) return "0 messages";
  const rows = messages.map((m) => [
    m.id.slice(0, 12),
    m.origin,
    new Date(m.seenAt).toISOString().slice(11, 23),
    m.from ?? "(published here)",
    m.content.length > 60 ? m.content.slice(0, 60) + "…" : m.content,
  ]);
  return `${plural(messages.length, "message")}:\n` +
    table(["ID", "ORIGIN", "FIRST SEEN", "FROM", "CONTENT"], rows);
}

/** Yields the lines of a byte stream (without their line endings) until it ends. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
    }
  }
  if (pending !== "") yield pending;
}
