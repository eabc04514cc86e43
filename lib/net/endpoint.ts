/**
 * What seeds and peers share: a listener with a connection limit, outbound
 * connects, one read loop per connection, handshake and stalled-frame timeouts,
 * and a `close()` that settles every connection and every task it started.
 */

import type { Logger } from "@logtape/logtape";
import { type Address, formatAddress } from "../wire/address.ts";
import { type Settings, type SettingsLayer, TUNING } from "../settings/config.ts";
import { Connection } from "./connection.ts";
import { FramePool } from "../wire/codec.ts";
import { decodeMessage, type Message, type MessageLimits } from "../wire/messages.ts";
import { BanList } from "./ban_list.ts";
import type { NetworkKey } from "../wire/secure_channel.ts";
import { type Clock, sleep, systemClock } from "../util/clock.ts";
import { WireError } from "../wire/wire_error.ts";
import { type Listener, type Stream, type Transport, TransportError, transportError } from "./transport.ts";
import { TcpTransport } from "./tcp_transport.ts";
import { expiry, isLoopback, refusal } from "./admission.ts";
import { WireStats } from "./wire_stats.ts";

/** Handles one checked message that arrived on `conn`. */
export type MessageHandler = (conn: Connection, message: Message) => void;

/** Options shared by `SeedNode` and `PeerNode`. */
export interface NodeOptions {
  /** Host to listen on. @default settings.host */
  host?: string;
  /** `host` or `host:port` to announce instead of the bound address. @default settings.advertise */
  advertise?: string;
  /** Port to listen on; 0 picks a free one. @default settings.port (a peer) or 0 (a seed) */
  port?: number;
  /** Settings over the defaults, checked like a config file (resolved settings pass through unchanged). */
  settings?: SettingsLayer;
  /** Source of randomness for every random choice. @default Math.random */
  random?: () => number;
  /** Where time and timers come from. @default systemClock */
  clock?: Clock;
  /** What connections run over. @default TCP */
  transport?: Transport;
}

/**
 * Milliseconds between sweeps for the handshake, frame and idle timeouts: often enough
 * to enforce the shortest within half of it, within `TUNING.sweepMinMs` to `sweepMaxMs`.
 */
export function sweepInterval({ handshakeTimeout, frameTimeout, idleTimeout }: Settings): number {
  const shortest = Math.min(handshakeTimeout, frameTimeout, idleTimeout);
  return Math.max(TUNING.sweepMinMs, Math.min(TUNING.sweepMaxMs, shortest / 2));
}

/** Counts of what went over the wire. */
export interface Traffic {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
}

function addTraffic(total: Traffic, conn: Connection): void {
  total.framesSent += conn.framesSent;
  total.bytesSent += conn.bytesSent;
  total.framesReceived += conn.framesReceived;
}

export interface EndpointOptions {
  settings: Settings;
  /** The owning node's logger; asked each time, since a node names itself only once it listens. */
  log: () => Logger;
  limits: MessageLimits;
  /** Called for every message on every connection. */
  onMessage: MessageHandler;
  /** The network key, when the network is private. */
  networkKey?: NetworkKey;
  /** Drops raw frames before decoding; see `ConnectionOptions.skipFrame`. */
  skipFrame?: (body: Uint8Array, conn: Connection) => boolean;
  /** Called with each connection this endpoint accepted, before any of its frames is read. */
  onAccept?: (conn: Connection) => void;
  /** Called once when a connection has closed, with its reason. */
  onClose?: (conn: Connection) => void;
  /** Called when a connection earns its host a strike (it broke the protocol), before it closes. */
  onStrike?: (conn: Connection, why: string) => void;
  /** Where time and timers come from: activity times, bans, the connect timeout. @default systemClock */
  clock?: Clock;
  /** What connections run over. @default TCP */
  transport?: Transport;
}

