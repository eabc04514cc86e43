/**
 * Every setting of p2pnet in one table, with (from tuning.ts) the fixed ratios and pauses of the algorithms.
 * The `Settings` type, the defaults, validation, the CLI flags, `--help` and docs/configuration.md are all
 * derived from these rows: a new setting is a new row (then `deno task docs`). Row fields: kinds.ts.
 */

import type { InputOf, Row, ValueOf } from "./kinds.ts";
import { GOSSIP_MODES, KiB, LOG_FORMATS, LOG_LEVELS, MiB, SWITCH } from "./values.ts";

export { TUNING, TUNING_TABLE, type TuningRow } from "./tuning.ts";
export * from "./values.ts";

/** The settings, in the order config errors list them and the docs show them. */
export const SETTINGS_TABLE = {
  seeds: {
    kind: "addresses",
    item: "seed",
    default: ["127.0.0.1:6001", "127.0.0.1:6002", "127.0.0.1:6003"],
    doc: "Seeds of the network, `host:port` each",
    details: "IPv6 hosts go in brackets: `[::1]:6001`. A peer registers with a majority of them; " +
      "`p2pnet seed` starts those whose host is this machine. The flag takes them separated by commas.",
    flag: { name: "--seeds", arg: "H:P,...", commands: ["seed", "peer"] },
  },
  host: {
    kind: "text",
    default: "127.0.0.1",
    doc: "Host to listen on, and to announce unless advertise is set",
    details: "`0.0.0.0` or `::` listens on every interface; a node bound so without `advertise` announces " +
      "the address its first connection to a seed leaves from.",
    flag: { name: "--host", arg: "H", commands: ["seed", "peer"] },
  },
  advertise: {
    kind: "hostPort",
    default: "",
    doc: "Address to announce and be probed at, when it is not the bound one",
    details: "`host` (the bound port is kept) or `host:port`, such as the address a NAT or a container's " +
      "published port gives. Seeds accept an announced host only if connections from this node come " +
      "from it.",
    flag: { name: "--advertise", arg: "HOST[:PORT]", commands: ["seed", "peer"] },
  },
  port: {
    kind: "port",
    default: 0,
    doc: "Port to listen on; 0 picks a free one",
    details: "Seeds take theirs from `seeds`; `p2pnet seed --port P` starts one seed at `host:P`.",
    flag: { name: "--port", arg: "P", commands: ["seed", "peer"] },
  },
  dataDir: {
    kind: "text",
    default: "",
    doc:
      "Directory for the node's durable state (its key, and its database); none keeps everything in memory",
    flag: { name: "--data-dir", arg: "DIR", commands: ["seed", "peer"] },
  },
  logDir: {
    kind: "text",
    default: "logs",
    doc: "Log directory, holding seeds/ and peers/",
    flag: { name: "--log-dir", arg: "DIR", commands: ["seed", "peer", "demo", "clean"] },
  },
  logLevel: {
    kind: "choice",
    values: LOG_LEVELS,
    default: "info",
    doc: "Lowest console level",
    flag: { name: "--log-level", arg: "L", commands: ["seed", "peer", "demo"] },
  },
  fileLogLevel: {
    kind: "choice",
    values: LOG_LEVELS,
    default: "debug",
    doc: "Lowest level written to a node's log file",
    details: "`debug` records every frame sent and received.",
  },
  logFormat: {
    kind: "choice",
    values: LOG_FORMATS,
    default: "text",
    doc: "Log format, files and console",
    details:
      "`text` lines for people, `json` lines for tools (one object per line; the console too, for containers).",
    flag: { name: "--log-format", arg: "F", commands: ["seed", "peer", "demo"] },
  },
  logMaxBytes: {
    kind: "int",
    unit: "bytes",
    min: 0,
    default: 0,
    doc: "Size at which a node's log file is rotated; 0 never rotates",
  },
  logKeep: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 5,
    doc: "Rotated log files kept per node",
  },
  api: {
    kind: "listen",
    default: "",
    doc: "Address of the node's control API (HTTP): status, metrics, events, the live page",
    details: "`127.0.0.1:PORT` keeps it to this machine; port 0 picks a free one. On a network with a " +
      "`networkKey` every request needs the bearer token derived from the key. See docs/operations.md#control-api.",
    flag: { name: "--api", arg: "HOST:PORT", commands: ["seed", "peer"] },
  },

  degree: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 4,
    doc: "Outbound neighbours to keep",
    details: "A peer opens this many connections itself and keeps them: the low bound of its " +
      "neighbour count (the high bound is degree + maxInbound).",
    flag: { name: "--degree", arg: "N", commands: ["peer"] },
  },
  maxInbound: {
    kind: "int",
    unit: "count",
    min: 0,
    default: 12,
    doc: "Inbound neighbours a peer accepts; more are declined",
  },
  overlayInterval: {
    kind: "duration",
    unit: "ms",
    default: 5_000,
    doc: "Time between overlay checks that refill missing neighbours",
    details: "A peer that knows too few candidates asks its seeds again sooner: after " +
      "overlayInterval / `TUNING.shortRetryDivisor`, doubling while shorter than overlayInterval.",
  },
  livelinessInterval: {
    kind: "duration",
    unit: "ms",
    default: 13_000,
    doc: "Time between probes to each quiet neighbour",
    details: "A neighbour not heard from for `TUNING.quietFraction` of this is probed.",
    flag: { name: "--liveliness-interval", arg: "DUR", commands: ["peer"] },
  },
  livelinessMisses: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 3,
    doc: "Unanswered probes in a row that make a neighbour dead",
    flag: { name: "--liveliness-misses", arg: "N", commands: ["peer"] },
  },
  probeTimeout: {
    kind: "duration",
    unit: "ms",
    default: 2_000,
    doc: "Least time a probe waits for its reply before it counts as missed",
    details: "A peer waits up to `TUNING.slowRttFactor` times the slowest round trip it saw lately " +
      "if that is longer. At most livelinessInterval; left unset, it follows a shorter " +
      "livelinessInterval down.",
  },
  gossipInterval: {
    kind: "duration",
    unit: "ms",
    default: 5_000,
    doc: "Time between messages a peer creates on its own",
    flag: { name: "--gossip-interval", arg: "DUR", commands: ["peer"] },
  },
  gossipCount: {
    kind: "int",
    unit: "count",
    min: 0,
    default: 10,
    doc: "Messages a peer creates on its own, 0 for none",
    flag: { name: "--gossip-count", arg: "N", commands: ["peer"] },
  },
  gossipMode: {
    kind: "choice",
    values: GOSSIP_MODES,
    default: "tree",
    doc: "How messages spread",
    details: "`tree`: full messages go along a spanning tree of the overlay that builds and repairs " +
      "itself (a link that delivers a repeat is pruned to announcements; a message announced but missing " +
      "is fetched, and a link that brings a message first is grafted back), and the ids go to every other " +
      "neighbour in batched `ihave` frames: every neighbour still learns of every message, for a fraction " +
      "of the frames of flooding. `flood`: every message goes in full to every neighbour but its sender.",
    flag: { name: "--gossip-mode", arg: "M", commands: ["peer"] },
  },
  announceInterval: {
    kind: "duration",
    unit: "ms",
    default: 1_000,
    doc: "Time a peer gathers new message ids before announcing them",
    details: "Announcements go to the neighbours it does not push to; each batch waits this times (1 ± " +
      "`TUNING.announceJitter`), so peers do not announce in step. Bounds how long a break in the push " +
      "tree delays a message; longer batches more ids into each frame.",
  },
  fetchTimeout: {
    kind: "duration",
    unit: "ms",
    default: 1_000,
    doc: "Time an announced message may stay missing before the peer asks for it",
    details: "Also the time between asks to further announcers. The first ask waits " +
      "`TUNING.busyTreeFetchTimeouts` more, or as long as the push tree ran late lately, except shortly " +
      "after a push link was cut; a peer that no link pushes to asks at once. Shorter repairs a broken " +
      "push tree sooner; longer fetches fewer copies that were only queued behind a burst.",
  },
  seedTimeout: {
    kind: "duration",
    unit: "ms",
    default: 3_000,
    doc: "Time to connect to a seed and get its Peer List before trying another seed",
  },
  retryJoin: {
    kind: "duration",
    unit: "ms",
    min: 0,
    default: 24 * 3_600_000,
    doc: "How long a peer keeps trying to join while too few seeds answer; 0 fails at once",
    details: "Rounds are `TUNING.joinRetryFirstMs` apart at first, then twice as far apart each time up to " +
      "`TUNING.joinRetryMaxMs`, each wait shortened by up to `TUNING.joinRetryJitter` of itself at " +
      "random. Once the time is up the peer fails with the last round's reasons.",
    flag: { name: "--retry-join", arg: "DUR", commands: ["peer"] },
  },
  connectTimeout: {
    kind: "duration",
    unit: "ms",
    default: 3_000,
    doc: "Time to connect to a peer and get its Peer Reply",
  },
  handshakeTimeout: {
    kind: "duration",
    unit: "ms",
    default: 5_000,
    doc: "Time a new connection may take to send its first frame",
  },
  frameTimeout: {
    kind: "duration",
    unit: "ms",
    default: 10_000,
    doc: "Time a frame may take to arrive whole, from its first byte, however it trickles in",
  },
  idleTimeout: {
    kind: "duration",
    unit: "ms",
    default: 30_000,
    doc: "Time a connection that is neither a neighbour link nor a seed registration may go without a frame",
  },

  maxFrameBytes: {
    kind: "int",
    unit: "bytes",
    min: 8 * KiB,
    default: 1 * MiB,
    doc: "Largest frame accepted or sent, in bytes of JSON after the 4-byte length",
    details: "Settings under which a valid message, escaped at its worst, would not fit are refused.",
  },
  maxContentBytes: {
    kind: "int",
    unit: "bytes",
    min: 1,
    default: 64 * KiB,
    doc: "Largest message content, in bytes of UTF-8",
    details: "Checked at publish (`ContentTooLargeError`) and on arrival. Replaces `maxMessageBytes`.",
  },
  peerListLimit: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 64,
    doc: "Most peers a seed puts in one Peer List, and most a peer accepts",
    details: "Beyond it a seed sends a random sample.",
  },
  seenLimit: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 100_000,
    doc: "Most ids of messages no longer stored (past storeLimit) that a peer remembers as seen",
  },
  seenTtl: {
    kind: "duration",
    unit: "ms",
    default: 600_000,
    doc: "Time from first sight that the id of a message no longer stored is remembered",
  },
  storeLimit: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 10_000,
    doc: "Most messages a peer stores (and can serve through getData); oldest go first",
    details: "Also the most ids one getData or ihave frame may carry.",
  },
  storeBytes: {
    kind: "int",
    unit: "bytes",
    min: 1,
    default: 64 * MiB,
    doc: "Most bytes of messages a peer stores; oldest go first",
    details:
      "A message counts content and origin in UTF-8 plus `TUNING.storedMessageBytes`; the newest stays.",
  },
  catchUpLimit: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 1_000,
    doc: "Most messages of one catch-up page or getData answer",
  },
  maxConnections: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 2048,
    doc: "Most simultaneous connections of one node, inbound and outbound",
  },
  maxConnectionsPerHost: {
    kind: "int",
    unit: "count",
    min: 1,
    default: 256,
    doc: "Most inbound connections from one remote host; more are refused",
    details: "Loopback hosts (127.0.0.0/8, ::1) have none: on one machine every node connects from them.",
  },
  maxQueuedBytes: {
    kind: "int",
    unit: "bytes",
    min: 1,
    default: 8 * MiB,
    doc: "Bytes queued for one connection beyond which it is closed as too slow",
  },
  readBufferBytes: {
    kind: "int",
    unit: "bytes",
    min: 1,
    default: 16 * KiB,
    doc: "Bytes of the read buffer of each connection",
  },
  maxFramesPerSecond: {
    kind: "int",
    unit: "frames/s",
    min: 1,
    default: 5_000,
    doc: "Frames one connection may send per second; more closes it",
    details: "Bursts of twice that pass.",
  },
  maxBytesPerSecond: {
    kind: "int",
    unit: "bytes/s",
    min: 1,
    default: 16 * MiB,
    doc: "Bytes one connection may send per second; more closes it",
    details: "Bursts of twice that pass.",
  },
  banThreshold: {
    kind: "int",
    unit: "count",
    min: 0,
    default: 10,
    doc: "Strikes that earn a ban; 0 never bans",
    details: "Invalid frames and protocol violations count against the remote host (refused at " +
      "connect); false death reports count against the reporting peer's node id (removed from the " +
      "seed and refused).",
  },
  banTime: {
    kind: "duration",
    unit: "ms",
    default: 60_000,
    doc: "How long a ban lasts, and the window in which strikes add up",
  },
  signMessages: {
    kind: "choice",
    values: SWITCH,
    default: "on",
    doc: "Whether gossip messages are signed, and checked once each before they are stored or passed on",
    details: "`off` only measures what signatures cost: any peer can then speak for any other, and peers " +
      "with `on` refuse the unsigned messages. It must match across a network.",
  },
  networkKey: {
    kind: "secret",
    default: "",
    doc: "Shared secret of a private network; empty for an open one",
    details: "Only nodes with the same key can connect, and every frame is encrypted. The CLI also " +
      "reads it from the P2PNET_KEY environment variable. Never logged.",
  },
} as const satisfies Record<string, Row>;

type Table = typeof SETTINGS_TABLE;

/** A settings field name. */
export type SettingName = keyof Table;

/** Node settings, settled: durations in milliseconds, sizes in bytes. One field per row of {@link SETTINGS_TABLE}. */
export type Settings = { -readonly [K in SettingName]: ValueOf<Table[K]> };

/**
 * Settings as a library caller may give them, any subset: durations as milliseconds or text (`"13s"`), seeds
 * as `host:port` text or `Address` objects. An undefined field is left to the layers below.
 */
export type SettingsLayer = { [K in SettingName]?: InputOf<Table[K]> | undefined };

/** Rows as the generic code reads them. */
export const ROWS: Readonly<Record<SettingName, Row>> = SETTINGS_TABLE;
