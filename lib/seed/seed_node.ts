/**
 * A seed: the first point of contact. It registers peers that ask it for peers,
 * answers with a sample of the others, and removes a peer that leaves or that it
 * confirms dead after a report (death_reports.ts).
 */

import { type Address, formatAddress, hostMatches } from "../wire/address.ts";
import type { Settings } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { Emitter } from "../util/events.ts";
import { fitReason, type GetPeerList, type Message, versionRefusal } from "../wire/messages.ts";
import { sample } from "../util/random.ts";
import { NodeCore } from "../node/node_core.ts";
import { DeathReports, type RemovalReason } from "./death_reports.ts";
import { Contact } from "./contact.ts";
import { SavedRegistry } from "./saved_registry.ts";
import type { Member, Registration, SeedEvents, SeedNodeOptions, SeedStats } from "./seed_types.ts";

export type { Member, RemovalReason, SeedEvents, SeedNodeOptions, SeedStats };

/** Removals a seed remembers for its view of the network. */
const RECENT_REMOVALS = 50;

export class SeedNode {
  readonly settings: Settings;
  readonly events: Emitter<SeedEvents> = new Emitter();
  readonly #core: NodeCore;
  readonly #peers = new Map<string, Registration>();
  /** The peer address each connection registered, once it has. */
  readonly #registeredBy = new WeakMap<Connection, string>();
  /** Connections whose announced address is being checked before registration. */
  readonly #checking = new Set<Connection>();
  readonly #reports: DeathReports;
  readonly #contact: Contact;
  /** Registrations in the data directory; undefined without one. */
  readonly #saved: SavedRegistry | undefined;
  #stopping: Promise<void> | undefined;
  #registered = 0;
  readonly #removed: Record<RemovalReason, number> = { leaving: 0, dead: 0, banned: 0 };
  readonly #recentRemovals: { addr: string; reason: RemovalReason }[] = [];

