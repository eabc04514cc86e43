/**
 * The kinds of setting: the shape of a row of the settings table, the TypeScript type
 * each kind settles to, and the one check each kind's values go through, whether they
 * come from a config file, a flag or a library caller.
 */

import {
  type Address,
  AddressError,
  formatAddress,
  isWildcardHost,
  parseAddress,
  parseHostPort,
  parsePort,
} from "../wire/address.ts";
import { formatDuration, parseDuration } from "../util/duration.ts";

/** Commands of the `p2pnet` CLI that take setting flags. */
export type Command = "seed" | "peer" | "demo" | "clean";

/** What a number counts; a duration is always in milliseconds. */
export type Unit = "ms" | "bytes" | "bytes/s" | "frames/s" | "count";

/** The command-line flag of a setting. */
export interface Flag {
  /** As typed, e.g. `--degree`. */
  readonly name: `--${string}`;
  /** Placeholder of its value in `--help`, e.g. `N`, `DUR`. */
  readonly arg: string;
  /** Commands that take it. */
  readonly commands: readonly Command[];
}

interface RowBase {
  /** One line, sentence case, no final period; `--help` shows it with a small first letter. */
  readonly doc: string;
  /** More about the setting, for docs/configuration.md. */
  readonly details?: string;
  readonly flag?: Flag;
}

/** A whole number from `min` (to `max`). */
export interface IntRow extends RowBase {
  readonly kind: "int";
  readonly unit: Exclude<Unit, "ms">;
  readonly default: number;
  readonly min: number;
  readonly max?: number;
}

/** Milliseconds, written as a number or as text with a unit (`250ms`, `13s`, `2m`, `1h`). */
export interface DurationRow extends RowBase {
  readonly kind: "duration";
  readonly unit: "ms";
  readonly default: number;
  /** @default 1 */
  readonly min?: number;
  /** @default MAX_TIMER_MS */
  readonly max?: number;
}

/** A TCP port, 0 to 65535 (0: a free one). */
export interface PortRow extends RowBase {
  readonly kind: "port";
  readonly default: number;
}

/** A non-empty string; where the default is empty, the empty string too, meaning none. */
export interface TextRow extends RowBase {
  readonly kind: "text";
  readonly default: string;
}

/** A string that is never shown, not even in an error. */
export interface SecretRow extends RowBase {
  readonly kind: "secret";
  readonly default: string;
}

/** A `host:port` to listen on, or "" for off; port 0 picks a free one. */
export interface ListenRow extends RowBase {
  readonly kind: "listen";
  readonly default: "";
}

/** One of a few words. */
export interface ChoiceRow extends RowBase {
  readonly kind: "choice";
  readonly values: readonly string[];
  readonly default: string;
}

/** A non-empty list of distinct `host:port` addresses; `item` names one in errors. */
export interface AddressesRow extends RowBase {
  readonly kind: "addresses";
  readonly item: string;
  readonly default: readonly string[];
}

/** `host` or `host:port` that others reach a node at, never a wildcard; empty for none. */
export interface HostPortRow extends RowBase {
  readonly kind: "hostPort";
  readonly default: string;
}

/** One row of the settings table. */
export type Row =
  | IntRow
  | DurationRow
  | PortRow
  | TextRow
  | SecretRow
  | ListenRow
  | ChoiceRow
  | AddressesRow
  | HostPortRow;

/** The settled type of a row's value. */
export type ValueOf<R> = R extends { kind: "int" | "duration" | "port" } ? number
  : R extends { kind: "text" | "secret" | "listen" | "hostPort" } ? string
  : R extends { kind: "choice"; values: readonly (infer V)[] } ? V
  : R extends { kind: "addresses" } ? Address[]
  : never;

/** What a library caller may pass for a row: durations may be text, addresses `host:port` text. */
export type InputOf<R> = R extends { kind: "duration" } ? number | string
  : R extends { kind: "addresses" } ? readonly (string | Address)[]
  : ValueOf<R>;

/** The longest duration a timer can take: setTimeout's limit, 2^31 - 1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a value does not fit its row; `at` (such as `[1]`) follows the field name in the message. */
export class ValueProblem extends Error {
  constructor(message: string, readonly at = "") {
    super(message);
  }
}

/** A value as an error message shows it; never throws (a bigint or a cycle has no JSON). */
export function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `"a" or "b"` for two words, `a, b, c` for more, as messages and help list choices. */
export function listChoices(values: readonly string[], quote = true): string {
  if (values.length === 2) {
    return quote ? `"${values[0]}" or "${values[1]}"` : `${values[0]} or ${values[1]}`;
  }
  return values.join(", ");
}

/** The bounds of a row as [min, max], for checks and docs; undefined for kinds without any. */
export function boundsOf(row: Row): [number, number | undefined] | undefined {
  switch (row.kind) {
    case "int":
      return [row.min, row.max];
    case "duration":
      return [row.min ?? 1, row.max ?? MAX_TIMER_MS];
    case "port":
      return [0, 65535];
    default:
      return undefined;
  }
}

/**
 * Checks one value against its row and returns it settled. `value` comes from JSON or
 * a library caller (any type), or from a flag (`fromFlag`: text). Throws {@link ValueProblem}.
 */
