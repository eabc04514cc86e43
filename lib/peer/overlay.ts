/**
 * The overlay: which peers this peer links to. It keeps `degree` outbound links,
 * dialling candidates the seeds listed (Peer Request / Peer Reply), accepts inbound
 * links up to `maxInbound`, backs off from candidates that failed or declined and from
 * neighbours that broke the protocol, and tries neighbours lost to silence again so
 * that a healed partition joins up.
 */

import { hostMatches, parseAddress } from "../wire/address.ts";
import { TUNING } from "../settings/config.ts";
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
import {
  declineReason,
  healRetryDelay,
  type LostCandidate,
  nextShortRetry,
  offenceBackoff,
  OFFENDER_DECLINE,
  pickDials,
  pickHealDial,
} from "./overlay_rules.ts";

/** Most offenders remembered; the oldest go first. */
const MAX_OFFENDERS = 1000;

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
  /** Dials beyond `degree`, to neighbours lost to silence. */
  readonly #healing = new Set<string>();
  readonly #lost = new Map<string, LostCandidate & { attempts: number }>();
  /** Neighbours that broke the protocol: how often, and until when they are shunned. */
  readonly #offences = new Map<string, { count: number; until: number }>();
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

  /** The candidates known, in the order learnt. */
  candidates(): string[] {
    return [...this.#known];
  }

  learn(peers: readonly string[]): void {
    for (const peer of peers) if (peer !== this.#node.self) this.#known.add(peer);
  }

  /** Forgets a candidate (it left, or was found dead). */
  forget(addr: string): void {
    this.#known.delete(addr);
  }

  /**
   * A neighbour was found dead, or alive but not reading its link: it is no candidate,
   * and is not dialled for TUNING.deadRedialRounds × livelinessMisses × livelinessInterval
   * (the seeds may list it until they confirm it). One that went silent rather than
   * refusing (`refused` false) may be behind a partition: it is kept to try again.
   */
  dead(addr: string, refused: boolean): void {
    const s = this.#node.settings;
    this.forget(addr);
    this.avoid(addr, TUNING.deadRedialRounds * s.livelinessMisses * s.livelinessInterval);
    this.#lost.delete(addr);
    if (refused) return;
    const now = this.#node.clock.now();
    const retryAt = now + healRetryDelay(0, this.#node.settings.overlayInterval);
    this.#lost.set(addr, { since: now, retryAt, attempts: 0 });
    if (this.#lost.size > TUNING.lostCandidates) this.#lost.delete(this.#lost.keys().next().value!);
  }

  /**
   * A neighbour broke the protocol (the link is closed for it): it is neither dialled
   * nor accepted for a pause that grows with each offence ({@link offenceBackoff}).
   */
  offended(addr: string): void {
    const { clock, settings } = this.#node;
    const now = clock.now();
    const last = this.#offences.get(addr);
    // Offences older than twice the ban time are forgiven.
    const count = last !== undefined && now - last.until < 2 * settings.banTime ? last.count + 1 : 1;
    const until = now + offenceBackoff(count, settings.overlayInterval, settings.banTime);
    this.#offences.delete(addr);
    this.#offences.set(addr, { count, until });
    if (this.#offences.size > MAX_OFFENDERS) this.#offences.delete(this.#offences.keys().next().value!);
    this.#lost.delete(addr);
    this.avoid(addr, until - now);
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
      isBanned: this.#isBanned,
      random: node.random,
    });
    if (!short) this.#shortRetryMs = 0;
    else {
      this.#seeds().refreshIfStale(node.settings.overlayInterval);
      this.#retryShort();
    }
    const heal = pickHealDial({
      lost: this.#lost,
      now: node.clock.now(),
      retainMs: TUNING.lostRetainMs,
      isNeighbour: (addr) => this.#table.has(addr),
      isDialling: (addr) => this.#dialling.has(addr) || dial.includes(addr),
      isBanned: this.#isBanned,
    });
    for (const addr of heal.expired) this.#lost.delete(addr);
    if (heal.dial !== undefined) this.#healing.add(heal.dial);
    return [...dial, ...(heal.dial === undefined ? [] : [heal.dial])].map((addr) => this.#dial(addr));
  }

  readonly #isBanned = (addr: string): boolean => {
    try {
      return this.#node.endpoint.isBanned(parseAddress(addr).host);
    } catch {
      return false;
    }
  };

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
      offender: (this.#offences.get(addr)?.until ?? 0) > node.clock.now(),
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
    this.#lost.delete(addr);
    this.#link(addr, conn, "inbound");
  }

  /** A neighbour's `death`: only its own leave, signed for this link, is taken (the link closes). */
  onLeaving(neighbour: Neighbour, death: Death): void {
    const { conn, addr } = neighbour;
    if (death.reason !== "leaving" || death.addr !== addr) {
      return this.#node.reject(conn, "death reports go to seeds");
    }
    if (!this.#node.proofs.check(conn, "leaving", conn.auth.remoteId ?? "", addr, death.sig ?? "")) {
      return this.#node.reject(conn, "leave not signed by the neighbour for this link");
    }
    this.#node.log.info("neighbour {peer} is leaving", { event: "neighbour.leaving", peer: addr });
    this.forget(addr);
    this.#table.drop(neighbour, "left");
  }

  #wanted(): number {
    const dialling = this.#dialling.size - this.#healing.size;
    return this.#node.settings.degree - this.#table.count("outbound") - dialling;
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
        this.#retryLost(addr, why === "refused");
      } finally {
        this.#dialling.delete(addr);
        this.#healing.delete(addr);
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
      if (reply.reason === OFFENDER_DECLINE) this.offended(addr);
      else this.avoid(addr, this.#node.settings.overlayInterval);
      this.#retryLost(addr, false);
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
    this.#lost.delete(addr);
    this.#link(addr, conn, "outbound");
  }

  /** A try of a lost neighbour failed: later, or never again if nothing listens there. */
  #retryLost(addr: string, refused: boolean): void {
    const lost = this.#lost.get(addr);
    if (lost === undefined) return;
    if (refused) return void this.#lost.delete(addr);
    lost.attempts++;
    lost.retryAt = this.#node.clock.now() +
      healRetryDelay(lost.attempts, this.#node.settings.overlayInterval);
  }
}
