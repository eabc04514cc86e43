/**
 * A peer: joins through a majority of the seeds, keeps a few neighbours, probes
 * them, gossips messages to them exactly once each, lets late joiners catch up,
 * and tells the seeds when it leaves or finds a neighbour dead.
 */

import type { Logger } from "@logtape/logtape";
import { type Address, formatAddress, hostMatches, parseAddress } from "../wire/address.ts";
import { resolveSettings, seedMajority, type Settings, TUNING } from "../settings/config.ts";
import { encodeFrame } from "../wire/codec.ts";
import type { Connection, SendOptions } from "../net/connection.ts";
import { Endpoint, type NodeOptions, sweepInterval, type Traffic } from "../net/endpoint.ts";
import { Emitter } from "../util/events.ts";
import { nodeLogger } from "../log/logging.ts";
import { messageId } from "../wire/message_id.ts";
import { judgeRound } from "../node/liveliness.ts";
import { Prober } from "../net/prober.ts";
import {
  type GetData,
  type GossipMessage,
  type Message,
  type MessageLimits,
  type PeerReply,
  PROTOCOL_VERSION,
  versionRefusal,
} from "../wire/messages.ts";
import {
  encodeGossip,
  forwardedGossip,
  gossipMessage,
  peekGossipHops,
  peekGossipId,
  peekGossipOffTree,
} from "../wire/gossip_frame.ts";
import { type Random, sample, shuffled } from "../util/random.ts";
import { Scheduler } from "../util/scheduler.ts";
import { type Clock, systemClock, type TimerHandle } from "../util/clock.ts";
import type { Transport } from "../net/transport.ts";
import { DecayingMax } from "../util/decaying_max.ts";
import { importNetworkKey } from "../wire/secure_channel.ts";
import { MessageStore, type StoredMessage } from "./message_store.ts";
import { firstAskAllowance, MissingMessages } from "./missing_messages.ts";

/** Options of a peer; its port defaults to `settings.port` (0: a free one). */
export type PeerNodeOptions = NodeOptions;

/** Joining failed: too few seeds answered. The message lists each failure. */
export class JoinError extends Error {
  override name = "JoinError";
}

export type Direction = "outbound" | "inbound";

/** A neighbour as the console and tests see it. */
export interface NeighbourInfo {
  /** The neighbour's listening address. */
  addr: string;
  direction: Direction;
  /** When the connection was accepted, in clock milliseconds. */
  since: number;
  /** Round-trip time of the last answered probe, in milliseconds. */
  rttMs: number | undefined;
  /** Consecutive unanswered probes. */
  misses: number;
  /**
   * How new messages reach it: `push` sends them in full, `announce` sends their ids
   * in batched ihave frames (tree gossip; with gossipMode `flood` always `push`).
   */
  gossip: "push" | "announce";
}

export type { StoredMessage };

/** Frames of tree gossip's upkeep that a peer sent. */
export interface GossipControl {
  /** ihave frames (each carries every id gathered for one neighbour). */
  announcements: number;
  /** getData frames asking for messages announced but not pushed. */
  fetches: number;
  /** graft frames: links turned back from announcing to pushing. */
  grafts: number;
  /** prune frames: links turned from pushing to announcing. */
  prunes: number;
}

/** A peer's traffic: frames and bytes, repeats received, and tree upkeep sent. */
export type PeerTraffic = Traffic & GossipControl & { repeats: number };

export interface PeerEvents extends Record<string, unknown> {
  /** A message seen for the first time (published here when `from` is undefined). */
  message: StoredMessage;
  neighbourAdded: { addr: string; direction: Direction };
  neighbourRemoved: { addr: string; reason: string };
  /** A neighbour found dead and reported to the seeds. */
  deathReported: { addr: string; why: string };
}

interface Neighbour extends NeighbourInfo {
  readonly conn: Connection;
  /** The latest probe timestamp it echoed back. */
  answeredTs: number;
  /** Set when this peer closed the connection on purpose, so the close is not a loss. */
  removedFor: string | undefined;
  /**
   * Ids it showed it has (by announcing or sending them) since the last announcement
   * round: they are not announced back to it.
   */
  knows: Set<string>;
  /**
   * Ids it listed as stored when the link opened (its catch-up `have`) and this peer
   * lacked then: history this peer then receives from others is not passed on to it.
   * Kept for one fetchTimeout, the time history is given to arrive.
   */
  holds: Set<string> | undefined;
  /** Whether a direct probe is deciding if it is dead. */
  confirming: boolean;
}

type Waiter = (message: Message | undefined) => void;

export class PeerNode {
  readonly settings: Settings;
  readonly events: Emitter<PeerEvents> = new Emitter();
  readonly #host: string;
  readonly #port: number;
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #transport: Transport | undefined;
  readonly #now: () => number;
  readonly #limits: MessageLimits;

  readonly #neighbours = new Map<string, Neighbour>();
  /** The values of {@link #neighbours}, renewed on every change: the loop run per message allocates no iterator. */
  #neighbourList: Neighbour[] = [];
  readonly #byConn = new Map<Connection, Neighbour>();
  readonly #pendingOut = new Set<string>();
  /** Peers learnt from seeds: candidates for new neighbours. */
  readonly #known = new Set<string>();
  /** Candidates not to try again before the given clock time. */
  readonly #backoff = new Map<string, number>();
  /** Seeds this peer registered with, and the open connection to each. */
  readonly #registeredSeeds = new Set<string>();
  readonly #seedLinks = new Map<string, Connection>();
  readonly #seedOf = new Map<Connection, string>();
  /** Seeds being connected to in the background, so attempts do not pile up. */
  readonly #connectingSeeds = new Set<string>();
  /** Connections waiting for their first answer (a Peer List or a Peer Reply). */
  readonly #waiters = new Map<Connection, Waiter>();

