/**
 * What a seed and a peer share: resolved settings, the clock, randomness and the
 * scheduler, the endpoint with its listener and prober, the node's logger, and
 * sending and rejecting with a log line. Each node composes one and adds its role.
 */

import type { Logger } from "@logtape/logtape";
import { type Address, formatAddress, isWildcardHost, parseHostPort } from "../wire/address.ts";
import { messageLimits, resolveSettings, type Settings, TUNING } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { Endpoint, type NodeOptions, sweepInterval } from "../net/endpoint.ts";
import { nodeLogger, type NodeRole } from "../log/logging.ts";
import { Prober } from "../net/prober.ts";
import type { Transport } from "../net/transport.ts";
import type { Liveliness, Message, MessageLimits } from "../wire/messages.ts";
import type { Random } from "../util/random.ts";
import { Scheduler } from "../util/scheduler.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { importNetworkKey } from "../wire/secure_channel.ts";
import { NodeDatabase } from "../store/node_database.ts";
import { PublicKeys } from "../wire/signatures.ts";
import { FileIdentityStore, type IdentityStore, KeyTakenOver, NodeIdentity } from "./identity.ts";
import { Proofs } from "./proofs.ts";

/** Options of a seed or a peer: where it listens, its settings, and where it keeps its key. */
export interface CoreOptions extends NodeOptions {
  /**
   * Where the node's key is kept between runs. @default the database in `settings.dataDir`
   * (taking over a key file an earlier version left there), or nowhere (a fresh node id each
   * run) when that is empty
   */
  identityStore?: IdentityStore;
}

/** Handlers a node gives its endpoint when it starts listening. */
export interface NodeHandlers {
  onMessage(conn: Connection, message: Message): void;
  onClose(conn: Connection): void;
  /** Drops raw frames before decoding; see `ConnectionOptions.skipFrame`. */
  skipFrame?(body: Uint8Array, conn: Connection): boolean;
  /** Runs with each sweep of the endpoint, for the node's own bounded housekeeping. */
  sweep?(now: number): void;
  /** A connection broke the protocol (a strike against its host); it is about to close. */
  onStrike?(conn: Connection, why: string): void;
}

/** The services a node's parts use: they see this interface, not the node. */
export interface NodeContext {
  readonly settings: Settings;
  readonly clock: Clock;
  readonly random: Random;
  readonly scheduler: Scheduler;
  readonly limits: MessageLimits;
  /** This node's id and its signatures over connections' nonces. */
  readonly proofs: Proofs;
  /** Public keys of the nodes met, for checking their signatures. */
  readonly keys: PublicKeys;
  /** The node's logger (named once it listens). */
  readonly log: Logger;
  /** Whether debug (and info) records are wanted: per-message logging costs a flag check when off. */
  readonly debug: boolean;
  readonly info: boolean;
  /** `host:port` this node announces; "" before it listens. */
  readonly self: string;
  /** Where this node's own control probes reach it: where it listens, a wildcard read as loopback. */
  readonly selfAddress: Address;
  /** True while a node bound to a wildcard without `advertise` has no address to announce yet. */
  readonly needsAddress: boolean;
  /** Announces `host` (with the bound port) from now on; `via` says where it was learnt, for the log. */
  adoptAddress(host: string, via: string): void;
  readonly endpoint: Endpoint;
  readonly prober: Prober;
  /** True once the node is stopping. */
  readonly stopping: boolean;
  /** True once the node listens (its endpoint and prober exist). */
  readonly started: boolean;
  /** Encodes and queues `message` on `conn`, logging it at debug. */
  send(conn: Connection, message: Message, options?: { urgent?: boolean }): void;
  /** Closes `conn` for breaking the protocol, with a log line and (unless `strike` is false) a strike against its host. */
  reject(conn: Connection, why: string, options?: { strike?: boolean }): void;
  /** Answers a probe (signed if it asked for proof). */
  answerProbe(conn: Connection, probe: Liveliness): void;
}

