/**
 * p2pnet as a library: run seeds and peers in any number, in one process.
 *
 * ```ts
 * import { PeerNode, SeedNode } from "./mod.ts";
 * const seed = new SeedNode({ port: 0 });
 * await seed.start();
 * const peer = new PeerNode({ settings: { seeds: [seed.address] } });
 * await peer.start();
 * peer.events.on("message", (m) => console.log(m.content));
 * peer.publish("hello");
 * await peer.stop();
 * await seed.stop();
 * ```
 * @module
 */
export { type Address, formatAddress, parseAddress } from "./lib/wire/address.ts";
export {
  ConfigError,
  DEFAULT_SETTINGS,
  loadConfigFile,
  resolveSettings,
  type Settings,
  type SettingsLayer,
} from "./lib/settings/config.ts";
export { encodeFrame, FrameDecoder } from "./lib/wire/codec.ts";
export { Connection } from "./lib/net/connection.ts";
export { closeLogging, LogDirError, type LoggingOptions, setupLogging } from "./lib/log/logging.ts";
export { messageId } from "./lib/wire/message_id.ts";
export {
  ContentTooLargeError,
  JoinError,
  type NeighbourInfo,
  PeerNode,
  type PeerNodeOptions,
  type StoredMessage,
} from "./lib/peer/peer_node.ts";
export { decodeMessage, type Message, type MessageType } from "./lib/wire/messages.ts";
export { SeedNode, type SeedNodeOptions } from "./lib/seed/seed_node.ts";
export { WireError, type WireErrorCode } from "./lib/wire/wire_error.ts";
