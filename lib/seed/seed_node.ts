/**
 * A seed: the first point of contact. It registers peers that ask it for peers,
 * answers with a sample of the others, and removes a peer that leaves or that it
 * confirms dead after a report.
 */

import type { Logger } from "@logtape/logtape";
import { type Address, formatAddress, hostMatches } from "../wire/address.ts";
import { resolveSettings, type Settings } from "../settings/config.ts";
import type { Connection, SendOptions } from "../net/connection.ts";
import { Endpoint, type NodeOptions, sweepInterval } from "../net/endpoint.ts";
import { BanList } from "../net/ban_list.ts";
import { Emitter } from "../util/events.ts";
import { nodeLogger } from "../log/logging.ts";
import { judgeVerification } from "../node/liveliness.ts";
import { Prober } from "../net/prober.ts";
import { type Death, type Message, type MessageLimits, versionRefusal } from "../wire/messages.ts";
import { type Random, sample } from "../util/random.ts";
import { Scheduler } from "../util/scheduler.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { Transport } from "../net/transport.ts";
import { importNetworkKey } from "../wire/secure_channel.ts";

/** Verifications in a row that may come out inconclusive (this seed too busy) before a report is dropped. */
const MAX_INCONCLUSIVE_VERIFICATIONS = 10;

/** Options of a seed; its port defaults to 0 (a free one). */
export type SeedNodeOptions = NodeOptions;

/** Why a peer left a seed's list. */
export type RemovalReason = "leaving" | "dead" | "banned";

export interface SeedEvents extends Record<string, unknown> {
  registered: { addr: string };
  removed: { addr: string; reason: RemovalReason; reporter: string };
  reportRejected: { addr: string; reporter: string; why: string };
}

interface Registration {
  readonly addr: string;
  readonly since: number;
  conn: Connection;
}