  constructor(options: SeedNodeOptions = {}) {
    this.#core = new NodeCore("seed", options, 0);
    this.settings = this.#core.settings;
    const contact = this.#contact = new Contact(this.#core);
    this.#reports = new DeathReports(this.#core, {
      has: (addr) => this.#peers.has(addr),
      connectionOf: (addr) => this.#peers.get(addr)?.conn,
      idOf: (addr) => this.#peers.get(addr)?.id,
      remove: (addr, reason, reporter) => this.#remove(addr, reason, reporter),
      refused: (addr, reporter, why) => this.events.emit("reportRejected", { addr, reporter, why }),
      contactOf: (addr) => contact.record(this.#peers.get(addr)?.conn),
      get silenceMs() {
        return contact.silenceMs;
      },
    });
    this.#saved = this.#core.database && new SavedRegistry(this.#core, this.#core.database, {
      has: (addr) => this.#peers.has(addr),
      list: (addr, at, id) => {
        const links = { neighbours: [], push: [] };
        this.#peers.set(addr, { addr, id, since: this.#core.clock.now(), at, conn: undefined, links });
        this.events.emit("registered", { addr });
      },
    });
  }

  /** The address the seed listens on; set by {@link start}. */
  get address(): Address {
    return this.#core.address("SeedNode.address");
  }

  /** The seed's node id. */
  get id(): string {
    return this.#core.proofs.id;
  }

  /** `host:port` of the seed. */
  get label(): string {
    return formatAddress(this.address);
  }

  /** The active peers, by listening address. */
  peers(): string[] {
    return [...this.#peers.keys()];
  }

  /** The active peers with their registration times, oldest first. */
  members(): Member[] {
    return [...this.#peers.values()].map((r) => ({ addr: r.addr, id: r.id, registeredAt: r.at, ...r.links }));
  }

  /** The latest peers removed (at most a few dozen), oldest first, unless registered again since. */
  recentRemovals(): { addr: string; reason: RemovalReason }[] {
    return this.#recentRemovals.filter((r) => !this.#peers.has(r.addr));
  }

  stats(): SeedStats {
    const core = this.#core;
    return {
      uptimeMs: core.uptimeMs(),
      startedAt: core.startedAt,
      peers: this.#peers.size,
      registered: this.#registered,
      removed: { ...this.#removed },
      reports: { ...this.#reports.counts },
      wire: core.endpoint.stats.snapshot(),
    };
  }

  /** Starts listening. Throws if the address is in use or not available. */
  async start(): Promise<Address> {
    const core = this.#core;
    if (core.started) throw new Error("SeedNode.start: already started");
    const address = await core.open({
      onMessage: (conn, message) => this.#onMessage(conn, message),
      onClose: (conn) => this.#onClose(conn),
    });
    core.everyJittered(this.settings.livelinessInterval, () => this.#contact.round());
    void this.#saved?.reverify();
    return address;
  }

  /** Closes every connection and stops. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#core.beginStop();
      await this.#core.close();
      this.#saved?.close();
      this.#core.log.info("seed stopped", { event: "node.stopped", peers: this.#peers.size });
    })();
    return this.#stopping;
  }

  #onMessage(conn: Connection, message: Message): void {
    const core = this.#core;
    core.received(conn, message);
    if (core.prober.accept(conn, message)) return;
    const registered = this.#registeredBy.get(conn);
    if (registered !== undefined) this.#contact.heard(conn, core.clock.now());
    switch (message.type) {
      case "get_peer_list": {
        const refusal = versionRefusal(message.version);
        if (refusal !== undefined) return this.#refuse(conn, refusal);
        return this.#register(conn, message, registered);
      }
      case "liveliness":
        return core.answerProbe(conn, message);
      case "challenge":
        // The opening of a probe this seed made, arrived before the probe waits on it.
        return;
      case "liveliness_reply":
        // An answer to this seed's keep-alive: noted above as contact.
        if (registered === undefined) core.reject(conn, "liveliness_reply before get_peer_list");
        return;
      case "death":
        if (registered === undefined) return core.reject(conn, "death before get_peer_list");
        return this.#reports.onReport(conn, registered, conn.auth.remoteId!, message);
      default:
        core.reject(conn, `unexpected ${message.type}`);
    }
  }

  /**
   * Tells a peer why this seed will not serve it, then closes; a strike only with `strike`
   * (a claim on another node's address): the peer can act on the other reasons.
   */
  #refuse(conn: Connection, why: string, strike = false): void {
    const core = this.#core;
    const reason = fitReason(why);
    core.log.warn("refused {remote}: {reason}", { event: "seed.refused_peer", remote: conn.remote, reason });
    if (strike) core.endpoint.strike(conn, reason);
    core.send(conn, { type: "refused", reason });
    conn.flush().then(() => conn.close(`refused: ${reason}`));
  }

  #register(conn: Connection, message: GetPeerList, registered: string | undefined): void {
    const core = this.#core;
    const { addr, node, nonce, sig } = message as Required<GetPeerList>;
    const links = { neighbours: message.neighbours ?? [], push: message.push ?? [] };
    if (registered !== undefined && registered !== addr) {
      return core.reject(conn, `connection registered ${registered} and now claims ${addr}`);
    }
    if (conn.auth.remoteId !== undefined && conn.auth.remoteId !== node) {
      return core.reject(conn, `connection proved node id ${conn.auth.remoteId} and now claims ${node}`);
    }
    if (!core.proofs.check(conn, "get_peer_list", node, addr, sig)) {
      return core.reject(conn, `bad signature for ${addr} from node id ${node}`);
    }
    conn.auth.remote ??= nonce;
    if (!hostMatches(conn.remoteAddress, addr)) {
      return this.#refuse(
        conn,
        `announced address ${addr} is not on the host this connection comes from, ${conn.remoteAddress.host}: announce one of that host (--advertise)`,
      );
    }
    if (this.#reports.isBanned(node)) {
      return this.#refuse(conn, `node id ${node} is banned for false death reports`);
    }
    const existing = this.#peers.get(addr);
    if (existing?.conn === conn) {
      existing.links = links;
      return this.#sendPeerList(conn, addr, { refresh: true });
    }
    if (existing !== undefined && existing.id !== node && this.#holds(existing)) {
      return this.#refuse(conn, `${addr} is registered to another node id whose connection is open`, true);
    }
    if (existing?.conn?.isClosed === false) return this.#checkOld(existing, conn, message);
    // A new registration: check that the announced address answers, as this node id, before listing it.
    if (this.#checking.has(conn)) return;
    this.#checking.add(conn);
    core.prober.probe(addr, this.settings.probeTimeout, 1, { identify: true }).then((result) => {
      this.#checking.delete(conn);
      if (conn.isClosed || core.stopping) return;
      if (!result.alive) {
        // Not a strike: an honest peer that is slow or restarting fails this too, and on one
        // machine every node shares the host that a ban would shut out.
        return this.#refuse(conn, `cannot reach announced address ${addr}: ${result.reason}`);
      }
      if (result.id !== node) {
        const answer = result.id === undefined ? "does not prove a node id" : "answers as another node id";
        return this.#refuse(conn, `${addr} ${answer}`, true);
      }
      const current = this.#peers.get(addr);
      if (current !== undefined && current.conn !== conn && this.#holds(current)) {
        return this.#refuse(conn, `${addr} is registered on another open connection; try again later`);
      }
      if (current !== undefined && current.conn !== conn) current.conn?.close("registered again elsewhere");
      if (current === undefined) {
        const at = core.clock.wallNow();
        this.#peers.set(addr, { addr, id: node, since: core.clock.now(), at, conn, links });
        this.#registered++;
        core.log.info("registered peer {peer}", {
          event: "seed.peer_registered",
          peer: addr,
          peers: this.#peers.size,
        });
        this.#saved?.registered({ addr, registeredAt: at, nodeId: node });
        this.events.emit("registered", { addr });
      } else {
        // The old holder is gone: the address answered as this node id.
        if (current.id !== node) this.#saved?.registered({ addr, registeredAt: current.at, nodeId: node });
        current.conn = conn;
        current.id = node;
        current.links = links;
      }
      this.#registeredBy.set(conn, addr);
      conn.kept = true;
      this.#contact.watch(conn);
      this.#sendPeerList(conn, addr);
    });
  }

  /**
   * A registration for an address registered on another connection that still looks
   * open: a peer whose link died silently (it saw no answer and connected again) and
   * whose old connection this seed has not seen close, or a second claimant. An old
   * connection this seed is out of contact with gives way at once; otherwise it is asked
   * with a probe: if anything arrives on it within probeTimeout the new one is refused
   * (try again later), if not the old one is closed and the new one registers.
   */
  #checkOld(existing: Registration, conn: Connection, message: GetPeerList): void {
    const core = this.#core;
    const old = existing.conn!;
    if (!this.#holds(existing)) return this.#moveRegistration(existing, conn, message);
    if (this.#checking.has(conn)) return;
    this.#checking.add(conn);
    const framesBefore = old.framesReceived;
    core.send(old, { type: "liveliness", ts: core.clock.now() }, { urgent: true });
    core.scheduler.after(this.settings.probeTimeout, () => {
      this.#checking.delete(conn);
      if (conn.isClosed || core.stopping) return;
      if (!old.isClosed && old.framesReceived > framesBefore) {
        return this.#refuse(
          conn,
          `${existing.addr} is registered on another open connection; try again later`,
        );
      }
      this.#moveRegistration(existing, conn, message);
    });
  }

  /** Closes a registration's silent connection and registers its address on `conn` instead. */
  #moveRegistration(existing: Registration, conn: Connection, message: GetPeerList): void {
    this.#core.log.info("closing the silent connection of {peer}: it registers again on a new one", {
      event: "seed.registration_moved",
      peer: existing.addr,
      remote: existing.conn?.remote,
    });
    existing.conn?.close("silent; registered again on a new connection");
    this.#register(conn, message, this.#registeredBy.get(conn));
  }

  /**
   * Whether a registration stays on its connection when the same address registers on
   * another: while that connection is open and this seed is in contact over it. One
   * that went silent (the peer was cut off, and its connection may never close) gives way.
   */
  #holds(registration: Registration): boolean {
    const conn = registration.conn;
    return conn?.isClosed === false && !this.#contact.isSilent(conn, this.#core.clock.now());
  }

  /** Answers a Get Peer List; logged at info for a new registration, at debug for a refresh. */
  #sendPeerList(conn: Connection, addr: string, { refresh = false } = {}): void {
    const core = this.#core;
    const others = [...this.#peers.keys()].filter((peer) => peer !== addr);
    const peers = sample(others, this.settings.peerListLimit, core.random);
    core.send(conn, {
      type: "peer_list",
      peers,
      node: core.proofs.id,
      sig: core.proofs.sign(conn, "peer_list"),
    });
    core.log[refresh ? "debug" : "info"]("sent peer_list to {peer}", {
      event: "seed.peer_list_sent",
      peer: addr,
      count: peers.length,
      of: others.length,
    });
  }

  #remove(addr: string, reason: RemovalReason, reporter: string): void {
    if (!this.#peers.delete(addr)) return;
    this.#saved?.removed(addr);
    this.#removed[reason]++;
    this.#recentRemovals.push({ addr, reason });
    if (this.#recentRemovals.length > RECENT_REMOVALS) this.#recentRemovals.shift();
    this.#core.log.info("removed peer {peer}: {reason}", {
      event: "seed.peer_removed",
      peer: addr,
      reason,
      reporter,
      peers: this.#peers.size,
    });
    this.events.emit("removed", { addr, reason, reporter });
  }

  #onClose(conn: Connection): void {
    const core = this.#core;
    const addr = this.#registeredBy.get(conn);
    this.#contact.closed(conn);
    // A registered peer's connection matters; probes (this seed's or others') are routine.
    core.log[addr === undefined ? "debug" : "info"]("connection closed {remote}: {reason}", {
      event: "connection.closed",
      remote: conn.remote,
      reason: conn.closeReason ?? "closed",
      ...(addr ? { peer: addr } : {}),
    });
    // A registered peer's connection dropping is a hint it died: if nothing listens at
    // its address any more, that is conclusive, and no neighbour needs to report it.
    if (addr === undefined || core.stopping || this.#peers.get(addr)?.conn !== conn) return;
    // Independent of any report being checked: a refusal here settles it either way.
    core.prober.probe(addr, this.settings.probeTimeout).then((result) => {
      if (core.stopping || result.alive || result.reason !== "connect refused") return;
      if (this.#peers.get(addr)?.conn !== conn) return;
      core.log.info("confirmed {peer} dead: its connection closed and {why}", {
        event: "seed.peer_confirmed_dead",
        peer: addr,
        why: result.reason,
      });
      this.#remove(addr, "dead", core.self);
    });
  }
}
