/**
 * Every timer, limit and size of p2pnet, in one place. The order of precedence is
 * defaults < config.json < command-line flags; tests pass short timers through
 * {@link resolveSettings} like any other caller.
 */

import { type Address, AddressError, formatAddress, parseAddress, parsePort } from "../wire/address.ts";
import { parseDuration } from "../util/duration.ts";

/** Log levels accepted by `--log-level` and `logLevel`, least to most severe. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = "text" | "json";
/** How a peer spreads messages; see {@link Settings.gossipMode}. */
export const GOSSIP_MODES = ["tree", "flood"] as const;
export type GossipMode = (typeof GOSSIP_MODES)[number];

/** Node settings. Durations are in milliseconds, sizes in bytes. */
export interface Settings {
  /** Seeds of the network, `host:port` each. @default ["127.0.0.1:6001", "127.0.0.1:6002", "127.0.0.1:6003"] */
  seeds: Address[];
  /** Host a node listens on and announces to others. @default "127.0.0.1" */
  host: string;
  /** Port a peer listens on; 0 picks a free one. Seeds take theirs from `seeds`. @default 0 */
  port: number;
  /** Directory for `seeds/` and `peers/` log files. @default "logs" */
  logDir: string;
  /** Lowest level shown on the console. @default "info" */
  logLevel: LogLevelName;
  /** Lowest level written to a node's log file; `debug` records every frame sent and received. @default "debug" */
  fileLogLevel: LogLevelName;
  /** Log format of the files and the console: `text` lines for people, `json` lines for tools. @default "text" */
  logFormat: LogFormat;
  /**
   * Bytes at which a node's log file is rotated (renamed to `.1`, older ones to `.2`, ...);
   * 0 never rotates. @default 0
   */
  logMaxBytes: number;
  /** Rotated log files kept per node when `logMaxBytes` is set; older ones are deleted. @default 5 */
  logKeep: number;

  /** Outbound neighbours a peer opens and keeps (the low bound of its neighbour count). @default 4 */
  degree: number;
  /** Inbound neighbours a peer accepts; more are declined. High bound = degree + maxInbound. @default 12 */
  maxInbound: number;
  /**
   * Milliseconds between overlay checks that refill missing neighbours. A peer that knows
   * too few candidates asks its seeds again sooner: after 1/20 of this, doubling while
   * shorter than it. @default 5000
   */
  overlayInterval: number;
  /** Milliseconds between liveliness probes to each neighbour not heard from for half of it. @default 13000 */
  livelinessInterval: number;
  /** Consecutive unanswered probes after which a neighbour is dead. @default 3 */
  livelinessMisses: number;
  /**
   * Milliseconds a probe waits for its reply before it counts as missed, at least; a
   * peer waits up to twice the slowest round trip it saw lately if that is longer. At
   * most livelinessInterval. @default 2000
   */
  probeTimeout: number;
  /** Milliseconds between messages a peer creates on its own. @default 5000 */
  gossipInterval: number;
  /** Messages a peer creates on its own before it stops creating them; 0 disables. @default 10 */
  gossipCount: number;
  /**
   * How messages spread. `tree`: full messages go along a spanning tree of the overlay
   * that builds and repairs itself (a link that delivers a repeat is pruned to
   * announcements; a message announced but missing is fetched, and a link that brings
   * a message first is grafted back), and the ids go to every other neighbour in
   * batched `ihave` frames: every neighbour still learns of every message, for a
   * fraction of the frames of flooding. `flood`: every message goes in full to every
   * neighbour but its sender.
   * @default "tree"
   */
  gossipMode: GossipMode;
  /**
   * Milliseconds a peer gathers new message ids before announcing them to the
   * neighbours it does not push to (each batch waits 0.5 to 1.5 times this, so peers
   * do not announce in step). Bounds how long a break in the push tree delays a message;
   * longer batches more ids into each frame. @default 1000
   */
  announceInterval: number;
  /**
   * Milliseconds an announced message may stay missing before the peer asks the
   * announcer for it (getData), and between asks to further announcers. The first ask
   * waits 2 more, or as long as the push tree ran late lately, except shortly after a
   * push link was cut; a peer that no link pushes to asks at once. Shorter repairs a
   * broken push tree sooner; longer fetches fewer copies that were only queued behind a
   * burst. @default 1000
   */
  fetchTimeout: number;

