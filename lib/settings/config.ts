/**
 * Settings from their table: the defaults, config files, flag values and library
 * layers, all checked by the same rows. The order of precedence is defaults <
 * config.json < command-line flags; tests pass short timers through
 * {@link resolveSettings} like any other caller.
 */

import type { MessageLimits } from "../wire/messages.ts";
import { largestBodies } from "../wire/largest_bodies.ts";
import { HEADER_BYTES } from "../wire/codec.ts";
import { checkValue, show, ValueProblem } from "./kinds.ts";
import { ROWS, type SettingName, type Settings, type SettingsLayer, TUNING } from "./table.ts";

export {
  GOSSIP_MODES,
  type GossipMode,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevelName,
  type SettingName,
  type Settings,
  type SettingsLayer,
  TUNING,
} from "./table.ts";

/**
 * A config file, flag or settings object that cannot be used. The message names the
 * source and the field; `field` holds the field (such as `degree` or `seeds[0]`) when
 * one field is to blame.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly field: string | undefined;

  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.field = options.field;
  }
}

/**
 * Fields that config files may still hold under an old name, with what to write instead:
 * they are refused with that advice rather than as unknown.
 */
const RENAMED_SETTINGS: Readonly<Record<string, string>> = {
  maxMessageBytes: "renamed to maxContentBytes, which counts bytes of UTF-8 rather than UTF-16 code units",
};

/** Names of every field a config file may hold, in table order. */
export const CONFIG_FIELDS: readonly SettingName[] = Object.keys(ROWS) as SettingName[];

interface ParseOptions {
  /** What the source must be, for the message when it is not an object. */
  expected: string;
  /** Skip fields set to undefined instead of refusing them. */
  skipUndefined: boolean;
}

function checkObject(raw: unknown, where: string, options: ParseOptions): Partial<Settings> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? "an array" : show(raw);
    throw new ConfigError(`${where}: must be ${options.expected}, got ${got}`);
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined && options.skipUndefined) continue;
    // Object.hasOwn: a key such as "constructor" must not find Object.prototype.
    const row = Object.hasOwn(ROWS, key) ? ROWS[key as SettingName] : undefined;
    if (row === undefined && Object.hasOwn(RENAMED_SETTINGS, key)) {
      throw new ConfigError(`${where}: ${key}: ${RENAMED_SETTINGS[key]}`, { field: key });
    }
    if (row === undefined) {
      throw new ConfigError(`${where}: ${key}: unknown field; known fields are ${CONFIG_FIELDS.join(", ")}`, {
        field: key,
      });
    }
    try {
      result[key] = checkValue(row, value);
    } catch (error) {
      throw fieldError(error, `${where}: ${key}`, key);
    }
  }
  return result as Partial<Settings>;
}

/** A {@link ValueProblem} of `field` as a ConfigError that starts with `prefix`. */
function fieldError(error: unknown, prefix: string, field: string): unknown {
  if (!(error instanceof ValueProblem)) return error;
  return new ConfigError(`${prefix}${error.at}: ${error.message}`, { field: field + error.at });
}

/**
 * Validates a config object (parsed from `where`) into partial settings. Unknown
 * fields are errors, so that a typo never passes silently.
 */
export function parseConfigObject(raw: unknown, where: string): Partial<Settings> {
  return checkObject(raw, where, { expected: "a JSON object", skipUndefined: false });
}

/** Reads and validates a config file. A missing file is an error only when `required`. */
export async function loadConfigFile(path: string, { required = true } = {}): Promise<Partial<Settings>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (!required) return {};
      throw new ConfigError(`${path}: file not found; pass --config FILE or create it (see README)`);
    }
    throw new ConfigError(`${path}: cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: invalid JSON: ${(error as Error).message}`);
  }
  return parseConfigObject(raw, path);
}

/**
 * Checks a flag's text value for the named settings field and returns it settled.
 * The error names the flag, e.g. `--degree: must be an integer >= 1, got "x"`.
 */
export function parseFlagValue(field: SettingName, flag: string, text: string): unknown {
  try {
    return checkValue(ROWS[field], text, true);
  } catch (error) {
    throw fieldError(error, flag, field);
  }
}

