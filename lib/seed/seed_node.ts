/**
 * A seed: the first point of contact. It registers peers that ask it for peers,
 * answers with a sample of the others, and removes a peer that leaves or that it
 * confirms dead after a report (death_reports.ts).
 */

import { type Address, formatAddress, hostMatches } from "../wire/address.ts";
import type { Settings } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { Emitter } from "../util/events.ts";
import { type GetPeerList, type Message, versionRefusal } from "../wire/messages.ts";
import { sample } from "../util/random.ts";
import { type CoreOptions, NodeCore } from "../node/node_core.ts";
import { DeathReports, type RemovalReason } from "./death_reports.ts";

export type { RemovalReason };

/** Options of a seed; its port defaults to 0 (a free one). */
export type SeedNodeOptions = CoreOptions;

export interface SeedEvents extends Record<string, unknown> {
  registered: { addr: string };
  removed: { addr: string; reason: RemovalReason; reporter: string };
  reportRejected: { addr: string; reporter: string; why: string };
}

interface Registration {
  readonly addr: string;
  /** The node id that registered the address, proved on `conn` and by the address itself. */
  id: string;
  readonly since: number;
  conn: Connection;
}

export class SeedNode {
  readonly settings: Settings;
  readonly events: Emitter<SeedEvents> = new Emitter();
  readonly #core: NodeCore;
  readonly #peers = new Map<string, Registration>();
  /** The peer address each connection registered, once it has. */
  readonly #registeredBy = new WeakMap<Connection, string>();
  /** The signature each connection's peer proved its node id with, so a renewal repeating it is not checked again. */
  readonly #proofs = new WeakMap<Connection, string>();
  /** This seed's signature for each connection, made once. */
  readonly #signed = new WeakMap<Connection, string>();
  /** Connections whose announced address is being checked before registration. */
  readonly #checking = new Set<Connection>();
  readonly #reports: DeathReports;
  #stopping: Promise<void> | undefined;

