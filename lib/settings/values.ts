/** The words and units the rows of the settings table (table.ts) are written with. */

/** Log levels accepted by `--log-level` and `logLevel`, least to most severe. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** Log file formats. */
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** How a peer spreads messages; see the `gossipMode` row. */
export const GOSSIP_MODES = ["tree", "flood"] as const;
export type GossipMode = (typeof GOSSIP_MODES)[number];
/** A feature turned on or off. */
export const SWITCH = ["on", "off"] as const;

export const KiB = 1024;
export const MiB = 1024 * KiB;