  /** Milliseconds to connect to a seed and get its Peer List before trying another seed. @default 3000 */
  seedTimeout: number;
  /** Milliseconds to connect to a peer and get its Peer Reply. @default 3000 */
  connectTimeout: number;
  /** Milliseconds a new connection may take to send its first frame. @default 5000 */
  handshakeTimeout: number;
  /** Milliseconds a started frame may stall between bytes before the connection is closed. @default 10000 */
  frameTimeout: number;

  /** Largest frame accepted or sent, in bytes of JSON after the 4-byte length. @default 1048576 (1 MiB) */
  maxFrameBytes: number;
  /** Largest message content, in UTF-16 code units of the `content` string. @default 65536 */
  maxMessageBytes: number;
  /** Most peers a seed puts in one Peer List (a random sample beyond it), and most a peer accepts. @default 64 */
  peerListLimit: number;
  /** Most ids of messages no longer stored (past storeLimit) that a peer remembers as seen. @default 100000 */
  seenLimit: number;
  /** Milliseconds from first sight that the id of a message no longer stored is remembered. @default 600000 (10 min) */
  seenTtl: number;
  /** Most messages a peer stores (and can serve through getData); oldest go first. @default 10000 */
  storeLimit: number;
  /** Most messages one getData answer carries. @default 1000 */
  catchUpLimit: number;
  /** Most simultaneous connections of one node, inbound and outbound. @default 2048 */
  maxConnections: number;
  /** Bytes queued for one connection beyond which it is closed as too slow. @default 8388608 (8 MiB) */
  maxQueuedBytes: number;
  /** Bytes of the read buffer of each connection. @default 16384 */
  readBufferBytes: number;
  /** Frames one connection may send per second (bursts of twice that pass); more closes it. @default 5000 */
  maxFramesPerSecond: number;
  /** Bytes one connection may send per second (bursts of twice that pass); more closes it. @default 16777216 (16 MiB) */
  maxBytesPerSecond: number;
  /**
   * Strikes that earn a ban; 0 never bans. Invalid frames and protocol violations count
   * against the remote host (refused at connect); false death reports count against the
   * reporting peer's address (removed from the seed and refused). @default 10
   */
  banThreshold: number;
  /** Milliseconds a ban lasts, and the window in which strikes add up. @default 60000 */
  banTime: number;
  /**
   * Shared secret of a private network: only nodes with the same key can connect,
   * and every frame is encrypted. Also read from the P2PNET_KEY environment variable
   * by the CLI. Never logged. @default "" (an open network)
   */
  networkKey: string;
}

/** The defaults, tuned for people watching a network on one machine. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze(
  {
    seeds: [
      { host: "127.0.0.1", port: 6001 },
      { host: "127.0.0.1", port: 6002 },
      { host: "127.0.0.1", port: 6003 },
    ],
    host: "127.0.0.1",
    port: 0,
    logDir: "logs",
    logLevel: "info",
    fileLogLevel: "debug",
    logFormat: "text",
    logMaxBytes: 0,
    logKeep: 5,
    degree: 4,
    maxInbound: 12,
    overlayInterval: 5_000,
    livelinessInterval: 13_000,
    livelinessMisses: 3,
    probeTimeout: 2_000,
    gossipInterval: 5_000,
    gossipCount: 10,
    gossipMode: "tree",
    announceInterval: 1_000,
    fetchTimeout: 1_000,
    seedTimeout: 3_000,
    connectTimeout: 3_000,
    handshakeTimeout: 5_000,
    frameTimeout: 10_000,
    maxFrameBytes: 1024 * 1024,
    maxMessageBytes: 64 * 1024,
    peerListLimit: 64,
    seenLimit: 100_000,
    seenTtl: 600_000,
    storeLimit: 10_000,
    catchUpLimit: 1_000,
    maxConnections: 2048,
    maxQueuedBytes: 8 * 1024 * 1024,
    readBufferBytes: 16 * 1024,
    maxFramesPerSecond: 5_000,
    maxBytesPerSecond: 16 * 1024 * 1024,
    banThreshold: 10,
    banTime: 60_000,
    networkKey: "",
  } satisfies Settings,
);

/**
 * Fixed ratios and pauses of the algorithms, kept here with the settings they scale.
 * They are not settable: each is a multiple of a setting, or too small to matter.
 */