/** The defaults, tuned for people watching a network on one machine; checked by their own rows. */
export const DEFAULT_SETTINGS: Readonly<Settings> = (() => {
  const defaults = Object.fromEntries(Object.entries(ROWS).map(([name, row]) => [name, row.default]));
  const settings = parseConfigObject(defaults, "DEFAULT_SETTINGS") as Settings;
  Object.freeze(settings.seeds);
  return Object.freeze(settings);
})();

/**
 * Defaults, then each layer in order; later layers win. Every field of every layer is
 * checked by its row, as in a config file (so `{ degree: 0 }` is refused naming
 * `degree`), then the relations between fields. Throws {@link ConfigError}.
 */
export function resolveSettings(...layers: readonly SettingsLayer[]): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS, seeds: [...DEFAULT_SETTINGS.seeds] };
  let probeTimeoutSet = false;
  for (const layer of layers) {
    const checked = checkObject(layer, "settings", { expected: "an object", skipUndefined: true });
    Object.assign(settings, checked);
    if (checked.probeTimeout !== undefined) probeTimeoutSet = true;
  }
  // A probe timeout left at its default follows a shorter liveliness interval down.
  if (!probeTimeoutSet) settings.probeTimeout = Math.min(settings.probeTimeout, settings.livelinessInterval);
  if (settings.probeTimeout > settings.livelinessInterval) {
    throw new ConfigError(
      `probeTimeout must be <= livelinessInterval: current values ${settings.probeTimeout} > ${settings.livelinessInterval}`,
      { field: "probeTimeout" },
    );
  }
  checkFrameBounds(settings);
  return settings;
}

/** The setting behind each message limit, so that an error says what to change. */
const LIMIT_SETTINGS = {
  maxPeers: "peerListLimit",
  maxIds: "storeLimit",
  maxContentBytes: "maxContentBytes",
} as const satisfies Record<keyof MessageLimits, SettingName>;

/**
 * Refuses limits under which a valid message would not fit in a frame (so a peer could
 * not forward what it accepted), or a frame would not fit in the share of the write
 * queue that catch-up may fill.
 */
function checkFrameBounds(settings: Settings): void {
  const { maxFrameBytes, maxQueuedBytes } = settings;
  for (const { type, bytes, limit } of largestBodies(messageLimits(settings))) {
    if (bytes <= maxFrameBytes) continue;
    const by = limit === undefined ? undefined : LIMIT_SETTINGS[limit];
    throw new ConfigError(
      `maxFrameBytes must be >= the largest ${type} frame${by ? ` with ${by} ${settings[by]}` : ""} ` +
        `(${bytes} bytes, JSON escaping at its worst): current values ${maxFrameBytes} < ${bytes}; ` +
        `raise maxFrameBytes${by ? ` or lower ${by}` : ""}`,
      { field: by ?? "maxFrameBytes" },
    );
  }
  const queueNeeds = Math.ceil((maxFrameBytes + HEADER_BYTES) / TUNING.catchUpQueueShare);
  if (maxQueuedBytes < queueNeeds) {
    throw new ConfigError(
      `maxQueuedBytes must be >= ${queueNeeds}, so that a frame of maxFrameBytes ${maxFrameBytes} fits ` +
        `in the ${
          TUNING.catchUpQueueShare * 100
        }% of the write queue that catch-up may fill: current values ` +
        `${maxQueuedBytes} < ${queueNeeds}; raise maxQueuedBytes or lower maxFrameBytes`,
      { field: "maxQueuedBytes" },
    );
  }
}

/** The bounds every decoded message is checked against, from the settings. */
export function messageLimits(settings: Readonly<Settings>): MessageLimits {
  return {
    maxPeers: settings.peerListLimit,
    maxIds: settings.storeLimit,
    maxContentBytes: settings.maxContentBytes,
  };
}

/** The smallest number of seeds that is a majority of `n`: ⌊n/2⌋+1. */
export function seedMajority(n: number): number {
  return Math.floor(n / 2) + 1;
}
