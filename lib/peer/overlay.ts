/**
 * The overlay: which peers this peer links to. It keeps `degree` outbound links,
 * dialling candidates the seeds listed (Peer Request / Peer Reply), accepts inbound
 * links up to `maxInbound`, and backs off from candidates that failed or declined.
 */

import { hostMatches, parseAddress } from "../wire/address.ts";
import type { Connection } from "../net/connection.ts";
import {
  type Death,
  type PeerReply,
  type PeerRequest,
  PROTOCOL_VERSION,
  versionRefusal,
} from "../wire/messages.ts";
import { newNonce } from "../wire/signatures.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { FirstReplies } from "../node/first_reply.ts";
import type { Direction, Neighbour, NeighbourTable } from "./neighbours.ts";
import { declineReason, nextShortRetry, pickDials } from "./overlay_rules.ts";

/** What the overlay needs of the seed client. */
export interface SeedRefresh {
  refresh(): void;
  refreshIfStale(maxAgeMs: number): void;
}

export class Overlay {
  readonly #node: NodeContext;
  readonly #replies: FirstReplies;
  readonly #table: NeighbourTable;
  readonly #seeds: () => SeedRefresh;
  readonly #link: (addr: string, conn: Connection, direction: Direction) => void;
  /** Peers learnt from seeds: candidates for new neighbours. */
  readonly #known = new Set<string>();
  /** Candidates not to try again before the given clock time. */
  readonly #backoff = new Map<string, number>();
  readonly #dialling = new Set<string>();
  /** The last wait before asking the seeds again while short of candidates; 0 once enough. */
  #shortRetryMs = 0;
  #shortRetryArmed = false;

  /**
   * @param seeds the seed client, asked again when candidates run short
   * @param link called with a connection that became a neighbour link
   */
  constructor(
    node: NodeContext,
    replies: FirstReplies,
    table: NeighbourTable,
    seeds: () => SeedRefresh,
    link: (addr: string, conn: Connection, direction: Direction) => void,
  ) {
    this.#node = node;
    this.#replies = replies;
    this.#table = table;
    this.#seeds = seeds;
    this.#link = link;
  }

  /** Candidates known. */
  get known(): number {
    return this.#known.size;
  }

