/**
 * The shapes of p2pnet's log lines, built from LogTape's own formatters: text for
 * people (coloured by level on a terminal) and JSON lines for tools.
 */

import {
  type FormattedValues,
  getAnsiColorFormatter,
  getTextFormatter,
  type LogRecord,
  type TextFormatter,
} from "@logtape/logtape";

/** Options of {@link textFormatter}. */
export interface TextLineOptions {
  /** Colour the time, level and node by level with ANSI escapes. @default false */
  color?: boolean;
  /** `"rfc3339"` (`2025-01-31T09:15:02.042Z`) for files, `"time"` (`09:15:02.042`, UTC) for the console. @default "rfc3339" */
  timestamp?: "rfc3339" | "time";
}

/**
 * Text lines: `2025-01-31T09:15:02.042Z [INF] peer 127.0.0.1:6003: connected to 127.0.0.1:6004 (outbound)`,
 * followed by ` key=value` for each property the message does not show.
 */
export function textFormatter({ color = false, timestamp = "rfc3339" }: TextLineOptions = {}): TextFormatter {
  const options = {
    timestamp,
    // Addresses and reasons read as written, not as quoted strings; control characters are escaped.
    value: "bare",
    category: roleOf,
    format: color ? colorLine : plainLine,
  } as const;
  return color ? getAnsiColorFormatter(options) : getTextFormatter(options);
}

/**
 * JSON lines for tools: `{"time", "level", "event", "msg", "role", "addr", ...fields}`, one
 * object a line. `event` is the record's stable name (docs/operations.md lists them), `msg`
 * the text a person reads; the other properties follow as fields of their own.
 */
export const jsonFormatter: TextFormatter = (record) => {
  const { event, role, addr, ...fields } = record.properties;
  return JSON.stringify(
    {
      time: new Date(record.timestamp).toISOString(),
      level: record.level,
      event,
      msg: renderMessage(record),
      role,
      addr,
      ...fields,
    },
    (_key, value) => value instanceof Error ? value.message : value,
  ) + "\n";
};

/** The record's message with its values in place, as a person reads it. */
function renderMessage(record: LogRecord): string {
  let text = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    text += i % 2 === 0 ? String(part) : typeof part === "string" ? part : renderValue(part);
  }
  return text;
}

/** `["p2pnet", "peer"]` shows as `peer`; other categories in full. */
function roleOf(category: readonly string[]): string {
  return category[0] === "p2pnet" && category.length > 1 ? category.slice(1).join("·") : category.join("·");
}

function plainLine({ timestamp, level, category, message, record }: FormattedValues): string {
  return `${timestamp} [${level}] ${category}${nodeAddress(record)}: ${message}${renderFields(record)}`;
}

/** The ANSI formatter has already coloured the level and dimmed the time and role. */
function colorLine({ timestamp, level, category, message, record }: FormattedValues): string {
  const fields = renderFields(record);
  return `${timestamp} ${level} ${category}${nodeAddress(record)}: ${message}${
    fields === "" ? "" : `${DIM}${fields}${RESET}`
  }`;
}

const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

function nodeAddress(record: LogRecord): string {
  const addr = record.properties.addr;
  return typeof addr === "string" ? ` ${addr}` : "";
}

/** The properties the message does not show, as ` key=value`; the node's role and address lead the line. */
function renderFields(record: LogRecord): string {
  const template = typeof record.rawMessage === "string" ? record.rawMessage : "";
  let text = "";
  for (const key in record.properties) {
    // The event name is for tools: the JSON lines carry it.
    if (key === "role" || key === "addr" || key === "event" || template.includes(`{${key}}`)) continue;
    text += ` ${key}=${renderValue(record.properties[key])}`;
  }
  return text;
}

/** Printable ASCII with no space, quote or `=`: safe to show bare in a `key=value` pair. */
const BARE = /^[!#-<>-~]+$/;

function renderValue(value: unknown): string {
  if (typeof value === "string") return BARE.test(value) ? value : escapeC1(JSON.stringify(value));
  if (value instanceof Error) return escapeC1(JSON.stringify(value.message));
  return escapeC1(JSON.stringify(value) ?? String(value));
}

/** JSON escapes C0 controls (ESC among them) but not DEL and C1, which a terminal may still act on. */
function escapeC1(text: string): string {
  return text.replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