export function checkValue(row: Row, value: unknown, fromFlag = false): unknown {
  switch (row.kind) {
    case "text":
      if (typeof value !== "string" || (value === "" && row.default !== "")) {
        throw new ValueProblem(`must be a non-empty string, got ${show(value)}`);
      }
      return value;
    case "secret":
      // The value is never echoed: it may be a key.
      if (typeof value !== "string") throw new ValueProblem(`must be a string, got a ${typeof value}`);
      return value;
    case "choice":
      if (typeof value !== "string" || !row.values.includes(value)) {
        const choices = listChoices(row.values);
        const must = row.values.length === 2 ? choices : `one of ${choices}`;
        throw new ValueProblem(`must be ${must}, got ${show(value)}`);
      }
      return value;
    case "port":
      return checkPort(value);
    case "listen":
      return checkListen(value);
    case "int":
      return checkInt(row, value, fromFlag);
    case "duration":
      return checkDuration(row, value);
    case "addresses":
      // A flag lists them with commas: `--seeds 10.0.0.1:6001,10.0.0.2:6001`.
      return checkAddresses(row, fromFlag && typeof value === "string" ? value.split(",") : value);
    case "hostPort":
      return checkHostPort(value);
  }
}

function checkHostPort(value: unknown): string {
  if (typeof value !== "string") throw new ValueProblem(`must be a string "host[:port]", got ${show(value)}`);
  if (value === "") return value;
  let host: string;
  try {
    host = parseHostPort(value).host;
  } catch (error) {
    if (error instanceof AddressError) throw new ValueProblem(error.message);
    throw error;
  }
  if (isWildcardHost(host)) {
    throw new ValueProblem(`must be an address others can reach, not a wildcard, got ${show(value)}`);
  }
  return value;
}

function checkPort(value: unknown): number {
  const text = typeof value === "number" || typeof value === "string" ? String(value) : show(value);
  try {
    return parsePort(text, { allowPortZero: true });
  } catch (error) {
    throw new ValueProblem((error as AddressError).message);
  }
}

function checkListen(value: unknown): string {
  if (value === "") return value;
  if (typeof value !== "string") throw new ValueProblem(`must be "host:port" or "", got ${show(value)}`);
  try {
    return formatAddress(parseAddress(value, { allowPortZero: true }));
  } catch (error) {
    throw new ValueProblem((error as AddressError).message);
  }
}

function checkInt(row: IntRow, value: unknown, fromFlag: boolean): number {
  // In a file a number must be a number; a flag is text.
  const n = typeof value === "number"
    ? value
    : fromFlag && typeof value === "string" && /^\d+$/.test(value)
    ? Number(value)
    : NaN;
  const { min, max } = row;
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `>= ${min}` : `${min}-${max}`;
    throw new ValueProblem(`must be an integer ${range}, got ${show(value)}`);
  }
  return n;
}

function checkDuration(row: DurationRow, value: unknown): number {
  const raw = typeof value === "number"
    ? value
    : typeof value === "string"
    ? parseDuration(value)
    : undefined;
  const ms = raw === undefined || !Number.isFinite(raw) ? undefined : Math.round(raw);
  // 0 is a duration only where the row allows it (it then means "not at all").
  if (ms === undefined || ms < 0 || (ms === 0 && row.min !== 0)) {
    throw new ValueProblem(
      `must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got ${show(value)}`,
    );
  }
  const [min, max = MAX_TIMER_MS] = boundsOf(row)!;
  if (ms < min) throw new ValueProblem(`must be at least ${formatDuration(min)}, got ${show(value)}`);
  if (ms > max) {
    const why = max === MAX_TIMER_MS ? " (about 24.8 days, the longest timer)" : "";
    throw new ValueProblem(`must be at most ${max} ms${why}, got ${show(value)}`);
  }
  return ms;
}

function checkAddresses(row: AddressesRow, value: unknown): Address[] {
  if (!Array.isArray(value)) throw new ValueProblem(`must be a list of "host:port", got ${show(value)}`);
  if (value.length === 0) throw new ValueProblem(`must list at least one ${row.item}, got []`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `[${i}]`;
    const address = checkAddress(entry, at);
    const key = formatAddress(address);
    if (seen.has(key)) {
      throw new ValueProblem(
        `duplicate ${row.item} ${typeof entry === "string" ? show(entry) : show(key)}`,
        at,
      );
    }
    seen.add(key);
    return address;
  });
}

/** `host:port` text, or an `Address` from a library caller (checked by writing and reading it back). */
function checkAddress(entry: unknown, at: string): Address {
  let text: string;
  if (typeof entry === "string") {
    text = entry;
  } else if (isAddressLike(entry)) {
    text = formatAddress(entry);
  } else {
    throw new ValueProblem(`must be a string "host:port", got ${show(entry)}`, at);
  }
  try {
    return parseAddress(text);
  } catch (error) {
    if (error instanceof AddressError) throw new ValueProblem(error.message, at);
    throw error;
  }
}

function isAddressLike(entry: unknown): entry is Address {
  return typeof entry === "object" && entry !== null && typeof (entry as Address).host === "string" &&
    typeof (entry as Address).port === "number";
}