  readonly #store: MessageStore;
  /** Messages announced to this peer but not received yet (tree gossip). */
  readonly #missing: MissingMessages;
  /** Whether a flush of pending announcements, and a check of missing messages, is scheduled. */
  #announceArmed = false;
  /** The message this peer saw first most recently. */
  #newestId: string | undefined;
  /** Messages first seen since the last announcement round, for the neighbours not pushed to. */
  #toAnnounce: StoredMessage[] = [];
  #fetchArmed = false;
  /**
   * Ids whose first copy was fetched, with the clock time of their first announcement:
   * a pushed repeat of one is the tree lagging, not a loop (oldest first).
   */
  readonly #fetched = new Map<string, number>();
  /** Clock time a link that pushed to this peer last stopped (a prune received, or the neighbour lost). */
  #pushLinkLostAt = -Infinity;
  /** How late the push tree ran behind announcements lately (see {@link #fetchAllowance}). */
  readonly #pushLag: DecayingMax;
  /** The slowest recent probe round trip (see {@link #probeTimeout}). */
  readonly #slowRtt: DecayingMax;
  #created = 0;
  /** Gossip frames that brought a message already seen. */
  #repeats = 0;
  /** Tree gossip frames sent: ihave announcements, fetches, grafts and prunes. */
  #gossipControl: GossipControl = { announcements: 0, fetches: 0, grafts: 0, prunes: 0 };
  #lastRefresh = -Infinity;
  /** The last wait before asking the seeds again while short of candidates (see {@link #retryShort}), ms; 0 once enough. */
  #shortRetryMs = 0;
  #shortRetryArmed = false;
  /** Liveliness rounds in a row that proved nothing (see {@link judgeRound}). */
  #inconclusiveRounds = 0;
  /** Whether debug and info records are wanted, refreshed each sweep: per-message logging costs a flag check when off. */
  #debug = false;
  #info = false;

  #endpoint: Endpoint | undefined;
  #scheduler: Scheduler | undefined;
  #prober: Prober | undefined;
  #log: Logger = nodeLogger("peer", "unstarted");
  #address: Address | undefined;
  #self = "";
  #stopping: Promise<void> | undefined;

