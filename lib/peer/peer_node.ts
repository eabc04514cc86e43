/**
 * A peer: joins through a majority of the seeds, keeps a few neighbours, probes
 * them, gossips messages to them exactly once each, lets late joiners catch up,
 * and tells the seeds when it leaves or finds a neighbour dead.
 *
 * This class is the facade: lifecycle, the public API and the dispatch of frames to
 * the parts, each with one job (docs/architecture.md): the seed client, the overlay,
 * the failure detector, the broadcast tree and catch-up, over the neighbour table.
 */

import type { Settings } from "../settings/config.ts";
import type { Address } from "../wire/address.ts";
import type { Connection } from "../net/connection.ts";
import { Emitter } from "../util/events.ts";
import type { Message } from "../wire/messages.ts";
import { NodeCore } from "../node/node_core.ts";
import { FirstReplies } from "../node/first_reply.ts";
import { sayGoodbye } from "./goodbye.ts";
import { MessageStore, type StoredMessage } from "./message_store.ts";
import { type Direction, type Neighbour, NeighbourTable } from "./neighbours.ts";
import { JoinError, SeedClient } from "./seed_client.ts";
import { Overlay } from "./overlay.ts";
import { FailureDetector } from "./failure_detector.ts";
import { BroadcastTree, type GossipControl } from "./broadcast_tree.ts";
import type { NeighbourInfo, PeerEvents, PeerNodeOptions, PeerTraffic } from "./peer_types.ts";
import { CatchUp } from "./catch_up.ts";
import { ContentTooLargeError, newMessage } from "./publish.ts";
import { type PeerStats, PeerView } from "./peer_view.ts";
import { logDelivery } from "./delivery_log.ts";
import { PeerPersistence } from "./persistence.ts";

export { ContentTooLargeError, JoinError };
export type {
  Direction,
  GossipControl,
  NeighbourInfo,
  PeerEvents,
  PeerNodeOptions,
  PeerStats,
  PeerTraffic,
  StoredMessage,
};

export class PeerNode {
  readonly settings: Settings;
  readonly events: Emitter<PeerEvents> = new Emitter();
  readonly #core: NodeCore;
  readonly #replies: FirstReplies;
  readonly #table = new NeighbourTable();
  readonly #store: MessageStore;
  readonly #seeds: SeedClient;
  readonly #overlay: Overlay;
  readonly #detector: FailureDetector;
  readonly #tree: BroadcastTree;
  readonly #catchUp: CatchUp;
  /** Messages and known peers in the data directory; undefined without one. */
  readonly #saved: PeerPersistence | undefined;
  /** Neighbours, messages, traffic and counters, read from the parts. */
  readonly view: PeerView;
  #created = 0;
  #stopping: Promise<void> | undefined;