export const TUNING = Object.freeze({
  /** Fetch timeouts over which a peer's allowance for a late push tree halves. @default 5 */
  pushLagHalfLife: 5,
  /** Fetch timeouts the first ask for a missing message waits in addition, unless a push link was cut lately. @default 2 */
  busyTreeFetchTimeouts: 2,
  /** Fetch timeouts after a pushing link stops (a prune received, or the neighbour lost) during which asks wait no extra time: the tree may be cut there. @default 3 */
  cutTreeFetchTimeouts: 3,
  /** Liveliness intervals over which a peer's allowance for slow probe answers halves. @default 5 */
  slowRttHalfLife: 5,
  /** Milliseconds a listener pauses after a failed accept (such as running out of file descriptors). @default 50 */
  acceptRetryMs: 50,
  shortRetryDivisor: 20,
  announceJitter: 0.5,
  roundPhaseMin: 0.5,
  pruneHopSlack: 2,
  leaveFlushMs: 1000,
  deadRedialRounds: 2,
  slowRttFactor: 2,
  directProbeFactor: 2,
  quietFraction: 0.5,
  lateRoundFraction: 0.5,
  massSilenceMinProbed: 3,
  massSilenceFraction: 0.5,
  controlProbeFraction: 0.5,
  maxInconclusiveVerifications: 10,
  sweepMinMs: 50,
  sweepMaxMs: 1000,
  framePoolSlabBytes: 16384,
});

/** A config file or flag that cannot be used; the message names the source and the field. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Kind =
  | "count"
  | "positive"
  | "duration"
  | "bytes"
  | "string"
  | "secret"
  | "level"
  | "format"
  | "gossipMode"
  | "port";

/** How each settable field is checked. `seeds` is handled on its own. */
const FIELD_KINDS: Record<Exclude<keyof Settings, "seeds">, Kind> = {
  host: "string",
  port: "port",
  logDir: "string",
  logLevel: "level",
  fileLogLevel: "level",
  logFormat: "format",
  logMaxBytes: "count",
  logKeep: "positive",
  degree: "positive",
  maxInbound: "count",
  overlayInterval: "duration",
  livelinessInterval: "duration",
  livelinessMisses: "positive",
  probeTimeout: "duration",
  gossipInterval: "duration",
  gossipCount: "count",
  gossipMode: "gossipMode",
  announceInterval: "duration",
  fetchTimeout: "duration",
  seedTimeout: "duration",
  connectTimeout: "duration",
  handshakeTimeout: "duration",
  frameTimeout: "duration",
  maxFrameBytes: "bytes",
  maxMessageBytes: "bytes",
  peerListLimit: "positive",
  seenLimit: "positive",
  seenTtl: "duration",
  storeLimit: "positive",
  catchUpLimit: "positive",
  maxConnections: "positive",
  maxQueuedBytes: "bytes",
  readBufferBytes: "bytes",
  maxFramesPerSecond: "positive",
  maxBytesPerSecond: "bytes",
  banThreshold: "count",
  banTime: "duration",
  networkKey: "secret",
};

/** The longest duration a timer can take: setTimeout's limit, 2^31 - 1 ms (about 24.8 days). */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** Names of every field a config file may hold. */
export const CONFIG_FIELDS: readonly string[] = ["seeds", ...Object.keys(FIELD_KINDS)];

/**
 * Checks one field's value and returns it in its settled type. `value` may come from
 * JSON (any type) or from a flag (a string). Throws a message without the source.
 */
function checkField(kind: Kind, value: unknown, { fromFlag = false } = {}): unknown {
  const shown = JSON.stringify(value);
  // Flags are text; in a JSON file a number must be a number (durations may be text: "13s").
  const fromText = typeof value === "string" && (fromFlag || kind === "duration");
  switch (kind) {
    case "string":
      if (typeof value !== "string" || value === "") {
        throw new Error(`must be a non-empty string, got ${shown}`);
      }
      return value;
    case "secret":
      // The value is never echoed: it may be a key.
      if (typeof value !== "string") throw new Error(`must be a string, got a ${typeof value}`);
      return value;
    case "port":
      return parsePort(String(value), { allowPortZero: true });
    case "level":
      if (!LOG_LEVELS.includes(value as LogLevelName)) {
        throw new Error(`must be one of ${LOG_LEVELS.join(", ")}, got ${shown}`);
      }
      return value;
    case "format":
      if (value !== "text" && value !== "json") throw new Error(`must be "text" or "json", got ${shown}`);
      return value;
    case "gossipMode":
      if (!GOSSIP_MODES.includes(value as GossipMode)) {
        throw new Error(`must be "tree" or "flood", got ${shown}`);
      }
      return value;
    case "duration": {
      const raw = typeof value === "number" ? value : fromText ? parseDuration(value) : undefined;
      const ms = raw === undefined || !Number.isFinite(raw) ? undefined : Math.round(raw);
      if (ms === undefined || ms <= 0) {
        throw new Error(`must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got ${shown}`);
      }
      if (ms > MAX_DURATION_MS) {
        throw new Error(
          `must be at most ${MAX_DURATION_MS} ms (about 24.8 days, the longest timer), got ${shown}`,
        );
      }
      return ms;
    }
    case "count":
    case "positive":
    case "bytes": {
      const n = typeof value === "number" ? value : fromText && /^\d+$/.test(value) ? Number(value) : NaN;
      const min = kind === "count" ? 0 : 1;
      if (!Number.isSafeInteger(n) || n < min) {
        throw new Error(`must be an integer >= ${min}, got ${shown}`);
      }
      return n;
    }
  }
}