  constructor(options: PeerNodeOptions = {}) {
    this.settings = resolveSettings(options.settings ?? {});
    this.#host = options.host ?? this.settings.host;
    this.#port = options.port ?? this.settings.port;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
    this.#transport = options.transport;
    this.#now = () => this.#clock.now();
    this.#store = new MessageStore(this.settings);
    this.#missing = new MissingMessages(this.settings.storeLimit, this.settings.fetchTimeout);
    this.#pushLag = new DecayingMax(TUNING.pushLagHalfLife * this.settings.fetchTimeout);
    this.#slowRtt = new DecayingMax(TUNING.slowRttHalfLife * this.settings.livelinessInterval);
    this.#limits = {
      maxPeers: this.settings.peerListLimit,
      maxIds: this.settings.storeLimit,
      maxContent: this.settings.maxMessageBytes,
    };
  }

  /** The address this peer listens on and announces; set by {@link start}. */
  get address(): Address {
    if (this.#address === undefined) throw new Error("PeerNode.address: the peer has not started");
    return this.#address;
  }

  /** `host:port` of the peer. */
  get label(): string {
    return this.#self;
  }

  get isStopped(): boolean {
    return this.#stopping !== undefined;
  }

  /** Current neighbours, oldest first. */
  neighbours(): NeighbourInfo[] {
    return [...this.#neighbours.values()].map(({ addr, direction, since, rttMs, misses, gossip }) => ({
      addr,
      direction,
      since,
      rttMs,
      misses,
      gossip,
    }));
  }

  /** Stored messages in the order first seen. */
  messages(): StoredMessage[] {
    return this.#store.values();
  }

  /** What this peer has sent and received so far, how many gossip frames were repeats, and the tree's upkeep. */
  traffic(): PeerTraffic {
    return {
      ...(this.#endpoint?.traffic() ?? { framesSent: 0, bytesSent: 0, framesReceived: 0 }),
      repeats: this.#repeats,
      ...this.#gossipControl,
    };
  }

  /** Seeds this peer is registered with, `host:port` each. */
  registeredSeeds(): string[] {
    return [...this.#registeredSeeds];
  }

  /**
   * Listens, registers with a majority of the seeds and connects to neighbours.
   * Throws {@link JoinError} (after releasing everything) when too few seeds answer.
   */
  async start(): Promise<Address> {
    if (this.#endpoint) throw new Error("PeerNode.start: already started");
    const networkKey = this.settings.networkKey
      ? await importNetworkKey(this.settings.networkKey)
      : undefined;
    const endpoint = new Endpoint({
      settings: this.settings,
      log: () => this.#log,
      limits: this.#limits,
      clock: this.#clock,
      transport: this.#transport,
      onMessage: (conn, message) => this.#onMessage(conn, message),
      onClose: (conn) => this.#onClose(conn),
      skipFrame: (body, conn) => this.#isRepeat(body, conn),
      ...(networkKey ? { networkKey } : {}),
    });
    this.#address = endpoint.listen(this.#host, this.#port);
    this.#endpoint = endpoint;
    this.#self = formatAddress(this.#address);
    this.#log = nodeLogger("peer", this.#self);
    this.#debug = this.#log.isEnabledFor("debug");
    this.#info = this.#log.isEnabledFor("info");
    this.#prober = new Prober(endpoint, this.#clock);
    this.#log.info("peer listening on {addr}", { addr: this.#self, private: networkKey !== undefined });
    try {
      await this.#join();
    } catch (error) {
      this.#stopping ??= endpoint.close();
      await this.#stopping;
      throw error;
    }
    if (this.#stopping) throw new Error("PeerNode.start: stopped while starting");
    this.#startLoop();
    for (const seed of this.settings.seeds) {
      if (!this.#registeredSeeds.has(formatAddress(seed))) this.#reconnectSeed(formatAddress(seed));
    }
    await Promise.all(this.#fill());
    return this.#address;
  }

  /**
   * Leaves the network: tells seeds and neighbours (unless `graceful` is false, which
   * simulates a crash), closes every connection and timer. Safe to call twice.
   */
  stop({ graceful = true }: { graceful?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(graceful);
    return this.#stopping;
  }

  /** Publishes `content` as a new message from this peer and gossips it. */
  publish(content: string): StoredMessage {
    if (this.#endpoint === undefined || this.#stopping) {
      throw new Error("PeerNode.publish: the peer is not running");
    }
    if (content.length > this.settings.maxMessageBytes) {
      throw new RangeError(
        `PeerNode.publish: content of ${content.length} characters exceeds maxMessageBytes ${this.settings.maxMessageBytes}`,
      );
    }
    const id = messageId(this.#self, content);
    const message = gossipMessage({ id, origin: this.#self, content, created: this.#clock.wallNow() }, 1);
    this.#accept(message, undefined);
    return this.#store.get(message.id)!;
  }

  /** Asks neighbour `addr` for the messages with these ids. Returns false if it is not a neighbour. */
  requestData(addr: string, ids: string[]): boolean {
    const neighbour = this.#neighbours.get(addr);
    if (neighbour === undefined) return false;
    this.#send(neighbour.conn, { type: "get_data", ids: ids.slice(0, this.#limits.maxIds) });
    return true;
  }

  // ---- join -------------------------------------------------------------------

  async #join(): Promise<void> {
    const seeds = this.settings.seeds;
    const need = seedMajority(seeds.length);
    const order = shuffled(seeds, this.#random);
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (this.#registeredSeeds.size < need && next < order.length && !this.#stopping) {
        const seed = order[next++]!;
        try {
          await this.#registerWith(seed);
          return;
        } catch (error) {
          failures.push(`${formatAddress(seed)} ${(error as Error).message}`);
          this.#log.warn("seed {seed} unavailable: {why}", {
            seed: formatAddress(seed),
            why: (error as Error).message,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(need, order.length) }, worker));
    if (this.#registeredSeeds.size < need) {
      throw new JoinError(
        `registered with ${this.#registeredSeeds.size} of ${seeds.length} seeds, need ${need}: ${
          failures.join(", ")
        }`,
      );
    }
    this.#log.info("joined through {count} seeds", {
      count: this.#registeredSeeds.size,
      seeds: [...this.#registeredSeeds],
      known: this.#known.size,
    });
    if (this.#known.size === 0) this.#log.info("first peer of the network: waiting for others to connect");
    // The lists just received are fresh: no need to ask again before the next overlay check.
    this.#lastRefresh = this.#now();
  }

  /** Connects to a seed, registers and merges its Peer List. Throws with a few words on failure. */
  async #registerWith(seed: Address): Promise<void> {
    const key = formatAddress(seed);
    const conn = await this.#endpoint!.connect(seed, this.settings.seedTimeout);
    this.#seedOf.set(conn, key);
    this.#send(conn, { type: "get_peer_list", version: PROTOCOL_VERSION, addr: this.#self });
    await this.#awaitFirst(conn, this.settings.seedTimeout, (reply) => {
      if (reply?.type === "refused") throw new Error(`refused: ${reply.reason}`);
      if (reply?.type !== "peer_list") {
        conn.close(reply ? `expected peer_list, got ${reply.type}` : conn.closeReason);
        throw new Error(reply ? `answered ${reply.type}` : conn.closeReason ?? "closed");
      }
      this.#registeredSeeds.add(key);
      this.#seedLinks.set(key, conn);
      this.#mergePeers(reply.peers);
    });
  }

  /**
   * Waits for the first message on `conn` and hands it to `handle` synchronously, in
   * the read loop, so that the frames right behind it already find the new state.
   * `handle` gets undefined if the connection closes or `timeoutMs` passes first.
   */
  #awaitFirst<T>(
    conn: Connection,
    timeoutMs: number,
    handle: (message: Message | undefined) => T,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = this.#clock.setTimer(() => conn.close("timed out"), timeoutMs);
      this.#waiters.set(conn, (message) => {
        this.#clock.clearTimer(timer);
        this.#waiters.delete(conn);
        try {
          resolve(handle(message));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  #mergePeers(peers: string[]): void {
    for (const peer of peers) if (peer !== this.#self) this.#known.add(peer);
  }

  /** Sends a Get Peer List to every registered seed (reconnecting where needed); answers arrive as events. */
  #refreshFromSeeds(): void {
    this.#lastRefresh = this.#now();
    for (const seed of this.#registeredSeeds) {
      const link = this.#seedLinks.get(seed);
      if (link && !link.isClosed) {
        this.#send(link, { type: "get_peer_list", version: PROTOCOL_VERSION, addr: this.#self });
      } else this.#reconnectSeed(seed);
    }
  }

  /** Registers again with a seed whose connection closed; failures are logged. */
  #reconnectSeed(seed: string): Promise<Connection | undefined> {
    if (this.#connectingSeeds.has(seed)) return Promise.resolve(undefined);
    this.#connectingSeeds.add(seed);
    return this.#endpoint!.track((async () => {
      try {
        await this.#registerWith(parseAddress(seed));
        this.#fill();
        return this.#seedLinks.get(seed);
      } catch (error) {
        this.#log.info("seed {seed} unavailable: {why}", { seed, why: (error as Error).message });
        return undefined;
      } finally {
        this.#connectingSeeds.delete(seed);
      }
    })());
  }

  /**
   * Registers again with every configured seed: renews the registrations this peer
   * has (healing a removal it never heard of: the seed checks it and lists it again)
   * and adds the seeds it is not registered with yet. Joining needs a majority; being
   * known to every seed that is up lets every seed hear this peer's death reports.
   */
  #renewRegistrations(): void {
    for (const seed of this.settings.seeds) {
      const key = formatAddress(seed);
      const link = this.#seedLinks.get(key);
      if (link && !link.isClosed) {
        this.#send(link, { type: "get_peer_list", version: PROTOCOL_VERSION, addr: this.#self });
      } else this.#reconnectSeed(key);
    }
  }

  // ---- overlay ----------------------------------------------------------------

  get #outbound(): number {
    let count = 0;
    for (const n of this.#neighbours.values()) if (n.direction === "outbound") count++;
    return count;
  }

  /** Opens connections until `degree` outbound neighbours (or candidates run out). Returns the attempts. */
  #fill(): Promise<void>[] {
    if (this.#stopping || this.#endpoint === undefined) return [];
    const want = this.settings.degree - this.#outbound - this.#pendingOut.size;
    if (want <= 0) {
      this.#shortRetryMs = 0;
      return [];
    }
    const now = this.#now();
    const candidates = [...this.#known].filter((addr) =>
      !this.#neighbours.has(addr) && !this.#pendingOut.has(addr) && (this.#backoff.get(addr) ?? 0) <= now
    );
    if (candidates.length >= want) this.#shortRetryMs = 0;
    else {
      if (now - this.#lastRefresh >= this.settings.overlayInterval) this.#refreshFromSeeds();
      this.#retryShort();
    }
    return sample(candidates, want, this.#random).map((addr) => this.#connectPeer(addr));
  }

  /**
   * A peer that knows too few candidates (one of the first to join, or one that lost
   * neighbours in a small network) asks its seeds again soon rather than at its next
   * overlay round: after overlayInterval / 20, then twice as long each time, while that
   * is shorter than an overlay round. The answer fills again; once a fill finds enough
   * candidates, the next shortage starts from the short wait again.
   */
  #retryShort(): void {
    if (this.#shortRetryArmed || this.#scheduler === undefined) return;
    const first = this.settings.overlayInterval / 20;
    const wait = Math.max(first, this.#shortRetryMs * 2);
    if (wait >= this.settings.overlayInterval) return;
    this.#shortRetryMs = wait;
    this.#shortRetryArmed = true;
    this.#scheduler.after(wait, () => {
      this.#shortRetryArmed = false;
      if (this.#stopping || this.settings.degree - this.#outbound - this.#pendingOut.size <= 0) return;
      this.#refreshFromSeeds();
    });
  }

  #connectPeer(addr: string): Promise<void> {
    this.#pendingOut.add(addr);
    return this.#endpoint!.track((async () => {
      let conn: Connection | undefined;
      try {
        conn = await this.#endpoint!.connect(parseAddress(addr), this.settings.connectTimeout);
        const opened = conn;
        this.#send(opened, { type: "peer_request", version: PROTOCOL_VERSION, addr: this.#self });
        await this.#awaitFirst(opened, this.settings.connectTimeout, (reply) => {
          if (reply?.type === "refused") throw new Error(`refused: ${reply.reason}`);
          if (reply?.type !== "peer_reply") {
            throw new Error(reply ? `answered ${reply.type}` : opened.closeReason ?? "closed");
          }
          this.#onPeerReply(opened, addr, reply);
        });
      } catch (error) {
        conn?.close("peer request failed");
        const why = (error as Error).message;
        this.#log.info("could not connect to {addr}: {why}", { addr, why });
        this.#backoff.set(addr, this.#now() + this.settings.overlayInterval);
        if (why === "refused") this.#known.delete(addr);
      } finally {
        this.#pendingOut.delete(addr);
        // Failed or declined (the other peer full, or dialling this one at the same moment):
        // try another candidate now rather than at the next overlay round.
        if (!this.#stopping && (conn === undefined || this.#neighbours.get(addr)?.conn !== conn)) {
          this.#scheduler?.after(0, () => this.#fill());
        }
      }
    })());
  }

  #onPeerReply(conn: Connection, addr: string, reply: PeerReply): void {
    if (reply.addr !== addr) throw new Error(`answered as ${reply.addr}`);
    if (!reply.accepted) {
      this.#log.info("peer {addr} declined: {reason}", { addr, reason: reply.reason ?? "no reason" });
      this.#backoff.set(addr, this.#now() + this.settings.overlayInterval);
      conn.close("declined");
      return;
    }
    if (this.#neighbours.has(addr) || this.#stopping) {
      conn.close("duplicate");
      return;
    }
    this.#addNeighbour(addr, conn, "outbound");
  }

  #onPeerRequest(conn: Connection, addr: string, version: number): void {
    let reason: string | undefined;
    let inbound = 0;
    for (const n of this.#neighbours.values()) if (n.direction === "inbound") inbound++;
    const otherVersion = versionRefusal(version);
    if (otherVersion !== undefined) reason = otherVersion;
    else if (addr === this.#self) reason = "that is my own address";
    else if (!hostMatches(conn.remoteAddress, addr)) reason = "announced address is not on your host";
    else if (this.#neighbours.has(addr)) reason = "already neighbours";
    // Both dialled each other at once: the connection opened by the smaller address wins.
    else if (this.#pendingOut.has(addr) && this.#self < addr) reason = "simultaneous connect; mine wins";
    else if (inbound >= this.settings.maxInbound) reason = `full: ${inbound} inbound neighbours`;
    if (reason !== undefined) {
      this.#log.info("declined peer request from {addr}: {reason}", { addr, reason });
      this.#send(conn, { type: "peer_reply", accepted: false, addr: this.#self, reason });
      conn.flush().then(() => conn.close("declined"));
      return;
    }
    this.#send(conn, { type: "peer_reply", accepted: true, addr: this.#self });
    this.#addNeighbour(addr, conn, "inbound");
  }

  #addNeighbour(addr: string, conn: Connection, direction: Direction): void {
    const neighbour: Neighbour = {
      addr,
      direction,
      since: this.#now(),
      rttMs: undefined,
      misses: 0,
      conn,
      answeredTs: -1,
      removedFor: undefined,
      // A new link pushes until a repeat over it shows the tree reaches the far end another way.
      gossip: "push",
      knows: new Set(),
      holds: undefined,
      confirming: false,
    };
    this.#neighbours.set(addr, neighbour);
    this.#neighbourList = [...this.#neighbours.values()];
    this.#byConn.set(conn, neighbour);
    this.#known.add(addr);
    this.#log.info("connected to {addr} ({direction})", {
      addr,
      direction,
      neighbours: this.#neighbours.size,
    });
    this.events.emit("neighbourAdded", { addr, direction });
    // Both ends catch up on what was gossiped before this link existed.
    const have = this.#store.recentIds(this.#limits.maxIds);
    this.#send(conn, { type: "get_data", have });
  }

  /** Closes a neighbour's connection on purpose; the close is then not treated as a loss. */
  #dropNeighbour(neighbour: Neighbour, reason: string): void {
    neighbour.removedFor = reason;
    neighbour.conn.close(reason);
  }

  // ---- liveliness ---------------------------------------------------------------

  /**
   * Probes the neighbours this peer has not heard from for half an interval. Any frame
   * proves life, so a busy link (gossip, announcements, the other end's probes) carries
   * no probes of its own, and the probe load falls as the gossip load rises.
   */
  #probeNeighbours(): void {
    const ts = this.#now();
    const heardSince = ts - this.settings.livelinessInterval / 2;
    const probed: Neighbour[] = [];
    let frame: Uint8Array | undefined;
    for (const n of this.#neighbours.values()) {
      if (n.conn.lastByteAt >= heardSince) {
        n.misses = 0;
        continue;
      }
      frame ??= encodeFrame({ type: "liveliness", ts }, this.settings.maxFrameBytes, this.#endpoint!.pool);
      n.conn.sendFrame(frame, { urgent: true });
      probed.push(n);
    }
    if (probed.length === 0) return;
    if (this.#debug) {
      this.#log.debug("sent liveliness to {count} of {neighbours} neighbours", {
        count: probed.length,
        neighbours: this.#neighbours.size,
        ts,
      });
    }
    const judged = this.#neighbours.size;
    const timeout = this.#probeTimeout(ts);
    this.#scheduler!.after(timeout, () => this.#checkProbes(ts, timeout, probed, judged));
  }

  /**
   * Judges the probes of round `ts`, `timeoutMs` after it (the list of neighbours probed
   * in it; the round may overlap the next one when probeTimeout equals
   * livelinessInterval). `judged` counts every neighbour of the round: the ones not
   * probed were heard from just before it.
   */
  #checkProbes(ts: number, timeoutMs: number, probed: Neighbour[], judged: number): void {
    const current = probed.filter((n) => this.#neighbours.get(n.addr) === n);
    // Under load a reply can queue behind gossip: any frame since the probe proves life.
    const silent = current.filter((n) => n.answeredTs < ts && n.conn.lastByteAt < ts);
    for (const n of current) if (n.answeredTs >= ts || n.conn.lastByteAt >= ts) n.misses = 0;
    const verdict = judgeRound({
      probed: judged,
      silent: silent.length,
      lateByMs: this.#now() - ts - timeoutMs,
      probeTimeoutMs: timeoutMs,
      inconclusiveBefore: this.#inconclusiveRounds,
      missesLimit: this.settings.livelinessMisses,
    });
    if (!verdict.counts) {
      this.#inconclusiveRounds++;
      this.#log.info("liveliness round not counted: {why}", { why: verdict.why });
      return;
    }
    this.#inconclusiveRounds = 0;
    const failing: Neighbour[] = [];
    for (const n of silent) {
      n.misses++;
      this.#log.info("liveliness probe to {addr} unanswered ({misses} of {limit})", {
        addr: n.addr,
        misses: n.misses,
        limit: this.settings.livelinessMisses,
      });
      if (n.misses >= this.settings.livelinessMisses) failing.push(n);
    }
    if (failing.length > 0) this.#confirmDead(failing);
  }

  /**
   * Declares neighbours dead after their last missed probe only if a probe on a fresh
   * connection fails too: a reply can sit behind megabytes of gossip in a busy link's
   * socket buffers, but a fresh connection skips them. This node probes itself at the
   * same moment; if it cannot answer itself, it is the one too slow to hear them. Either
   * way a neighbour that is spared keeps its misses one short of the limit.
   */
  #confirmDead(failing: Neighbour[]): void {
    const limit = this.settings.livelinessMisses;
    for (const n of failing) {
      if (n.confirming) continue;
      n.confirming = true;
      const started = this.#now();
      this.#prober!.probeWithControl(n.addr, this.address, this.#directProbeTimeout()).then((result) => {
        n.confirming = false;
        if (this.#stopping) return;
        if (this.#neighbours.get(n.addr) !== n || n.misses < limit) return;
        // A late reply, or any frame, on the old link during the direct probe proves life too.
        if (n.conn.lastByteAt >= started) {
          n.misses = 0;
          return;
        }
        if (!result.alive && !result.inconclusive) {
          return this.#declareDead(n, `missed ${limit} liveliness probes; direct probe: ${result.reason}`);
        }
        if (result.alive) this.#slowRtt.note(result.rttMs, this.#now());
        n.misses = limit - 1;
        this.#log.info("not declaring {addr} dead after {misses} missed probes: {why}", {
          addr: n.addr,
          misses: limit,
          why: result.alive ? `it answered a direct probe in ${result.rttMs} ms` : result.reason,
        });
      });
    }
  }

  /**
   * Milliseconds a direct probe of a suspect neighbour may take: a whole liveliness
   * interval, at least twice the probe timeout. It comes after misses that already took
   * that long, a killed peer refuses it at once, and a busy node accepts new
   * connections last, after the traffic of its open ones.
   */
  #directProbeTimeout(): number {
    return Math.max(this.settings.livelinessInterval, 2 * this.#probeTimeout(this.#now()));
  }

  /**
   * Milliseconds a probe waits for its reply: probeTimeout, or twice the slowest recent
   * round trip if that is longer (halving every `TUNING.slowRttHalfLife` liveliness
   * intervals), at most livelinessInterval × livelinessMisses. Like TCP's retransmission
   * timeout it follows what this node sees: when it, or the process it shares, is too
   * busy to read its sockets promptly, every answer comes late, and a fixed timeout
   * would count live neighbours as silent.
   */
  #probeTimeout(now: number): number {
    const s = this.settings;
    const slow = this.#slowRtt.valueAt(now);
    return Math.round(
      Math.min(Math.max(s.probeTimeout, 2 * slow), s.livelinessInterval * s.livelinessMisses),
    );
  }

  #declareDead(neighbour: Neighbour, why: string): void {
    this.#dropNeighbour(neighbour, `dead: ${why}`);
    this.#reportDead(neighbour.addr, why);
  }

  /** Tells every registered seed that `addr` is dead, and forgets it as a candidate. */
  #reportDead(addr: string, why: string): void {
    this.#known.delete(addr);
    // Seeds may list it until they have confirmed its death themselves: do not dial it meanwhile.
    const s = this.settings;
    this.#backoff.set(addr, this.#now() + 2 * s.livelinessMisses * s.livelinessInterval);
    this.#log.warn("neighbour {addr} is dead: {why}; reporting to seeds", { addr, why });
    const report: Message = { type: "death", addr, reason: "dead", reporter: this.#self };
    for (const seed of this.#registeredSeeds) {
      const link = this.#seedLinks.get(seed);
      if (link && !link.isClosed) this.#send(link, report);
      else this.#reconnectSeed(seed).then((conn) => conn && this.#send(conn, report));
    }
    this.events.emit("deathReported", { addr, why });
    this.#scheduler?.after(0, () => this.#fill());
  }

  /** A neighbour's connection dropped without a goodbye: probe it directly before calling it dead. */
  #suspect(addr: string, reason: string): void {
    this.#log.info("lost connection to neighbour {addr}: {reason}; probing", { addr, reason });
    this.#prober!.probeWithControl(addr, this.address, this.#directProbeTimeout()).then((result) => {
      if (this.#stopping) return;
      if (result.alive) {
        this.#log.info("neighbour {addr} still answers probes", { addr, rttMs: result.rttMs });
      } else if (result.inconclusive) {
        this.#log.info("not reporting {addr}: {why}", { addr, why: result.reason });
      } else this.#reportDead(addr, `connection lost and probe failed: ${result.reason}`);
      this.#fill();
    });
  }

  // ---- gossip -------------------------------------------------------------------

  #gossipTick(): void {
    if (this.#created >= this.settings.gossipCount) return;
    this.#created++;
    this.publish(`${this.#clock.wallNow()}:${this.#address!.host}:${this.#address!.port}:${this.#created}`);
  }

  /** True for a gossip frame whose id this peer has seen: it is dropped before any parsing. */
  #isRepeat(body: Uint8Array, conn: Connection): boolean {
    const id = peekGossipId(body);
    if (id === undefined || !this.#store.has(id)) return false;
    this.#onRepeat(id, this.#byConn.get(conn), peekGossipHops(body), peekGossipOffTree(body));
    return true;
  }

  /**
   * A message arrived again, `hops` links from its origin by this path. In tree mode
   * two pushing links that bring the same message close a loop, and one of them is
   * pruned: told to announce rather than push, and this peer does the same towards it.
   * The link kept is the one on the shorter path, judged the same way at both of its
   * ends, so the tree converges to short paths whatever order copies arrive in:
   * - the repeat came by a shorter path: its link stays, the first copy's link goes;
   * - the sender would reach the origin sooner through this peer: the link stays (the
   *   sender prunes its own first link, by the rule above);
   * - otherwise the repeat's link goes.
   * Not when the first copy was fetched: then the push is the tree lagging; nor when
   * either copy came by no path of the tree (marked `offTree`): history served on a new
   * link (a newcomer catching up from all its neighbours at once would otherwise prune
   * its links for it and be left outside the tree), or a copy pushed over a link one end
   * had pruned (judged by it, two peers would cut the links each relies on, as each
   * thinks the other has a path it gave up).
   */
  #onRepeat(id: string, from: Neighbour | undefined, hops: number | undefined, offTree: boolean): void {
    this.#repeats++;
    if (this.#toAnnounce.length > 0) from?.knows.add(id);
    if (offTree || from === undefined || from.gossip !== "push" || this.settings.gossipMode !== "tree") {
      return;
    }
    const announcedAt = this.#fetched.get(id);
    if (announcedAt !== undefined) {
      this.#fetched.delete(id);
      // How late the tree runs: the message was fetched before its push arrived.
      const now = this.#now();
      this.#pushLag.note(now - announcedAt, now);
      return;
    }
    // Newer messages arrived since this one: with several under way, the peers around a
    // loop judge it by different messages and may cut two of its links at once, which
    // splits the tree. The loop costs a repeat per message until traffic is quiet again.
    if (id !== this.#newestId) return;
    const first = this.#store.get(id);
    if (first?.offTree) return;
    // The first copy came before this link existed: the message cannot have gone round a
    // loop through it. It is a newcomer passing on what it just caught up on (old news to
    // this peer), and pruning for it would leave the newcomer without a push link.
    if (first !== undefined && first.firstSeen <= from.since) return;
    const parent = first?.from === undefined ? undefined : this.#neighbours.get(first.from);
    // The first copy came over a link this peer had pruned already (its prune was still on
    // the way): that link is not part of the tree, so the repeat's link is.
    if (parent !== undefined && parent.gossip !== "push") return;
    if (hops !== undefined && first !== undefined) {
      if (hops < first.hops) {
        if (parent !== undefined && parent !== from) this.#prune(parent);
        return;
      }
      if (hops > first.hops + 2) return;
    }
    this.#prune(from);
  }

  /**
   * A push link is gone, so the push tree is cut here (a crash or a departure splits it
   * into as many parts as the lost peer had push links). Every announce link of this peer
   * turns to push at both ends at once, which joins the parts again within a round trip
   * instead of after an announcement and a fetch; the loops this closes are pruned by the
   * repeats of the next message.
   */
  #rejoinTree(): void {
    this.#pushLinkLostAt = this.#now();
    if (this.settings.gossipMode !== "tree") return;
    for (const n of this.#neighbourList) {
      if (n.gossip === "announce") this.#graft(n);
    }
  }

  /** Turns a link to pushing at both ends: this one at once, the other on the graft. */
  #graft(neighbour: Neighbour): void {
    this.#pushTo(neighbour);
    this.#gossipControl.grafts++;
    this.#send(neighbour.conn, { type: "graft" });
  }

  #prune(neighbour: Neighbour): void {
    neighbour.gossip = "announce";
    this.#gossipControl.prunes++;
    this.#send(neighbour.conn, { type: "prune" });
  }

  /** Stores, delivers and forwards a message seen for the first time; drops repeats. */
  #accept(message: GossipMessage, from: Neighbour | undefined): void {
    if (this.#store.has(message.id)) {
      this.#onRepeat(message.id, from, message.hops, message.offTree === true);
      return;
    }
    if (from !== undefined && messageId(message.origin, message.content) !== message.id) {
      this.#log.warn("closing {remote}: message id does not match its content", {
        remote: from.addr,
        id: message.id,
      });
      this.#endpoint!.strike(from.conn, "forged message id");
      this.#dropNeighbour(from, "forged message id");
      return;
    }
    const arrival = this.#missing.arrived(message.id);
    // Came by no path of the push tree: marked so by the sender, or pushed over a link this
    // peer had pruned already (its prune still on the way) and not asked for.
    const offTree = from !== undefined &&
      (message.offTree === true || (from.gossip !== "push" && arrival?.asked !== true));
    const now = this.#now();
    const stored: StoredMessage = {
      id: message.id,
      origin: message.origin,
      content: message.content,
      created: message.created,
      firstSeen: now,
      seenAt: this.#clock.wallNow(),
      from: from?.addr,
      hops: from === undefined ? 0 : message.hops,
      offTree,
    };
    this.#store.add(stored);
    this.#newestId = stored.id;
    if (this.#info) {
      this.#log.info("new message {id} from {from}: {content}", {
        id: message.id,
        from: from?.addr ?? "self",
        content: message.content.length > 80 ? message.content.slice(0, 80) + "…" : message.content,
      });
    }
    if (offTree) {
      // Neither a late push along the tree nor an answer to an ask.
    } else if (from?.gossip === "push") {
      // Pushed after its announcement: the tree runs late by that much, so asks wait longer.
      if (arrival !== undefined) this.#pushLag.note(now - arrival.announcedAt, now);
    } else if (arrival?.asked) {
      // The first copy answers an ask for an announced message.
      this.#noteFetched(message.id, arrival.announcedAt);
      if (from !== undefined && this.settings.gossipMode === "tree") {
        // The push tree did not bring it even with the extra wait a busy tree gets: it no
        // longer reaches this peer from that message's origin, so the link that answered
        // pushes from now on.
        this.#graft(from);
      }
    }
    this.events.emit("message", stored);
    let frame: Uint8Array | undefined;
    let pushed = 0;
    let announced = 0;
    const neighbours = this.#neighbourList;
    for (let i = 0; i < neighbours.length; i++) {
      const n = neighbours[i]!;
      if (n === from) continue;
      // History the neighbour said it has: a copy would only be a repeat.
      if (offTree && n.holds !== undefined && n.holds.has(stored.id)) continue;
      if (n.gossip === "push") {
        frame ??= encodeGossip(stored, offTree, this.settings.maxFrameBytes, this.#endpoint!.pool);
        if (n.conn.sendFrame(frame)) pushed++;
      } else {
        announced++;
      }
    }
    if (announced > 0) {
      this.#toAnnounce.push(stored);
      if (this.#toAnnounce.length >= this.#limits.maxIds) this.#announceAll();
      else this.#armAnnounce();
    }
    if (this.#debug) {
      this.#log.debug("forwarded message {id}: pushed to {pushed}, to announce to {announced} neighbours", {
        id: message.id,
        pushed,
        announced,
      });
    }
  }

  /** Milliseconds the first ask for a missing message waits beyond fetchTimeout (see {@link firstAskAllowance}). */
  #fetchAllowance(now: number): number {
    return firstAskAllowance({
      now,
      fetchTimeout: this.settings.fetchTimeout,
      pushLinkLostAt: this.#pushLinkLostAt,
      pushLag: this.#pushLag.valueAt(now),
      pushLinks: this.#neighbourList.some((n) => n.gossip === "push"),
    });
  }

  /** Remembers (boundedly) that a message's first copy was fetched, not pushed. */
  #noteFetched(id: string, announcedAt: number): void {
    if (this.#fetched.size >= this.#limits.maxIds) {
      this.#fetched.delete(this.#fetched.keys().next().value!);
    }
    this.#fetched.set(id, announcedAt);
  }

  /** Schedules the next flush of pending announcements, 0.5 to 1.5 announceInterval away. */
  #armAnnounce(): void {
    if (this.#announceArmed || this.#scheduler === undefined) return;
    this.#announceArmed = true;
    const delay = this.settings.announceInterval * (0.5 + this.#random());
    this.#scheduler.after(delay, () => {
      this.#announceArmed = false;
      this.#announceAll();
    });
  }

  /** Turns a link to pushing; what was gathered to announce on it goes out first. */
  #pushTo(neighbour: Neighbour): void {
    if (neighbour.gossip === "announce") this.#announceTo(neighbour, this.#toAnnounce);
    neighbour.gossip = "push";
  }

  /** One announcement round: the messages gathered since the last one go to every neighbour not pushed to. */
  #announceAll(): void {
    const batch = this.#toAnnounce;
    this.#toAnnounce = [];
    for (const n of this.#neighbours.values()) {
      if (n.gossip === "announce") this.#announceTo(n, batch);
      if (n.knows.size > 0) n.knows.clear();
    }
  }

  /** Announces to `neighbour` the messages of `batch` that it did not bring or announce itself. */
  #announceTo(neighbour: Neighbour, batch: readonly StoredMessage[]): void {
    const ids: string[] = [];
    const hops: number[] = [];
    for (const m of batch) {
      if (m.from === neighbour.addr || neighbour.knows.has(m.id)) continue;
      ids.push(m.id);
      hops.push(m.hops);
    }
    if (ids.length === 0) return;
    this.#gossipControl.announcements++;
    this.#send(neighbour.conn, { type: "ihave", ids, hops });
  }

  /**
   * A neighbour announced messages: it need not hear of them from this peer, and the
   * ones this peer lacks wait fetchTimeout for the push tree.
   */
  #onAnnounce(neighbour: Neighbour, ids: string[], hops: number[]): void {
    const gathering = this.#toAnnounce.length > 0;
    const lacking: string[] = [];
    const lackingHops: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (this.#store.has(id)) {
        if (gathering) neighbour.knows.add(id);
        continue;
      }
      lacking.push(id);
      lackingHops.push(hops[i]!);
    }
    if (lacking.length === 0) return;
    this.#missing.announced(lacking, lackingHops, neighbour.addr, this.#now());
    this.#armFetch();
  }

  #armFetch(): void {
    if (this.#fetchArmed || this.#scheduler === undefined) return;
    const now = this.#now();
    const next = this.#missing.nextDue(this.#fetchAllowance(now));
    if (next === undefined) return;
    this.#fetchArmed = true;
    // Checked again within fetchTimeout at the latest: a push link cut meanwhile ends the extra wait.
    this.#scheduler.after(Math.min(Math.max(0, next - now), this.settings.fetchTimeout), () => {
      this.#fetchArmed = false;
      this.#fetchMissing();
      this.#armFetch();
    });
  }

  /** Asks announcers for the messages the push tree has not brought in time. */
  #fetchMissing(): void {
    const now = this.#now();
    const isNeighbour = (addr: string) => this.#neighbours.has(addr);
    const { asks, givenUp } = this.#missing.takeDue(now, isNeighbour, this.#fetchAllowance(now));
    for (const [addr, ids] of asks) {
      this.#log.info("fetching {count} announced messages from {addr}: the push tree did not bring them", {
        addr,
        count: ids.length,
      });
      this.#gossipControl.fetches++;
      this.#send(this.#neighbours.get(addr)!.conn, {
        type: "get_data",
        ids: ids.slice(0, this.#limits.maxIds),
      });
    }
    if (givenUp > 0) {
      this.#log.warn("gave up on {count} announced messages: no announcer left to ask", { count: givenUp });
    }
  }

  #serveData(neighbour: Neighbour, request: GetData): void {
    const { catchUpLimit } = this.settings;
    const messages = request.ids
      ? request.ids.map((id) => this.#store.get(id)).filter((m) => m !== undefined).slice(0, catchUpLimit)
      : this.#store.missingFrom(request.have ?? [], catchUpLimit);
    // A catch-up (no ids) serves history; asked-for ids are messages under way that the tree did not bring.
    const offTree = request.ids === undefined;
    if (offTree && request.have !== undefined && request.have.length > 0 && neighbour.holds === undefined) {
      const holds = new Set<string>();
      for (const id of request.have) if (!this.#store.has(id)) holds.add(id);
      if (holds.size > 0) {
        neighbour.holds = holds;
        this.#scheduler?.after(this.settings.fetchTimeout, () => neighbour.holds = undefined);
      }
    }
    for (const m of messages) this.#send(neighbour.conn, forwardedGossip(m, offTree));
    this.#log.info("served get_data to {addr}: {count} messages", {
      addr: neighbour.addr,
      count: messages.length,
    });
  }

  // ---- dispatch -----------------------------------------------------------------

  #send(conn: Connection, message: Message, options?: SendOptions): void {
    if (this.#debug) {
      this.#log.debug("sent {type} to {remote}", { type: message.type, remote: conn.remote, message });
    }
    conn.send(message, options);
  }

  #onMessage(conn: Connection, message: Message): void {
    if (this.#debug) {
      this.#log.debug("received {type} from {remote}", { type: message.type, remote: conn.remote, message });
    }
    if (this.#prober!.accept(conn, message)) return;
    const waiter = this.#waiters.get(conn);
    if (waiter !== undefined) return waiter(message);
    const neighbour = this.#byConn.get(conn);
    if (neighbour !== undefined) return this.#fromNeighbour(neighbour, message);
    if (this.#seedOf.has(conn)) return this.#fromSeed(conn, message);
    switch (message.type) {
      case "peer_request":
        return this.#onPeerRequest(conn, message.addr, message.version);
      case "liveliness":
        // A probe from a seed or a peer checking on us: answer, then end the one-shot connection.
        this.#send(conn, { type: "liveliness_reply", ts: message.ts }, { urgent: true });
        conn.flush().then(() => conn.close("probe answered"));
        return;
      default:
        this.#reject(conn, `${message.type} before peer_request`);
    }
  }

  #fromSeed(conn: Connection, message: Message): void {
    switch (message.type) {
      case "peer_list":
        this.#mergePeers(message.peers);
        this.#fill();
        return;
      case "liveliness":
        this.#send(conn, { type: "liveliness_reply", ts: message.ts }, { urgent: true });
        return;
      case "refused":
        this.#log.warn("seed {seed} refused this peer: {reason}", {
          seed: conn.remote,
          reason: message.reason,
        });
        conn.close(`refused: ${message.reason}`);
        return;
      default:
        this.#reject(conn, `unexpected ${message.type} from a seed`);
    }
  }

  #fromNeighbour(neighbour: Neighbour, message: Message): void {
    switch (message.type) {
      case "message":
        return this.#accept(message, neighbour);
      case "liveliness":
        this.#send(neighbour.conn, { type: "liveliness_reply", ts: message.ts }, { urgent: true });
        return;
      case "liveliness_reply":
        // Echoes of probes this peer sent: newer than the last one, not from the future.
        if (message.ts > neighbour.answeredTs && message.ts <= this.#now()) {
          neighbour.answeredTs = message.ts;
          neighbour.misses = 0;
          neighbour.rttMs = this.#now() - message.ts;
          this.#slowRtt.note(neighbour.rttMs, this.#now());
        }
        return;
      case "get_data":
        return this.#serveData(neighbour, message);
      case "ihave":
        return this.#onAnnounce(neighbour, message.ids, message.hops);
      case "graft":
        if (neighbour.gossip !== "push") {
          this.#log.info("grafted by {addr}: pushing to it again", { addr: neighbour.addr });
        }
        this.#pushTo(neighbour);
        return;
      case "prune":
        // The neighbour found a shorter path; this end has no proof of one and watches for a cut.
        if (this.settings.gossipMode === "tree" && neighbour.gossip === "push") {
          neighbour.gossip = "announce";
          this.#pushLinkLostAt = this.#now();
        }
        return;
      case "death":
        if (message.reason === "leaving" && message.addr === neighbour.addr) {
          this.#log.info("neighbour {addr} is leaving", { addr: neighbour.addr });
          this.#known.delete(neighbour.addr);
          this.#dropNeighbour(neighbour, "left");
          return;
        }
        return this.#reject(neighbour.conn, "death reports go to seeds");
      default:
        this.#reject(neighbour.conn, `unexpected ${message.type} from a neighbour`);
    }
  }

  #reject(conn: Connection, why: string): void {
    this.#log.warn("closing {remote}: {why}", { remote: conn.remote, why });
    this.#endpoint?.strike(conn, why);
    const neighbour = this.#byConn.get(conn);
    if (neighbour) this.#dropNeighbour(neighbour, why);
    else conn.close(why);
  }

  #onClose(conn: Connection): void {
    this.#waiters.get(conn)?.(undefined);
    const seed = this.#seedOf.get(conn);
    if (seed !== undefined) {
      this.#seedOf.delete(conn);
      if (this.#seedLinks.get(seed) === conn) this.#seedLinks.delete(seed);
      if (!this.#stopping) {
        this.#log.info("connection to seed {seed} closed: {reason}", { seed, reason: conn.closeReason });
      }
      return;
    }
    const neighbour = this.#byConn.get(conn);
    if (neighbour === undefined) return;
    this.#byConn.delete(conn);
    if (this.#neighbours.get(neighbour.addr) === neighbour) {
      this.#neighbours.delete(neighbour.addr);
      this.#neighbourList = [...this.#neighbours.values()];
    }
    if (neighbour.gossip === "push" && !this.#stopping) this.#rejoinTree();
    const reason = neighbour.removedFor ?? conn.closeReason ?? "closed";
    this.#log.info("connection to {addr} closed: {reason}", {
      addr: neighbour.addr,
      reason,
      neighbours: this.#neighbours.size,
    });
    this.events.emit("neighbourRemoved", { addr: neighbour.addr, reason });
    if (this.#stopping) return;
    if (neighbour.removedFor === undefined) this.#suspect(neighbour.addr, reason);
    else this.#fill();
  }

  // ---- lifecycle ------------------------------------------------------------------

  #startLoop(): void {
    const s = this.settings;
    const scheduler = new Scheduler({
      clock: this.#clock,
      onError: (error) => this.#log.error("scheduled task failed: {error}", { error }),
    });
    this.#scheduler = scheduler;
    scheduler.every(sweepInterval(s), () => {
      const now = this.#now();
      this.#endpoint!.sweep(now);
      this.#store.prune(now);
      this.#debug = this.#log.isEnabledFor("debug");
      this.#info = this.#log.isEnabledFor("info");
    });
    // Background rounds start at a random phase, so peers started together do not probe in step.
    const jittered = (ms: number) => ms * (0.5 + this.#random() / 2);
    scheduler.every(s.livelinessInterval, () => this.#probeNeighbours(), jittered(s.livelinessInterval));
    const renewEvery = s.livelinessInterval * s.livelinessMisses;
    scheduler.every(renewEvery, () => this.#renewRegistrations(), jittered(renewEvery));
    scheduler.every(s.overlayInterval, () => this.#fill(), jittered(s.overlayInterval));
    if (s.gossipCount > 0) scheduler.every(s.gossipInterval, () => this.#gossipTick());
  }

  async #shutdown(graceful: boolean): Promise<void> {
    this.#scheduler?.stop();
    const endpoint = this.#endpoint;
    if (endpoint === undefined) return;
    if (graceful) {
      const goodbye = encodeFrame(
        { type: "death", addr: this.#self, reason: "leaving", reporter: this.#self },
        this.settings.maxFrameBytes,
      );
      const conns = [...this.#seedLinks.values(), ...[...this.#neighbours.values()].map((n) => n.conn)];
      for (const conn of conns) conn.sendFrame(goodbye);
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(conns.map((conn) => conn.flush())),
        new Promise<void>((resolve) => timer = this.#clock.setTimer(resolve, 1000)),
      ]);
      this.#clock.clearTimer(timer!);
      this.#log.info("sent leaving notice to {seeds} seeds and {neighbours} neighbours", {
        seeds: this.#seedLinks.size,
        neighbours: this.#neighbours.size,
      });
    }
    await endpoint.close();
    this.#log.info(graceful ? "peer stopped" : "peer stopped without goodbye", {
      messages: this.#store.size,
    });
  }
}