export class SeedNode {
  readonly settings: Settings;
  readonly events: Emitter<SeedEvents> = new Emitter();
  readonly #host: string;
  readonly #port: number;
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #transport: Transport | undefined;
  readonly #now: () => number;
  readonly #peers = new Map<string, Registration>();
  /** The peer address each connection registered, once it has. */
  readonly #registeredBy = new WeakMap<Connection, string>();
  /** Connections whose announced address is being checked before registration. */
  readonly #checking = new Set<Connection>();
  /** Reporters caught in false death reports. */
  readonly #liars: BanList;
  /** Accused peers being checked, and when the check began; concurrent reports share one check. */
  readonly #verifying = new Map<string, number>();
  #endpoint: Endpoint | undefined;
  #scheduler: Scheduler | undefined;
  #prober: Prober | undefined;
  #log: Logger = nodeLogger("seed", "unstarted");
  #address: Address | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: SeedNodeOptions = {}) {
    this.settings = resolveSettings(options.settings ?? {});
    this.#host = options.host ?? this.settings.host;
    this.#port = options.port ?? 0;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
    this.#transport = options.transport;
    this.#now = () => this.#clock.now();
    this.#liars = new BanList(this.settings.banThreshold, this.settings.banTime);
  }

  /** The address the seed listens on; set by {@link start}. */
  get address(): Address {
    if (this.#address === undefined) throw new Error("SeedNode.address: the seed has not started");
    return this.#address;
  }

  /** `host:port` of the seed. */
  get label(): string {
    return formatAddress(this.address);
  }

  /** The active peers, by listening address. */
  peers(): string[] {
    return [...this.#peers.keys()];
  }

  /** Starts listening. Throws if the address is in use or not available. */
  async start(): Promise<Address> {
    if (this.#endpoint) throw new Error("SeedNode.start: already started");
    const networkKey = this.settings.networkKey
      ? await importNetworkKey(this.settings.networkKey)
      : undefined;
    const limits: MessageLimits = {
      maxPeers: this.settings.peerListLimit,
      maxIds: this.settings.storeLimit,
      maxContent: this.settings.maxMessageBytes,
    };
    const endpoint = new Endpoint({
      settings: this.settings,
      log: () => this.#log,
      limits,
      clock: this.#clock,
      transport: this.#transport,
      onMessage: (conn, message) => this.#onMessage(conn, message),
      onClose: (conn) => this.#onClose(conn),
      ...(networkKey ? { networkKey } : {}),
    });
    this.#address = endpoint.listen(this.#host, this.#port);
    this.#log = nodeLogger("seed", this.label);
    this.#endpoint = endpoint;
    this.#prober = new Prober(endpoint, this.#clock);
    const scheduler = new Scheduler({
      clock: this.#clock,
      onError: (error) => this.#log.error("scheduled task failed: {error}", { error }),
    });
    this.#scheduler = scheduler;
    scheduler.every(sweepInterval(this.settings), () => endpoint.sweep(this.#now()));
    this.#log.info("seed listening on {addr}", { addr: this.label, private: networkKey !== undefined });
    return this.#address;
  }

  /** Closes every connection and stops. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#scheduler?.stop();
      await this.#endpoint?.close();
      this.#log.info("seed stopped", { peers: this.#peers.size });
    })();
    return this.#stopping;
  }

  #onMessage(conn: Connection, message: Message): void {
    if (this.#log.isEnabledFor("debug")) {
      this.#log.debug("received {type} from {remote}", { type: message.type, remote: conn.remote, message });
    }
    if (this.#prober!.accept(conn, message)) return;
    const registered = this.#registeredBy.get(conn);
    switch (message.type) {
      case "get_peer_list": {
        const refusal = versionRefusal(message.version);
        if (refusal !== undefined) return this.#refuse(conn, refusal);
        this.#register(conn, message.addr, registered);
        return;
      }
      case "liveliness":
        this.#send(conn, { type: "liveliness_reply", ts: message.ts }, { urgent: true });
        return;
      case "death":
        if (registered === undefined) return this.#reject(conn, "death before get_peer_list");
        this.#onDeath(conn, registered, message);
        return;
      default:
        this.#reject(conn, `unexpected ${message.type}`);
    }
  }

  #send(conn: Connection, message: Message, options?: SendOptions): void {
    if (this.#log.isEnabledFor("debug")) {
      this.#log.debug("sent {type} to {remote}", { type: message.type, remote: conn.remote, message });
    }
    conn.send(message, options);
  }

  /** Tells the remote why this seed will not serve it, then closes; not a strike (it may be an honest peer). */
  #refuse(conn: Connection, reason: string): void {
    this.#log.warn("refused {remote}: {reason}", { remote: conn.remote, reason });
    this.#send(conn, { type: "refused", reason });
    conn.flush().then(() => conn.close(`refused: ${reason}`));
  }

  /** Closes a connection that broke the protocol; a strike against its host unless `strike` is false. */
  #reject(conn: Connection, why: string, { strike = true } = {}): void {
    this.#log.warn("closing {remote}: {why}", { remote: conn.remote, why });
    if (strike) this.#endpoint?.strike(conn, why);
    conn.close(why);
  }

  #register(conn: Connection, addr: string, registered: string | undefined): void {
    if (registered !== undefined && registered !== addr) {
      return this.#reject(conn, `connection registered ${registered} and now claims ${addr}`);
    }
    if (!hostMatches(conn.remoteAddress, addr)) {
      return this.#reject(conn, `claims address ${addr} on another host`);
    }
    if (this.#liars.isBanned(addr, this.#now())) {
      return this.#reject(conn, `${addr} is banned for false reports`);
    }
    const existing = this.#peers.get(addr);
    if (existing?.conn === conn) return this.#sendPeerList(conn, addr, { refresh: true });
    if (existing !== undefined && !existing.conn.isClosed) {
      return this.#reject(conn, `${addr} is registered on another open connection`);
    }
    // A new registration: check that the announced address answers before listing it.
    if (this.#checking.has(conn)) return;
    this.#checking.add(conn);
    this.#prober!.probe(addr, this.settings.probeTimeout).then((result) => {
      this.#checking.delete(conn);
      if (conn.isClosed || this.#stopping) return;
      if (!result.alive) {
        // Not a strike: an honest peer that is slow or restarting fails this too, and on one
        // machine every node shares the host that a ban would shut out.
        return this.#reject(conn, `cannot reach announced address ${addr}: ${result.reason}`, {
          strike: false,
        });
      }
      const current = this.#peers.get(addr);
      if (current !== undefined && current.conn !== conn && !current.conn.isClosed) {
        return this.#reject(conn, `${addr} is registered on another open connection`);
      }
      if (current === undefined) {
        this.#peers.set(addr, { addr, since: this.#now(), conn });
        this.#log.info("registered peer {addr}", { addr, peers: this.#peers.size });
        this.events.emit("registered", { addr });
      } else current.conn = conn;
      this.#registeredBy.set(conn, addr);
      this.#sendPeerList(conn, addr);
    });
  }

  /** Answers a Get Peer List; logged at info for a new registration, at debug for a refresh. */
  #sendPeerList(conn: Connection, addr: string, { refresh = false } = {}): void {
    const others = [...this.#peers.keys()].filter((peer) => peer !== addr);
    const peers = sample(others, this.settings.peerListLimit, this.#random);
    this.#send(conn, { type: "peer_list", peers });
    this.#log[refresh ? "debug" : "info"]("sent peer_list to {addr}", {
      addr,
      count: peers.length,
      of: others.length,
    });
  }

  #onDeath(conn: Connection, reporter: string, death: Death): void {
    this.#log.info("received death of {addr} from {reporter}", {
      addr: death.addr,
      reporter,
      reason: death.reason,
    });
    if (death.reporter !== reporter) {
      return this.#rejectReport(death.addr, reporter, `reporter field says ${death.reporter}`);
    }
    if (death.reason === "leaving") {
      if (death.addr !== reporter) {
        return this.#rejectReport(death.addr, reporter, "only a peer itself may leave");
      }
      if (this.#peers.get(reporter)?.conn !== conn) {
        return this.#rejectReport(death.addr, reporter, "leave not sent on the registering connection");
      }
      this.#remove(death.addr, "leaving", reporter);
      return;
    }
    if (!this.#peers.has(death.addr)) {
      this.#log.debug("death report about unknown peer {addr} ignored", { addr: death.addr, reporter });
      return;
    }
    if (death.addr === reporter) {
      return this.#rejectReport(death.addr, reporter, "a peer cannot report itself dead");
    }
    this.#verify(death.addr, reporter);
  }

  /**
   * Probes an accused peer; removes it only if the seed cannot reach it either:
   * at once when nothing listens at its address, after `livelinessMisses` silent
   * probes a liveliness interval apart when it accepts but does not answer.
   */
  #verify(addr: string, reporter: string, attempt = 1, inconclusive = 0): void {
    if (attempt === 1 && inconclusive === 0) {
      if (this.#verifying.has(addr)) return;
      this.#verifying.set(addr, this.#now());
    }
    const { probeTimeout, livelinessInterval, livelinessMisses } = this.settings;
    this.#prober!.probeWithControl(addr, this.address, probeTimeout).then((result) => {
      if (this.#stopping) return;
      if (!result.alive && result.inconclusive) {
        // This seed is too busy to judge; try again later, up to a bound, then keep the peer.
        if (inconclusive < MAX_INCONCLUSIVE_VERIFICATIONS) {
          this.#scheduler!.after(
            livelinessInterval,
            () => this.#verify(addr, reporter, attempt, inconclusive + 1),
          );
          return;
        }
        this.#verifying.delete(addr);
        return this.#rejectReport(addr, reporter, `could not verify: ${result.reason}`, {
          falseReport: false,
        });
      }
      // A peer that renews its registration (every livelinessInterval × livelinessMisses) is
      // alive, however slow it is to answer probes: busy, not dead. A refused connection
      // is conclusive all the same: nothing listens there any more.
      const since = this.#verifying.get(addr) ?? Infinity;
      const renewed = (this.#peers.get(addr)?.conn.lastByteAt ?? -Infinity) >= since;
      if (!result.alive && result.reason !== "connect refused" && renewed) {
        this.#verifying.delete(addr);
        return this.#rejectReport(addr, reporter, "the accused renewed its registration during the check", {
          falseReport: false,
        });
      }
      const action = judgeVerification(result, attempt, livelinessMisses);
      if (action === "retry") {
        this.#log.info("accused {addr} silent to probe {attempt}: {why}; probing again", {
          addr,
          attempt,
          why: result.alive ? "" : result.reason,
        });
        this.#scheduler!.after(
          livelinessInterval,
          () => this.#verify(addr, reporter, attempt + 1, inconclusive),
        );
        return;
      }
      this.#verifying.delete(addr);
      if (result.alive) {
        this.#rejectReport(addr, reporter, `accused answered a probe in ${result.rttMs} ms`);
      } else if (this.#peers.has(addr)) {
        this.#log.info("confirmed {addr} dead: {why}", {
          addr,
          why: result.reason,
          reporter,
          probes: attempt,
        });
        this.#remove(addr, "dead", reporter);
      }
    });
  }

  /**
   * Logs a death report not acted on. A `false` one (the accused answered, or the
   * reporter claimed what it cannot) is a strike against the reporter; enough strikes
   * remove and refuse it for `banTime`.
   */
  #rejectReport(addr: string, reporter: string, why: string, { falseReport = true } = {}): void {
    this.#log.warn("rejected death report about {addr} from {reporter}: {why}", { addr, reporter, why });
    this.events.emit("reportRejected", { addr, reporter, why });
    if (!falseReport || !this.#liars.strike(reporter, this.#now())) return;
    this.#log.warn("banned {reporter} for {ms} ms after {strikes} false reports", {
      reporter,
      ms: this.settings.banTime,
      strikes: this.settings.banThreshold,
    });
    const registration = this.#peers.get(reporter);
    this.#remove(reporter, "banned", reporter);
    registration?.conn.close("banned for false reports");
  }

  #remove(addr: string, reason: RemovalReason, reporter: string): void {
    const registration = this.#peers.get(addr);
    if (registration === undefined) return;
    this.#peers.delete(addr);
    this.#log.info("removed peer {addr}: {reason}", { addr, reason, reporter, peers: this.#peers.size });
    this.events.emit("removed", { addr, reason, reporter });
  }

  #onClose(conn: Connection): void {
    const addr = this.#registeredBy.get(conn);
    // A registered peer's connection matters; probes (this seed's or others') are routine.
    const level = addr === undefined ? "debug" : "info";
    this.#log[level]("connection closed {remote}: {reason}", {
      remote: conn.remote,
      reason: conn.closeReason ?? "closed",
      ...(addr ? { peer: addr } : {}),
    });
    // A registered peer's connection dropping is a hint it died: if nothing listens at
    // its address any more, that is conclusive, and no neighbour needs to report it.
    if (addr === undefined || this.#stopping || this.#peers.get(addr)?.conn !== conn) return;
    // Independent of any report being checked: a refusal here settles it either way.
    this.#prober!.probe(addr, this.settings.probeTimeout).then((result) => {
      if (this.#stopping || result.alive || result.reason !== "connect refused") return;
      if (this.#peers.get(addr)?.conn !== conn) return;
      this.#log.info("confirmed {addr} dead: its connection closed and {why}", { addr, why: result.reason });
      this.#remove(addr, "dead", this.label);
    });
  }
}