export class Endpoint {
  readonly #options: EndpointOptions;
  readonly #connections = new Set<Connection>();
  /** Open inbound connections by remote host, for the cap per host. */
  readonly #inboundByHost = new Map<string, number>();
  readonly #inbound = new Set<Connection>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #abort = new AbortController();
  readonly #bans: BanList;
  readonly #decode: (body: Uint8Array) => Message;
  readonly #clock: Clock;
  readonly #transport: Transport;
  /** Buffers for this node's outgoing frames, shared by its connections. */
  readonly pool: FramePool = new FramePool(TUNING.framePoolSlabBytes);
  /** Frames and bytes by type, and refusals by reason, over every connection of this node. */
  readonly stats: WireStats = new WireStats();
  #listener: Listener | undefined;
  #closed = false;
  /** Traffic of connections already closed, so totals survive them. */
  #closedTraffic: Traffic = { framesSent: 0, bytesSent: 0, framesReceived: 0 };

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#bans = new BanList(options.settings.banThreshold, options.settings.banTime);
    this.#decode = (body) => decodeMessage(body, options.limits);
    this.#clock = options.clock ?? systemClock;
    this.#transport = options.transport ?? new TcpTransport();
  }

  /** Open connections, inbound and outbound. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Aborted when the endpoint closes; long waits should listen to it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Listens on `host:port` (port 0 picks a free one) and returns the bound address. */
  listen(host: string, port: number): Address {
    const listener = this.#transport.listen(host, port);
    this.#listener = listener;
    this.track(this.#acceptLoop(listener));
    return listener.addr;
  }

  /**
   * Connects to `address` within `timeoutMs`, or throws an Error whose message is a few
   * words (`refused`, `timed out`, `cancelled`: a {@link TransportError} with that code;
   * `banned`). A banned host is not dialled, except by a `probe`: a probe's verdict
   * must hold whatever the host did.
   */
  async connect(address: Address, timeoutMs: number, { probe = false } = {}): Promise<Connection> {
    if (this.#closed) throw new Error("node stopped");
    if (!probe && this.isBanned(address.host)) throw new Error("banned");
    if (this.#connections.size >= this.#options.settings.maxConnections) {
      throw new Error(`connection limit ${this.#options.settings.maxConnections} reached`);
    }
    const stream = await this.#open(address, timeoutMs);
    if (this.#closed) {
      stream.close();
      throw new Error("node stopped");
    }
    return this.#adopt(stream, true);
  }

  /** Opens a stream to `address`, giving up after `timeoutMs` or when the endpoint closes. */
  async #open(address: Address, timeoutMs: number): Promise<Stream> {
    const attempt = new AbortController();
    let timedOut = false;
    const timer = this.#clock.setTimer(() => {
      timedOut = true;
      attempt.abort();
    }, timeoutMs);
    const cancel = () => attempt.abort();
    this.#abort.signal.addEventListener("abort", cancel);
    try {
      return await this.#transport.connect(address, attempt.signal);
    } catch (error) {
      if (this.#abort.signal.aborted) throw new TransportError("cancelled", "cancelled", { cause: error });
      if (timedOut) throw new TransportError("timed_out", "timed out", { cause: error });
      const failure = transportError(error);
      throw failure.code === "refused" ? new TransportError("refused", "refused", { cause: error }) : failure;
    } finally {
      this.#clock.clearTimer(timer);
      this.#abort.signal.removeEventListener("abort", cancel);
    }
  }

  /** Frames and bytes this endpoint has sent and frames it has received, over all its connections. */
  traffic(): Traffic {
    const total = { ...this.#closedTraffic };
    for (const conn of this.#connections) addTraffic(total, conn);
    return total;
  }

  /**
   * Counts a strike against the host of `conn` (an invalid frame, a protocol
   * violation, a false report); enough strikes ban the host for `banTime`.
   */
  strike(conn: Connection, why: string): void {
    this.#options.onStrike?.(conn, why);
    const host = conn.remoteAddress.host;
    this.#options.log().debug("strike against {host}: {why}", { event: "connection.strike", host, why });
    if (this.#bans.strike(host, this.#now())) {
      const { banTime, banThreshold } = this.#options.settings;
      this.#options.log().warn("banned {host} for {ms} ms after {strikes} strikes; last: {why}", {
        event: "connection.banned",
        host,
        ms: banTime,
        strikes: banThreshold,
        why,
      });
    }
  }

  /** True while `host` is banned: its connections are refused and it is not dialled. */
  isBanned(host: string): boolean {
    return this.#bans.isBanned(host, this.#now());
  }

  #now(): number {
    return this.#clock.now();
  }

  /** Keeps `task` until it settles; {@link close} waits for every tracked task. */
  track<T>(task: Promise<T>): Promise<T> {
    this.#tasks.add(task);
    task.then(() => this.#tasks.delete(task), () => this.#tasks.delete(task));
    return task;
  }

  /**
   * Closes connections past their handshake timeout (no frame yet), whose frame under
   * way did not complete within the frame timeout, or that carry no registration or
   * link and sent no frame for the idle timeout (see {@link expiry}). Call it from the
   * node's scheduler.
   */
  sweep(now: number): void {
    const timeouts = this.#options.settings;
    const log = this.#options.log();
    for (const conn of this.#connections) {
      switch (expiry(conn, now, timeouts)) {
        case "handshake":
          log.warn("closing {remote}: no handshake within {ms} ms", {
            event: "connection.handshake_timeout",
            remote: conn.remote,
            ms: timeouts.handshakeTimeout,
          });
          this.stats.refused("handshake_timeout");
          conn.close("handshake timeout");
          break;
        case "frame":
          log.warn("closing {remote}: a frame took longer than {ms} ms to arrive", {
            event: "connection.frame_stalled",
            remote: conn.remote,
            ms: timeouts.frameTimeout,
            bytes: conn.pendingBytes,
          });
          this.stats.refused("frame_stalled");
          conn.close("frame stalled");
          break;
        case "idle":
          log.info("closing {remote}: idle for {ms} ms and neither a link nor a registration", {
            event: "connection.idle",
            remote: conn.remote,
            ms: timeouts.idleTimeout,
          });
          this.stats.refused("idle");
          conn.close("idle");
      }
    }
  }

  /** Stops listening, closes every connection and waits for every task to settle. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#abort.abort();
      this.#listener?.close();
      for (const conn of this.#connections) conn.close("node stopped");
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    while (!this.#closed) {
      let stream: Stream;
      try {
        stream = await listener.accept();
      } catch (error) {
        if (this.#closed || transportError(error).code === "closed") return;
        // Out of file descriptors, or a connection reset before it was accepted: the
        // listener still works. Pause a little (descriptors free up as connections close).
        this.#options.log().warn("accepting a connection failed: {error}; retrying in {ms} ms", {
          event: "connection.accept_failed",
          error,
          ms: TUNING.acceptRetryMs,
        });
        await sleep(this.#clock, TUNING.acceptRetryMs);
        continue;
      }
      this.#admit(stream);
    }
  }

  /** Adopts an accepted connection unless the node stopped or {@link refusal} gives a reason not to. */
  #admit(stream: Stream): void {
    const remote = stream.remoteAddr;
    const { maxConnections, maxConnectionsPerHost } = this.#options.settings;
    if (this.#closed) return void stream.close();
    const refused = refusal({
      banned: this.#bans.isBanned(remote.host, this.#now()),
      connections: this.#connections.size,
      maxConnections,
      fromHost: this.#inboundByHost.get(remote.host) ?? 0,
      maxConnectionsPerHost,
      loopback: isLoopback(remote.host),
    });
    if (refused === undefined) return void this.#options.onAccept?.(this.#adopt(stream, false));
    stream.close();
    this.stats.refused(refused.reason);
    // A banned host's attempts are routine until its ban ends; full is worth a warning.
    this.#options.log()[refused.reason === "banned" ? "debug" : "warn"]("refused {remote}: {why}", {
      event: "connection.refused",
      remote: formatAddress(remote),
      why: refused.why,
    });
  }

  #adopt(stream: Stream, initiator: boolean): Connection {
    const { settings, skipFrame, networkKey } = this.#options;
    const conn = new Connection(stream, {
      pool: this.pool,
      stats: this.stats,
      maxFrameBytes: settings.maxFrameBytes,
      maxQueuedBytes: settings.maxQueuedBytes,
      readBufferBytes: settings.readBufferBytes,
      decode: this.#decode,
      maxFramesPerSecond: settings.maxFramesPerSecond,
      maxBytesPerSecond: settings.maxBytesPerSecond,
      clock: this.#clock,
      ...(skipFrame ? { skipFrame } : {}),
      ...(networkKey ? { networkKey, initiator } : {}),
    });
    this.#connections.add(conn);
    if (!initiator) {
      this.#inbound.add(conn);
      this.#inboundByHost.set(
        conn.remoteAddress.host,
        (this.#inboundByHost.get(conn.remoteAddress.host) ?? 0) + 1,
      );
    }
    this.track(this.#readLoop(conn));
    return conn;
  }

  async #readLoop(conn: Connection): Promise<void> {
    try {
      await conn.read((message) => this.#options.onMessage(conn, message));
    } catch (error) {
      if (error instanceof WireError) {
        this.#options.log().warn("closing {remote}: bad frame: {code}: {error}", {
          event: "connection.bad_frame",
          remote: conn.remote,
          code: error.code,
          error: error.message,
        });
        this.stats.refused("bad_frame");
        this.strike(conn, error.code);
      } else {
        this.#options.log().error("closing {remote}: handler failed: {error}", {
          event: "connection.handler_failed",
          remote: conn.remote,
          error,
        });
        conn.close("handler failed");
      }
    } finally {
      this.#connections.delete(conn);
      if (this.#inbound.delete(conn)) this.#forgetInbound(conn.remoteAddress.host);
      addTraffic(this.#closedTraffic, conn);
      this.#options.onClose?.(conn);
    }
  }

  #forgetInbound(host: string): void {
    const count = (this.#inboundByHost.get(host) ?? 1) - 1;
    if (count > 0) this.#inboundByHost.set(host, count);
    else this.#inboundByHost.delete(host);
  }
}