  learn(peers: readonly string[]): void {
    for (const peer of peers) if (peer !== this.#node.self) this.#known.add(peer);
  }

  /** Forgets a candidate (it left, or was found dead). */
  forget(addr: string): void {
    this.#known.delete(addr);
  }

  /** Does not dial `addr` for `ms` milliseconds. */
  avoid(addr: string, ms: number): void {
    this.#backoff.set(addr, this.#node.clock.now() + ms);
  }

  /** Opens links until `degree` outbound neighbours (or candidates run out). Returns the attempts. */
  fill(): Promise<void>[] {
    const node = this.#node;
    if (node.stopping || !node.started) return [];
    const { dial, short } = pickDials({
      known: this.#known,
      want: this.#wanted(),
      now: node.clock.now(),
      isNeighbour: (addr) => this.#table.has(addr),
      isDialling: (addr) => this.#dialling.has(addr),
      backoffUntil: (addr) => this.#backoff.get(addr),
      random: node.random,
    });
    if (!short) this.#shortRetryMs = 0;
    else {
      this.#seeds().refreshIfStale(node.settings.overlayInterval);
      this.#retryShort();
    }
    return dial.map((addr) => this.#dial(addr));
  }

  /** A Peer Request on a new connection: accept it as an inbound neighbour, or decline with a reason. */
  onPeerRequest(conn: Connection, request: PeerRequest): void {
    const node = this.#node;
    const { addr, version } = request;
    const refusal = versionRefusal(version);
    if (refusal === undefined) {
      const { node: id, nonce, sig } = request as Required<PeerRequest>;
      if (!node.proofs.check(conn, "peer_request", id, addr, sig)) {
        return node.reject(conn, `bad signature for ${addr} from node id ${id}`);
      }
      conn.auth.remote = nonce;
    }
    const reason = refusal ?? declineReason({
      self: node.self,
      addr,
      onRemoteHost: hostMatches(conn.remoteAddress, addr),
      neighbour: this.#table.has(addr),
      dialling: this.#dialling.has(addr),
      inbound: this.#table.count("inbound"),
      maxInbound: node.settings.maxInbound,
    });
    if (reason !== undefined) {
      node.log.info("declined peer request from {peer}: {reason}", {
        event: "overlay.request_declined",
        peer: addr,
        reason,
      });
      node.send(conn, { type: "peer_reply", accepted: false, addr: node.self, reason });
      conn.flush().then(() => conn.close("declined"));
      return;
    }
    const sig = node.proofs.sign(conn, "peer_reply");
    node.send(conn, { type: "peer_reply", accepted: true, addr: node.self, node: node.proofs.id, sig });
    this.#link(addr, conn, "inbound");
  }

  /** A neighbour's `death`: only its own leave, signed for this link, is taken (the link closes). */
  onLeaving(neighbour: Neighbour, death: Death): void {
    const { conn, addr } = neighbour;
    if (death.reason !== "leaving" || death.addr !== addr) {
      return this.reject(neighbour, "death reports go to seeds");
    }
    if (!this.#node.proofs.check(conn, "leaving", conn.auth.remoteId ?? "", addr, death.sig ?? "")) {
      return this.reject(neighbour, "leave not signed by the neighbour for this link");
    }
    this.#node.log.info("neighbour {peer} is leaving", { event: "neighbour.leaving", peer: addr });
    this.forget(addr);
    this.#table.drop(neighbour, "left");
  }

  /** Closes a neighbour's link for breaking the protocol, with a strike against its host. */
  reject(neighbour: Neighbour, why: string): void {
    const node = this.#node;
    node.log.warn("closing {remote}: {why}", {
      event: "connection.rejected",
      remote: neighbour.conn.remote,
      why,
    });
    node.endpoint.strike(neighbour.conn, why);
    this.#table.drop(neighbour, why);
  }

  #wanted(): number {
    return this.#node.settings.degree - this.#table.count("outbound") - this.#dialling.size;
  }

  /**
   * A peer that knows too few candidates (one of the first to join, or one that lost
   * neighbours in a small network) asks its seeds again sooner than its next overlay
   * round (see {@link nextShortRetry}); the answer fills again.
   */
  #retryShort(): void {
    if (this.#shortRetryArmed) return;
    const wait = nextShortRetry(this.#shortRetryMs, this.#node.settings.overlayInterval);
    if (wait === undefined) return;
    this.#shortRetryMs = wait;
    this.#shortRetryArmed = true;
    this.#node.scheduler.after(wait, () => {
      this.#shortRetryArmed = false;
      if (this.#node.stopping || this.#wanted() <= 0) return;
      this.#seeds().refresh();
    });
  }

  #dial(addr: string): Promise<void> {
    const node = this.#node;
    this.#dialling.add(addr);
    return node.endpoint.track((async () => {
      let conn: Connection | undefined;
      const started = node.clock.now();
      const left = () => Math.max(1, node.settings.connectTimeout - (node.clock.now() - started));
      try {
        conn = await node.endpoint.connect(parseAddress(addr), node.settings.connectTimeout);
        const opened = conn;
        await node.proofs.challenged(this.#replies, opened, left());
        const nonce = opened.auth.local = newNonce();
        const sig = node.proofs.sign(opened, "peer_request");
        node.send(opened, {
          type: "peer_request",
          version: PROTOCOL_VERSION,
          addr: node.self,
          node: node.proofs.id,
          nonce,
          sig,
        });
        await this.#replies.wait(opened, left(), (reply) => {
          if (reply?.type === "refused") throw new Error(`refused: ${reply.reason}`);
          if (reply?.type !== "peer_reply") {
            throw new Error(reply ? `answered ${reply.type}` : opened.closeReason ?? "closed");
          }
          this.#onPeerReply(opened, addr, reply);
        });
      } catch (error) {
        conn?.close("peer request failed");
        const why = (error as Error).message;
        node.log.info("could not connect to {peer}: {why}", {
          event: "overlay.dial_failed",
          peer: addr,
          why,
        });
        this.avoid(addr, node.settings.overlayInterval);
        if (why === "refused") this.#known.delete(addr);
      } finally {
        this.#dialling.delete(addr);
        // Failed or declined (the other peer full, or dialling this one at the same moment):
        // try another candidate now rather than at the next overlay round.
        if (!node.stopping && (conn === undefined || this.#table.get(addr)?.conn !== conn)) {
          node.scheduler.after(0, () => this.fill());
        }
      }
    })());
  }

  #onPeerReply(conn: Connection, addr: string, reply: PeerReply): void {
    if (reply.addr !== addr) throw new Error(`answered as ${reply.addr}`);
    if (!reply.accepted) {
      this.#node.log.info("peer {peer} declined: {reason}", {
        event: "overlay.declined",
        peer: addr,
        reason: reply.reason ?? "no reason",
      });
      this.avoid(addr, this.#node.settings.overlayInterval);
      conn.close("declined");
      return;
    }
    if (!this.#node.proofs.check(conn, "peer_reply", reply.node!, addr, reply.sig!)) {
      this.#node.reject(conn, `bad signature in the reply of ${addr}`);
      throw new Error("answered with a bad signature");
    }
    if (this.#table.has(addr) || this.#node.stopping) {
      conn.close("duplicate");
      return;
    }
    this.#link(addr, conn, "outbound");
  }
}