export class NodeCore implements NodeContext {
  readonly settings: Settings;
  readonly clock: Clock;
  readonly random: Random;
  readonly scheduler: Scheduler;
  readonly limits: MessageLimits;
  /** The node's database in `settings.dataDir`; undefined without one (everything stays in memory). */
  readonly database: NodeDatabase | undefined;
  readonly proofs: Proofs;
  readonly keys: PublicKeys = new PublicKeys(TUNING.publicKeyCacheSize);
  readonly #role: NodeRole;
  readonly #host: string;
  readonly #port: number;
  readonly #transport: Transport | undefined;
  readonly #advertise: string;
  #log: Logger;
  #debug = false;
  #info = false;
  #self = "";
  #address: Address | undefined;
  #bound: Address | undefined;
  #needsAddress = false;
  #endpoint: Endpoint | undefined;
  #prober: Prober | undefined;
  #stopping = false;
  #openedAt = 0;
  #openedWall = 0;

  /**
   * Throws a DataDirError (lib/store/database.ts) when `settings.dataDir` holds no usable
   * database, an IdentityError (identity.ts) when the node's key cannot be loaded.
   */
  constructor(role: NodeRole, options: CoreOptions, defaultPort: number) {
    this.#role = role;
    this.settings = resolveSettings(options.settings ?? {});
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.#host = options.host ?? this.settings.host;
    this.#port = options.port ?? defaultPort;
    this.#transport = options.transport;
    this.#advertise = options.advertise ?? this.settings.advertise;
    this.#log = nodeLogger(role, "unstarted");
    this.scheduler = new Scheduler({
      clock: this.clock,
      onError: (error) =>
        this.#log.error("scheduled task failed: {error}", { event: "node.task_failed", error }),
    });
    this.limits = messageLimits(this.settings);
    // Opened last but for the key: nothing above can fail and leave it open.
    const { dataDir } = this.settings;
    this.database = dataDir === "" ? undefined : NodeDatabase.open(dataDir, role);
    const store = options.identityStore ??
      (this.database && new KeyTakenOver(this.database.identity, new FileIdentityStore(dataDir)));
    try {
      const identity = store ? NodeIdentity.load(store) : NodeIdentity.generate();
      this.proofs = new Proofs(identity, this.keys, () => this.#self);
    } catch (error) {
      this.database?.close();
      throw error;
    }
  }

  get role(): NodeRole {
    return this.#role;
  }

  /** Milliseconds since the node started listening; 0 before. */
  uptimeMs(): number {
    return this.started ? this.clock.now() - this.#openedAt : 0;
  }

  /** Wall-clock milliseconds when the node started listening; 0 before. */
  get startedAt(): number {
    return this.#openedWall;
  }

  get log(): Logger {
    return this.#log;
  }

  get debug(): boolean {
    return this.#debug;
  }

  get info(): boolean {
    return this.#info;
  }

  get self(): string {
    return this.#self;
  }

  get selfAddress(): Address {
    const bound = this.#bound;
    if (bound === undefined) throw new Error(`the ${this.#role} has not started`);
    return isWildcardHost(bound.host)
      ? { host: bound.host === "0.0.0.0" ? "127.0.0.1" : "::1", port: bound.port }
      : bound;
  }

  get needsAddress(): boolean {
    return this.#needsAddress;
  }

  adoptAddress(host: string, via: string): void {
    if (!this.#needsAddress) return;
    this.#needsAddress = false;
    const bound = formatAddress(this.#bound!);
    this.#name({ host, port: this.#bound!.port });
    this.#log.info("announcing {addr}, the address of the connection to {seed}; bound to {bound}", {
      event: "node.address_chosen",
      addr: this.#self,
      seed: via,
      bound,
    });
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get started(): boolean {
    return this.#endpoint !== undefined;
  }

  /** The address this node announces; throws before {@link open}. */
  address(what: string): Address {
    if (this.#address === undefined) throw new Error(`${what}: the ${this.#role} has not started`);
    return this.#address;
  }

  get endpoint(): Endpoint {
    if (this.#endpoint === undefined) throw new Error(`the ${this.#role} has not started`);
    return this.#endpoint;
  }

  get prober(): Prober {
    if (this.#prober === undefined) throw new Error(`the ${this.#role} has not started`);
    return this.#prober;
  }

  /** Imports the network key, listens, names the logger and starts the sweep. Returns the bound address. */
  async open(handlers: NodeHandlers): Promise<Address> {
    const networkKey = this.settings.networkKey
      ? await importNetworkKey(this.settings.networkKey)
      : undefined;
    const endpoint = new Endpoint({
      settings: this.settings,
      log: () => this.#log,
      limits: this.limits,
      clock: this.clock,
      ...(this.#transport ? { transport: this.#transport } : {}),
      onMessage: (conn, message) => handlers.onMessage(conn, message),
      onClose: (conn) => handlers.onClose(conn),
      // Whoever connects proves its node id over this nonce.
      onAccept: (conn) => this.send(conn, this.proofs.challenge(conn)),
      ...(handlers.skipFrame ? { skipFrame: (body, conn) => handlers.skipFrame!(body, conn) } : {}),
      ...(handlers.onStrike ? { onStrike: (conn, why) => handlers.onStrike!(conn, why) } : {}),
      ...(networkKey ? { networkKey } : {}),
    });
    const bound = this.#bound = endpoint.listen(this.#host, this.#port);
    this.#openedAt = this.clock.now();
    this.#openedWall = this.clock.wallNow();
    this.#endpoint = endpoint;
    const advertised = this.#advertise === "" ? undefined : parseHostPort(this.#advertise);
    // Bound to every interface and told nothing: the first seed connection shows which address others see.
    this.#needsAddress = advertised === undefined && isWildcardHost(bound.host);
    this.#name(advertised ? { host: advertised.host, port: advertised.port ?? bound.port } : bound);
    this.#prober = new Prober(endpoint, this.clock, this.keys);
    this.scheduler.every(sweepInterval(this.settings), () => {
      const now = this.clock.now();
      endpoint.sweep(now);
      handlers.sweep?.(now);
      this.#refreshLevels();
    });
    this.#log.info(`${this.#role} listening on {bound}`, {
      event: "node.listening",
      bound: formatAddress(bound),
      id: this.proofs.id,
      private: networkKey !== undefined,
      ...(this.#self === formatAddress(bound)
        ? {}
        : { announced: this.#needsAddress ? "pending" : this.#self }),
    });
    return this.#address!;
  }

  /** Sets the address this node announces, and names its logger after it. */
  #name(address: Address): void {
    this.#address = address;
    this.#self = formatAddress(address);
    this.#log = nodeLogger(this.#role, this.#self);
    this.#refreshLevels();
  }

  /** Runs `every(interval)` with its first run at a random phase, so nodes started together do not act in step. */
  everyJittered(intervalMs: number, run: () => void): void {
    const phase = TUNING.roundPhaseMin + this.random() * (1 - TUNING.roundPhaseMin);
    this.scheduler.every(intervalMs, run, intervalMs * phase);
  }

  send(conn: Connection, message: Message, { urgent }: { urgent?: boolean } = {}): void {
    if (this.#debug) {
      this.#log.debug("sent {type} to {remote}", {
        event: "frame.sent",
        type: message.type,
        remote: conn.remote,
        frame: message,
      });
    }
    conn.send(message, urgent === undefined ? undefined : { urgent });
  }

  /** Logs a received message at debug. */
  received(conn: Connection, message: Message): void {
    if (this.#debug) {
      this.#log.debug("received {type} from {remote}", {
        event: "frame.received",
        type: message.type,
        remote: conn.remote,
        frame: message,
      });
    }
  }

  answerProbe(conn: Connection, probe: Liveliness): void {
    this.send(conn, this.proofs.probeReply(conn, probe.ts, probe.nonce), { urgent: true });
  }

  reject(conn: Connection, why: string, { strike = true }: { strike?: boolean } = {}): void {
    this.#log.warn("closing {remote}: {why}", { event: "connection.rejected", remote: conn.remote, why });
    this.#endpoint?.stats.refused("protocol");
    if (strike) this.#endpoint?.strike(conn, why);
    conn.close(why);
  }

  /** Marks the node stopping and stops its timers; from here parts only wind down. */
  beginStop(): void {
    this.#stopping = true;
    this.scheduler.stop();
  }

  /** Closes every connection and waits for every task (after {@link beginStop}). */
  async close(): Promise<void> {
    await this.#endpoint?.close();
  }

  #refreshLevels(): void {
    this.#debug = this.#log.isEnabledFor("debug");
    this.#info = this.#log.isEnabledFor("info");
  }
}