  constructor(options: PeerNodeOptions = {}) {
    const core = this.#core = new NodeCore("peer", options, options.settings?.port ?? 0);
    this.settings = core.settings;
    this.#replies = new FirstReplies(core.clock);
    this.#store = new MessageStore(this.settings);
    this.#saved = core.database && new PeerPersistence(core, core.database, this.#store, {
      deliver: (message) => this.#deliver(message),
      candidates: () => this.#overlay.candidates(),
    });
    this.#overlay = new Overlay(
      core,
      this.#replies,
      this.#table,
      () => this.#seeds,
      (addr, conn, direction) => {
        this.#linkUp(addr, conn, direction);
      },
    );
    this.#seeds = new SeedClient(core, this.#replies, {
      learn: (peers) => this.#overlay.learn(peers),
      fill: () => void this.#overlay.fill(),
      links: () => this.view.links(),
    });
    this.#detector = new FailureDetector(core, {
      declareDead: (neighbour, why, refused) => {
        this.#table.drop(neighbour, `dead: ${why}`);
        this.#reportDead(neighbour.addr, why, refused);
      },
      dropUnresponsive: (neighbour, why) => {
        this.#table.drop(neighbour, `unresponsive: ${why}`);
        // Alive, so no seed is told; not behind a partition (it answers fresh probes), so no retries.
        this.#overlay.dead(neighbour.addr, true);
      },
      reportDead: (addr, why, refused) => this.#reportDead(addr, why, refused),
      fill: () => void this.#overlay.fill(),
    });
    this.#tree = new BroadcastTree(core, this.#store, {
      // With a data directory, once the message is committed.
      deliver: (message) => this.#saved ? this.#saved.deliver(message) : this.#deliver(message),
      forged: (neighbour, why) => {
        core.log.warn("closing {remote}: {why}", { event: "message.forged", remote: neighbour.addr, why });
        core.endpoint.strike(neighbour.conn, why);
        this.#table.drop(neighbour, why);
      },
      idAt: (addr) => this.#table.get(addr)?.conn.auth.remoteId,
      holds: (neighbour, id) => this.#catchUp.holds(neighbour, id),
    });
    this.#catchUp = new CatchUp(core, this.#store, () => this.#table.list);
    const parts = { core, table: this.#table, store: this.#store, overlay: this.#overlay, tree: this.#tree };
    this.view = new PeerView({ ...parts, seeds: () => this.#seeds, detector: this.#detector });
  }

  /** The address this peer listens on and announces; set by {@link start}. */
  get address(): Address {
    return this.#core.address("PeerNode.address");
  }

  /** The peer's node id: its public key, 43 characters of base64url. */
  get id(): string {
    return this.#core.proofs.id;
  }

  /** `host:port` of the peer. */
  get label(): string {
    return this.#core.self;
  }

  get isStopped(): boolean {
    return this.#stopping !== undefined;
  }

  /** Current neighbours, oldest first. */
  neighbours(): NeighbourInfo[] {
    return this.view.neighbours();
  }

  /** Stored messages in the order first seen. */
  messages(): StoredMessage[] {
    return this.view.messages();
  }

  /** What this peer has sent and received so far, how many gossip frames were repeats, and the tree's upkeep. */
  traffic(): PeerTraffic {
    return this.view.traffic();
  }

  /** Seeds this peer is registered with, `host:port` each. */
  registeredSeeds(): string[] {
    return this.view.registeredSeeds();
  }

  /**
   * Listens, registers with a majority of the seeds and connects to neighbours.
   * Throws {@link JoinError} (after releasing everything) when too few seeds answer.
   */
  async start(): Promise<Address> {
    const core = this.#core;
    if (core.started) throw new Error("PeerNode.start: already started");
    await core.open({
      onMessage: (conn, message) => this.#onMessage(conn, message),
      onClose: (conn) => this.#onClose(conn),
      skipFrame: (body, conn) => this.#tree.isRepeat(body, this.#table.byConn(conn)),
      sweep: (now) => this.#store.prune(now),
      onStrike: (conn, why) => {
        // Not a loss to probe: the link closes for what the neighbour sent.
        const neighbour = this.#table.byConn(conn);
        if (neighbour !== undefined) neighbour.removedFor ??= why;
        if (neighbour !== undefined) this.#overlay.offended(neighbour.addr);
      },
    });
    try {
      this.#saved?.restore();
      await this.#seeds.join();
    } catch (error) {
      // Leave the seeds that did register it, so none of them has to find it dead.
      this.#stopping ??= this.#shutdown(true, { quiet: true });
      await this.#stopping;
      throw error;
    }
    if (this.#stopping) throw new Error("PeerNode.start: stopped while starting");
    if (this.#overlay.known === 0) {
      core.log.info("first peer of the network: waiting for others to connect", { event: "peer.first" });
    }
    this.#overlay.learn(this.#saved?.knownPeers() ?? []);
    this.#startRounds();
    this.#seeds.registerWithRest();
    await Promise.all(this.#overlay.fill());
    return core.address("PeerNode.start");
  }

  /**
   * Leaves the network: tells seeds and neighbours (unless `graceful` is false, which
   * simulates a crash), closes every connection and timer. Safe to call twice.
   */
  stop({ graceful = true }: { graceful?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(graceful);
    return this.#stopping;
  }

  /** Publishes `content` as a new message from this peer and gossips it; throws {@link ContentTooLargeError} past maxContentBytes. */
  publish(content: string): StoredMessage {
    const core = this.#core;
    if (!core.started || this.#stopping) throw new Error("PeerNode.publish: the peer is not running");
    const message = newMessage(
      { origin: core.self, originId: core.proofs.id, content, created: core.clock.wallNow() },
      this.settings.maxContentBytes,
      this.settings.signMessages === "on" ? (bytes) => core.proofs.signMessage(bytes) : undefined,
    );
    this.#tree.accept(message, undefined);
    return this.#store.get(message.id)!;
  }

  /** Asks neighbour `addr` for the messages with these ids. Returns false if it is not a neighbour. */
  requestData(addr: string, ids: string[]): boolean {
    const neighbour = this.#table.get(addr);
    if (neighbour === undefined) return false;
    this.#tree.ask(neighbour, ids);
    return true;
  }

  // ---- links --------------------------------------------------------------------

  #linkUp(addr: string, conn: Connection, direction: Direction): void {
    const core = this.#core;
    const neighbour = this.#table.add(addr, conn, direction, core.clock.now());
    this.#overlay.learn([addr]);
    this.#tree.linkUp(neighbour);
    this.#detector.linkUp(neighbour);
    core.log.info("connected to {peer} ({direction})", {
      event: "neighbour.added",
      peer: addr,
      direction,
      neighbours: this.#table.size,
    });
    this.events.emit("neighbourAdded", { addr, direction });
    // Both ends catch up on what was gossiped before this link existed.
    this.#catchUp.linkUp(neighbour);
  }

  #linkDown(neighbour: Neighbour, conn: Connection): void {
    this.#tree.linkDown(neighbour);
    this.#detector.linkDown(neighbour);
    this.#catchUp.linkDown(neighbour);
    const reason = neighbour.removedFor ?? conn.closeReason ?? "closed";
    this.#core.log.info("connection to {peer} closed: {reason}", {
      event: "neighbour.removed",
      peer: neighbour.addr,
      reason,
      neighbours: this.#table.size,
    });
    this.events.emit("neighbourRemoved", { addr: neighbour.addr, reason });
    if (this.#core.stopping) return;
    if (neighbour.removedFor === undefined) this.#detector.suspect(neighbour.addr, reason);
    else this.#overlay.fill();
  }

  /** Tells every registered seed that `addr` is dead, and does not dial it again for a while. */
  #reportDead(addr: string, why: string, refused: boolean): void {
    this.#overlay.dead(addr, refused);
    this.#core.log.warn("neighbour {peer} is dead: {why}; reporting to seeds", {
      event: "neighbour.dead",
      peer: addr,
      why,
    });
    this.#seeds.reportDead(addr);
    this.events.emit("deathReported", { addr, why });
    this.#core.scheduler.after(0, () => this.#overlay.fill());
  }

  #deliver(message: StoredMessage): void {
    logDelivery(this.#core, message);
    this.events.emit("message", message);
  }

  // ---- dispatch -----------------------------------------------------------------

  #onMessage(conn: Connection, message: Message): void {
    const core = this.#core;
    core.received(conn, message);
    if (core.prober.accept(conn, message)) return;
    if (this.#replies.offer(conn, message)) return;
    const neighbour = this.#table.byConn(conn);
    if (neighbour !== undefined) return this.#fromNeighbour(neighbour, message);
    if (this.#seeds.owns(conn)) return this.#seeds.onMessage(conn, message);
    switch (message.type) {
      case "peer_request":
        return this.#overlay.onPeerRequest(conn, message);
      case "liveliness":
        // A probe from a seed or a peer checking on us: answer, then end the one-shot connection.
        core.answerProbe(conn, message);
        conn.flush().then(() => conn.close("probe answered"));
        return;
      default:
        core.reject(conn, `${message.type} before peer_request`);
    }
  }

  #fromNeighbour(neighbour: Neighbour, message: Message): void {
    switch (message.type) {
      case "message":
        return this.#tree.accept(message, neighbour);
      case "liveliness":
        return this.#core.answerProbe(neighbour.conn, message);
      case "liveliness_reply":
        return this.#detector.onReply(neighbour, message.ts);
      case "get_data":
        return this.#catchUp.serve(neighbour, message);
      case "page_end":
        return this.#catchUp.onPageEnd(neighbour, message.next);
      case "ihave":
        return this.#tree.onAnnounce(neighbour, message.ids, message.hops);
      case "graft":
        return this.#tree.onGraft(neighbour);
      case "prune":
        return this.#tree.onPrune(neighbour);
      case "death":
        return this.#overlay.onLeaving(neighbour, message);
      default:
        this.#core.reject(neighbour.conn, `unexpected ${message.type} from a neighbour`);
    }
  }

  #onClose(conn: Connection): void {
    this.#replies.closed(conn);
    this.#seeds.onClose(conn);
    const neighbour = this.#table.closed(conn);
    if (neighbour !== undefined) this.#linkDown(neighbour, conn);
  }

  // ---- lifecycle ------------------------------------------------------------------

  #startRounds(): void {
    const core = this.#core;
    const s = this.settings;
    core.everyJittered(s.livelinessInterval, () => this.#detector.probeRound());
    // Registrations are renewed once per detection window, so a removal the peer never heard of heals.
    core.everyJittered(s.livelinessInterval * s.livelinessMisses, () => this.#seeds.renew());
    core.everyJittered(s.overlayInterval, () => void this.#overlay.fill());
    if (s.gossipCount > 0) core.scheduler.every(s.gossipInterval, () => this.#gossipTick());
  }

  /** Publishes one of the messages a peer creates on its own (`gossipCount` of them). */
  #gossipTick(): void {
    if (this.#created >= this.settings.gossipCount) return;
    this.#created++;
    const { host, port } = this.address;
    this.publish(`${this.#core.clock.wallNow()}:${host}:${port}:${this.#created}`);
  }

  async #shutdown(graceful: boolean, { quiet = false } = {}): Promise<void> {
    const core = this.#core;
    core.beginStop();
    if (!core.started) return this.#saved?.close();
    if (graceful) await sayGoodbye(core, this.#seeds.links(), this.#table.list.map((n) => n.conn));
    await core.close();
    this.#saved?.close();
    if (!quiet) {
      core.log.info(graceful ? "peer stopped" : "peer stopped without goodbye", {
        event: "node.stopped",
        messages: this.#store.size,
      });
    }
  }
}
