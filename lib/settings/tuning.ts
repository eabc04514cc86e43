/**
 * The fixed ratios and pauses of the algorithms, beside the settings they scale (and
 * listed in docs/configuration.md with them). Each is one row: its value, unit and
 * one line of doc.
 */

const KiB = 1024;

/** A fixed ratio or pause: not settable, since each is a multiple of a setting or too small to matter. */
export interface TuningRow {
  readonly value: number;
  /** `ms`, `bytes`, `hops`, `count`, or `× X` for a multiple of setting X. */
  readonly unit: string;
  /** One line. */
  readonly doc: string;
}

/** The fixed ratios and pauses of the algorithms, kept with the settings they scale. */
export const TUNING_TABLE = {
  pushLagHalfLife: {
    value: 5,
    unit: "× fetchTimeout",
    doc: "Time over which a peer's allowance for a late push tree halves",
  },
  busyTreeFetchTimeouts: {
    value: 2,
    unit: "× fetchTimeout",
    doc: "Extra wait of the first ask for a missing message, unless a push link was cut lately",
  },
  cutTreeFetchTimeouts: {
    value: 3,
    unit: "× fetchTimeout",
    doc: "After a pushing link stops (a prune, or the neighbour lost), asks wait no extra time for this long",
  },
  slowRttHalfLife: {
    value: 5,
    unit: "× livelinessInterval",
    doc: "Time over which a peer's allowance for slow probe answers halves",
  },
  acceptRetryMs: {
    value: 50,
    unit: "ms",
    doc: "Pause of a listener after a failed accept (such as running out of file descriptors)",
  },
  shortRetryDivisor: {
    value: 20,
    unit: "divisor of overlayInterval",
    doc: "A peer short of candidates first asks its seeds again after overlayInterval / this",
  },
  announceJitter: {
    value: 0.5,
    unit: "× announceInterval",
    doc: "An announcement batch waits announceInterval × (1 ± this)",
  },
  roundPhaseMin: {
    value: 0.5,
    unit: "× interval",
    doc: "A node's first background round starts at interval × [this, 1)",
  },
  pruneHopSlack: {
    value: 2,
    unit: "hops",
    doc: "A repeat more than this many hops longer than the first copy prunes nothing",
  },
  leaveFlushMs: {
    value: 1000,
    unit: "ms",
    doc: "How long a leaving node waits for its goodbye frames to flush",
  },
  deadRedialRounds: {
    value: 2,
    unit: "× livelinessMisses × livelinessInterval",
    doc: "A peer reported dead is not dialled for this × livelinessMisses × livelinessInterval",
  },
  slowRttFactor: {
    value: 2,
    unit: "× round trip",
    doc: "A probe waits at least this × the slowest recent round trip",
  },
  directProbeFactor: {
    value: 2,
    unit: "× probeTimeout",
    doc: "A direct probe waits at least this × the probe timeout",
  },
  quietFraction: {
    value: 0.5,
    unit: "× livelinessInterval",
    doc: "A neighbour not heard from for this × livelinessInterval is probed",
  },
  lateRoundFraction: {
    value: 0.5,
    unit: "× probeTimeout",
    doc: "A probe round checked later than this × probeTimeout proves nothing",
  },
  massSilenceMinProbed: {
    value: 3,
    unit: "count",
    doc: "Rounds with fewer probed neighbours never count as mass silence",
  },
  massSilenceFraction: {
    value: 0.5,
    unit: "share of probed",
    doc: "More than this share of probed neighbours silent at once proves nothing",
  },
  unresponsiveSpares: {
    value: 2,
    unit: "count",
    doc: "Direct probes a neighbour silent on its link may answer and stay; the next drops the link",
  },
  controlProbeFraction: {
    value: 0.5,
    unit: "× probe timeout",
    doc: "A node that cannot answer its own probe within this × timeout calls the probe inconclusive",
  },
  maxInconclusiveVerifications: {
    value: 10,
    unit: "count",
    doc: "A seed's inconclusive checks of one report before it drops the report",
  },
  joinRetryFirstMs: {
    value: 1000,
    unit: "ms",
    doc: "Wait before a peer's second round of joining (see retryJoin)",
  },
  joinRetryMaxMs: {
    value: 30_000,
    unit: "ms",
    doc: "Longest wait between rounds of joining",
  },
  joinRetryJitter: {
    value: 0.5,
    unit: "share of the wait",
    doc: "Each wait between rounds of joining is shortened by up to this share of itself, at random",
  },
  healRetryMaxRounds: {
    value: 4,
    unit: "× overlayInterval",
    doc: "Longest wait between tries of a neighbour lost to silence (a partition, a host down)",
  },
  lostRetainMs: {
    value: 600_000,
    unit: "ms",
    doc: "How long a neighbour lost to silence is tried again",
  },
  lostCandidates: {
    value: 8,
    unit: "count",
    doc: "Most neighbours lost to silence a peer keeps trying again; the oldest go first",
  },
  contactSilenceIntervals: {
    value: 2,
    unit: "× livelinessInterval (+ probeTimeout)",
    doc: "A seed that heard nothing on a registration connection for this long has lost contact",
  },
  reportWindowRounds: {
    value: 3,
    unit: "× livelinessMisses × livelinessInterval",
    doc:
      "A contradicted death report is in good faith if the seed lost contact with either side this long before it",
  },
  logRepeatWindowMs: {
    value: 5000,
    unit: "ms",
    doc: "Log lines identical to one written less than this ago are counted, then summarised in one line",
  },
  sweepMinMs: {
    value: 50,
    unit: "ms",
    doc: "Shortest interval of the handshake and frame-timeout sweep",
  },
  sweepMaxMs: {
    value: 1000,
    unit: "ms",
    doc: "Longest interval of the handshake and frame-timeout sweep",
  },
  catchUpPageShare: {
    value: 0.125,
    unit: "× maxQueuedBytes",
    doc: "Most bytes of one catch-up page (its first message goes whatever its size)",
  },
  storedMessageBytes: {
    value: 256,
    unit: "bytes",
    doc: "What a stored message counts against storeBytes besides its content and origin",
  },
  catchUpQueueShare: {
    value: 0.5,
    unit: "× maxQueuedBytes",
    doc: "Catch-up sends a stored message only while the write queue stays within this share",
  },
  storeBatchMessages: {
    value: 512,
    unit: "count",
    doc: "With a data directory, messages stored past this many in one batch commit it at once",
  },
  storeRetryMs: {
    value: 1000,
    unit: "ms",
    doc: "Pause before a batch of messages that failed to commit to the data directory is tried again",
  },
  savedPeers: {
    value: 1000,
    unit: "count",
    doc: "Most known peers (the latest learnt) a peer keeps in its data directory",
  },
  reverifyProbes: {
    value: 16,
    unit: "count",
    doc: "Probes a restarted seed runs at once to re-verify the registrations it kept",
  },
  framePoolSlabBytes: {
    value: 16 * KiB,
    unit: "bytes",
    doc: "Bytes of each slab outgoing frames are carved from",
  },
  publicKeyCacheSize: {
    value: 4096,
    unit: "count",
    doc: "Public keys of other nodes a node keeps decoded for checking their signatures",
  },
} as const satisfies Record<string, TuningRow>;

/** The values of {@link TUNING_TABLE} by name. */
export const TUNING: { readonly [K in keyof typeof TUNING_TABLE]: number } = Object.freeze(
  Object.fromEntries(Object.entries(TUNING_TABLE).map(([name, row]) => [name, row.value])) as {
    [K in keyof typeof TUNING_TABLE]: number;
  },
);
