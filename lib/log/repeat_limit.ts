/**
 * Repeated log lines, summarised. A storm (a neighbour redialled in a loop, a host
 * refused a thousand times) must not fill a disk: within a window, the first record of
 * a kind passes and the identical ones after it are only counted; once the window has
 * passed, one record says how many were held back.
 */

import type { LogLevel, LogRecord, Sink } from "@logtape/logtape";

export interface RepeatLimitOptions {
  /** Milliseconds in which records identical to a first one are counted, not written. */
  windowMs: number;
  /** Most kinds of record tracked at once; the oldest is summarised first. @default 10000 */
  maxKinds?: number;
}

/** Levels whose records are limited; debug and trace (every frame) pass as they are. */
const LIMITED: ReadonlySet<LogLevel> = new Set(["info", "warning", "error", "fatal"]);

interface Kind {
  readonly first: LogRecord;
  readonly start: number;
  lastAt: number;
  held: number;
}

/**
 * Records are identical when they have the same level, category, message template and
 * properties (another node's address by its host alone: a storm of connections comes
 * from a new port each time). Timestamps come from the records, so no clock is read.
 */
export function repeatLimited(
  sink: Sink,
  { windowMs, maxKinds = 10_000 }: RepeatLimitOptions,
): Sink & Disposable {
  const kinds = new Map<string, Kind>();
  let lastSweep = -Infinity;

  const summarise = (kind: Kind) => {
    if (kind.held === 0) return;
    const seconds = Math.max(1, Math.round((kind.lastAt - kind.start) / 1000));
    const note = `(${kind.held} more like this in ${seconds} s) `;
    const [head, ...rest] = kind.first.message;
    sink({
      ...kind.first,
      timestamp: kind.lastAt,
      message: [note + String(head ?? ""), ...rest],
      rawMessage: typeof kind.first.rawMessage === "string"
        ? note + kind.first.rawMessage
        : kind.first.rawMessage,
      properties: { ...kind.first.properties, repeated: kind.held },
    });
  };

  const sweep = (now: number) => {
    lastSweep = now;
    for (const [key, kind] of kinds) {
      if (now - kind.start < windowMs) continue;
      kinds.delete(key);
      summarise(kind);
    }
  };

  const limited: Sink = (record) => {
    if (!LIMITED.has(record.level)) return sink(record);
    const now = record.timestamp;
    if (now - lastSweep >= windowMs) sweep(now);
    const key = kindKey(record);
    const kind = kinds.get(key);
    if (kind !== undefined && now - kind.start < windowMs) {
      kind.held++;
      kind.lastAt = now;
      return;
    }
    if (kind !== undefined) {
      kinds.delete(key);
      summarise(kind);
    }
    kinds.set(key, { first: record, start: now, lastAt: now, held: 0 });
    if (kinds.size > maxKinds) {
      const [oldest, kindOf] = kinds.entries().next().value!;
      kinds.delete(oldest);
      summarise(kindOf);
    }
    sink(record);
  };

  return Object.assign(limited, {
    [Symbol.dispose]: () => {
      for (const kind of kinds.values()) summarise(kind);
      kinds.clear();
      (sink as Partial<Disposable>)[Symbol.dispose]?.();
    },
  });
}

/** What makes two records the same line, as text. */
function kindKey(record: LogRecord): string {
  const properties: Record<string, unknown> = { ...record.properties };
  if (typeof properties.remote === "string") properties.remote = hostOf(properties.remote);
  const fields = JSON.stringify(properties, (_key, value) => value instanceof Error ? value.message : value);
  return `${record.level}\u0000${record.category.join(".")}\u0000${
    typeof record.rawMessage === "string" ? record.rawMessage : record.message.join("")
  }\u0000${fields}`;
}

/** `10.0.0.1:40312` as `10.0.0.1`, `[::1]:7000` as `[::1]`. */
function hostOf(address: string): string {
  const colon = address.lastIndexOf(":");
  return colon > 0 && !address.endsWith("]") ? address.slice(0, colon) : address;
}