function parseSeeds(value: unknown, where: string): Address[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(`${where}: seeds: must be a list of "host:port", got ${JSON.stringify(value)}`);
  }
  if (value.length === 0) throw new ConfigError(`${where}: seeds: must list at least one seed, got []`);
  const seen = new Set<string>();
  return value.map((entry, i) => {
    if (typeof entry !== "string") {
      throw new ConfigError(
        `${where}: seeds[${i}]: must be a string "host:port", got ${JSON.stringify(entry)}`,
      );
    }
    let address: Address;
    try {
      address = parseAddress(entry);
    } catch (error) {
      if (error instanceof AddressError) throw new ConfigError(`${where}: seeds[${i}]: ${error.message}`);
      throw error;
    }
    const key = formatAddress(address);
    if (seen.has(key)) {
      throw new ConfigError(`${where}: seeds[${i}]: duplicate seed ${JSON.stringify(entry)}`);
    }
    seen.add(key);
    return address;
  });
}

/**
 * Validates a config object (parsed from `where`) into partial settings. Unknown
 * fields are errors, so that a typo never passes silently.
 */
export function parseConfigObject(raw: unknown, where: string): Partial<Settings> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `${where}: must be a JSON object, got ${Array.isArray(raw) ? "an array" : JSON.stringify(raw)}`,
    );
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "seeds") {
      result.seeds = parseSeeds(value, where);
      continue;
    }
    // Object.hasOwn: a key such as "constructor" must not find Object.prototype.
    const kind = Object.hasOwn(FIELD_KINDS, key) ? FIELD_KINDS[key as keyof typeof FIELD_KINDS] : undefined;
    if (kind === undefined) {
      throw new ConfigError(`${where}: ${key}: unknown field; known fields are ${CONFIG_FIELDS.join(", ")}`);
    }
    try {
      result[key] = checkField(kind, value);
    } catch (error) {
      throw new ConfigError(`${where}: ${key}: ${(error as Error).message}`);
    }
  }
  return result as Partial<Settings>;
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
export function parseFlagValue(field: Exclude<keyof Settings, "seeds">, flag: string, text: string): unknown {
  try {
    return checkField(FIELD_KINDS[field], text, { fromFlag: true });
  } catch (error) {
    throw new ConfigError(`${flag}: ${(error as Error).message}`);
  }
}

/** Defaults, then each layer in order; later layers win. Checks relations between fields. */
export function resolveSettings(...layers: Partial<Settings>[]): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS, seeds: [...DEFAULT_SETTINGS.seeds] };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
  }
  // A probe timeout left at its default follows a shorter liveliness interval down.
  const probeTimeoutSet = layers.some((layer) => layer.probeTimeout !== undefined);
  if (!probeTimeoutSet) settings.probeTimeout = Math.min(settings.probeTimeout, settings.livelinessInterval);
  if (settings.probeTimeout > settings.livelinessInterval) {
    throw new ConfigError(
      `probeTimeout must be <= livelinessInterval: current values ${settings.probeTimeout} > ${settings.livelinessInterval}`,
    );
  }
  if (settings.maxFrameBytes < 1024) {
    throw new ConfigError(`maxFrameBytes must be >= 1024: current value ${settings.maxFrameBytes}`);
  }
  return settings;
}

/** The smallest number of seeds that is a majority of `n`: ⌊n/2⌋+1. */
export function seedMajority(n: number): number {
  return Math.floor(n / 2) + 1;
}