  constructor(options: SeedNodeOptions = {}) {
    this.#core = new NodeCore("seed", options, 0);
    this.settings = this.#core.settings;
    this.#reports = new DeathReports(this.#core, {
      has: (addr) => this.#peers.has(addr),
      connectionOf: (addr) => this.#peers.get(addr)?.conn,
      idOf: (addr) => this.#peers.get(addr)?.id,
      remove: (addr, reason, reporter) => this.#remove(addr, reason, reporter),
      refused: (addr, reporter, why) => this.events.emit("reportRejected", { addr, reporter, why }),
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

  /** The node id each active peer registered with, by listening address. */
  peerIds(): Map<string, string> {
    return new Map([...this.#peers.values()].map((r) => [r.addr, r.id]));
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
    if (this.#core.started) throw new Error("SeedNode.start: already started");
    return await this.#core.open({
      onMessage: (conn, message) => this.#onMessage(conn, message),
      onClose: (conn) => this.#onClose(conn),
    });
  }

  /** Closes every connection and stops. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#core.beginStop();
      await this.#core.close();
      this.#core.log.info("seed stopped", { event: "node.stopped", peers: this.#peers.size });
    })();
    return this.#stopping;
  }

  #onMessage(conn: Connection, message: Message): void {
    const core = this.#core;
    core.received(conn, message);
    if (core.prober.accept(conn, message)) return;
    const registered = this.#registeredBy.get(conn);
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
      case "death":
        if (registered === undefined) return core.reject(conn, "death before get_peer_list");
        return this.#reports.onReport(conn, registered, conn.auth.remoteId!, message);
      default:
        core.reject(conn, `unexpected ${message.type}`);
    }
  }

  /** Tells a peer why this seed will not serve it (a strike only if `strike`), then closes. */
  #refuse(conn: Connection, reason: string, { strike = false } = {}): void {
    const core = this.#core;
    core.log.warn("refused {remote}: {reason}", { event: "seed.refused_peer", remote: conn.remote, reason });
    if (strike) core.endpoint.strike(conn, reason);
    core.send(conn, { type: "refused", reason });
    conn.flush().then(() => conn.close(`refused: ${reason}`));
  }

  #register(conn: Connection, request: GetPeerList, registered: string | undefined): void {
    const core = this.#core;
    const { addr, node, nonce, sig } = request as Required<GetPeerList>;
    if (registered !== undefined && registered !== addr) {
      return core.reject(conn, `connection registered ${registered} and now claims ${addr}`);
    }
    // The same proof again (a renewal) need not be checked again.
    const proved = conn.auth.remoteId === node && conn.auth.remote === nonce &&
      this.#proofs.get(conn) === sig;
    if (!proved) {
      if (conn.auth.remoteId !== undefined && conn.auth.remoteId !== node) {
        return core.reject(conn, `connection proved node id ${conn.auth.remoteId} and now claims ${node}`);
      }
      if (!core.proofs.check(conn, "get_peer_list", node, addr, sig)) {
        return core.reject(conn, `bad signature for ${addr} from node id ${node}`);
      }
      conn.auth.remote ??= nonce;
      this.#proofs.set(conn, sig);
    }
    if (!hostMatches(conn.remoteAddress, addr)) {
      return core.reject(conn, `claims address ${addr} on another host`);
    }
    if (this.#reports.isBanned(node)) return core.reject(conn, `node id ${node} is banned for false reports`);
    const existing = this.#peers.get(addr);
    if (existing?.conn === conn) return this.#sendPeerList(conn, addr, { refresh: true });
    if (existing !== undefined && !existing.conn.isClosed) {
      if (existing.id !== node) {
        return this.#refuse(conn, `${addr} is registered to another node id whose connection is open`, {
          strike: true,
        });
      }
      return core.reject(conn, `${addr} is registered on another open connection`);
    }
    // A new registration: check that the announced address answers, as this node id, before listing it.
    if (this.#checking.has(conn)) return;
    this.#checking.add(conn);
    core.prober.probe(addr, this.settings.probeTimeout, 1, { identify: true }).then((result) => {
      this.#checking.delete(conn);
      if (conn.isClosed || core.stopping) return;
      if (!result.alive) {
        // Not a strike: an honest peer that is slow or restarting fails this too, and on one
        // machine every node shares the host that a ban would shut out.
        return core.reject(conn, `cannot reach announced address ${addr}: ${result.reason}`, {
          strike: false,
        });
      }
      if (result.id !== node) {
        const answer = result.id === undefined ? "does not prove a node id" : "answers as another node id";
        return this.#refuse(conn, `${addr} ${answer}`, { strike: true });
      }
      const current = this.#peers.get(addr);
      if (current !== undefined && current.conn !== conn && !current.conn.isClosed) {
        return core.reject(conn, `${addr} is registered on another open connection`);
      }
      if (current === undefined) {
        this.#peers.set(addr, { addr, id: node, since: core.clock.now(), conn });
        core.log.info("registered peer {peer}", {
          event: "seed.peer_registered",
          peer: addr,
          peers: this.#peers.size,
        });
        this.events.emit("registered", { addr });
      } else {
        // The old holder is gone: the address answered as this node id.
        current.conn = conn;
        current.id = node;
      }
      this.#registeredBy.set(conn, addr);
      this.#sendPeerList(conn, addr);
    });
  }

  /** Answers a Get Peer List; logged at info for a new registration, at debug for a refresh. */
  #sendPeerList(conn: Connection, addr: string, { refresh = false } = {}): void {
    const core = this.#core;
    const others = [...this.#peers.keys()].filter((peer) => peer !== addr);
    const peers = sample(others, this.settings.peerListLimit, core.random);
    let sig = this.#signed.get(conn);
    if (sig === undefined) this.#signed.set(conn, sig = core.proofs.sign(conn, "peer_list"));
    core.send(conn, { type: "peer_list", peers, node: core.proofs.id, sig });
    core.log[refresh ? "debug" : "info"]("sent peer_list to {peer}", {
      event: "seed.peer_list_sent",
      peer: addr,
      count: peers.length,
      of: others.length,
    });
  }

  #remove(addr: string, reason: RemovalReason, reporter: string): void {
    if (!this.#peers.delete(addr)) return;
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
