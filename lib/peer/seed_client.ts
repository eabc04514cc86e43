/**
 * A peer's side of the seeds: it joins by registering with a majority of them,
 * renews its registrations, asks them for peers again when it runs short, and
 * reports dead neighbours to every seed it is registered with. A seed link that does
 * not answer within seedTimeout is closed and registered again, so that renewals and
 * reports never go into a connection that died silently.
 */

import { type Address, formatAddress, parseAddress } from "../wire/address.ts";
import { seedMajority } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { type HandshakeProof, type Message, PROTOCOL_VERSION } from "../wire/messages.ts";
import { newNonce } from "../wire/signatures.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { FirstReplies } from "../node/first_reply.ts";
import { shuffled } from "../util/random.ts";
import { nextSeedRetry } from "./overlay_rules.ts";
import { sleep } from "../util/clock.ts";
import { formatDuration } from "../util/duration.ts";
import { joinRetryDelay } from "./join_rules.ts";

/** Joining failed: too few seeds answered. The message lists each failure. */
export class JoinError extends Error {
  override name = "JoinError";
}

/** Where the peers a seed lists go. */
export interface Candidates {
  /** Takes peers a seed listed as candidates for neighbours. */
  learn(peers: readonly string[]): void;
  /** Opens links to candidates, if this peer is short of neighbours. */
  fill(): void;
  /** This peer's neighbours and the ones it pushes to, reported to the seeds with each registration. */
  links(): { neighbours: string[]; push: string[] };
}

export class SeedClient {
  readonly #node: NodeContext;
  readonly #replies: FirstReplies;
  readonly #candidates: Candidates;
  /** Seeds this peer registered with, and the open connection to each. */
  readonly #registered = new Set<string>();
  readonly #links = new Map<string, Connection>();
  readonly #seedOf = new Map<Connection, string>();
  /** Seeds being connected to in the background, so attempts do not pile up. */
  readonly #connecting = new Set<string>();
  /** By seed that could not be reached: the last wait before trying it again (see {@link nextSeedRetry}). */
  readonly #retryMs = new Map<string, number>();
  #lastRefresh = -Infinity;
  /** The proof each seed connection repeats in its Get Peer Lists: made once per connection. */
  readonly #proofs = new WeakMap<Connection, HandshakeProof>();
  #deathsReported = 0;

  constructor(node: NodeContext, replies: FirstReplies, candidates: Candidates) {
    this.#node = node;
    this.#replies = replies;
    this.#candidates = candidates;
  }

  /** Seeds this peer is registered with, `host:port` each. */
  registered(): string[] {
    return [...this.#registered];
  }

  /** Open connections to seeds (a leaving peer says goodbye on them). */
  links(): Connection[] {
    return [...this.#links.values()];
  }

  /** True when `conn` is a connection to a seed. */
  owns(conn: Connection): boolean {
    return this.#seedOf.has(conn);
  }

  /**
   * Registers with a majority of the seeds, trying them in random order, a majority
   * at a time. While too few answer it tries again in rounds (see {@link joinRetryDelay})
   * until `retryJoin` has passed, then throws {@link JoinError} with the last round's
   * reasons; with `retryJoin` 0 after the first round. Returns early once the peer stops.
   */
  async join(): Promise<void> {
    const node = this.#node;
    const { settings, log, clock } = node;
    const need = seedMajority(settings.seeds.length);
    const deadline = clock.now() + settings.retryJoin;
    for (let round = 1;; round++) {
      const failures = await this.#joinRound(need);
      if (node.stopping) return;
      if (this.#registered.size >= need) break;
      const why =
        `registered with ${this.#registered.size} of ${settings.seeds.length} seeds, need ${need}: ${
          failures.join(", ")
        }`;
      const left = deadline - clock.now();
      if (left <= 0) {
        const after = round > 1
          ? `; gave up after ${round} rounds in ${formatDuration(settings.retryJoin)}`
          : "";
        throw new JoinError(why + after);
      }
      const ms = Math.min(left, joinRetryDelay(round, node.random()));
      log.warn("{why}; trying again in {ms} ms (round {round})", {
        event: "peer.join_retry",
        why,
        ms,
        round,
      });
      await sleep(clock, ms, node.endpoint.signal);
      if (node.stopping) return;
    }
    log.info("joined through {count} seeds", {
      event: "peer.joined",
      count: this.#registered.size,
      seeds: [...this.#registered],
    });
    // The lists just received are fresh: no need to ask again before the next overlay check.
    this.#lastRefresh = clock.now();
  }

  /** One round of joining: the seeds not registered with, in random order, `need` at a time. Returns the failures. */
  async #joinRound(need: number): Promise<string[]> {
    const node = this.#node;
    const order = shuffled(
      node.settings.seeds.filter((seed) => !this.#registered.has(formatAddress(seed))),
      node.random,
    );
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (this.#registered.size < need && next < order.length && !node.stopping) {
        const seed = order[next++]!;
        try {
          await this.#registerWith(seed);
          return;
        } catch (error) {
          const why = (error as Error).message;
          failures.push(`${formatAddress(seed)} ${why}`);
          node.log.warn("seed {seed} unavailable: {why}", {
            event: "seed.unavailable",
            seed: formatAddress(seed),
            why,
          });
        }
      }
    };
    const workers = Math.min(need - this.#registered.size, order.length);
    await Promise.all(Array.from({ length: Math.max(0, workers) }, worker));
    return failures;
  }

  /** Starts registering in the background with the configured seeds this peer is not registered with. */
  registerWithRest(): void {
    for (const seed of this.#node.settings.seeds) {
      const key = formatAddress(seed);
      if (!this.#registered.has(key)) this.#reconnect(key);
    }
  }

  /** Asks the registered seeds for peers again when the last ask is older than `maxAgeMs`. */
  refreshIfStale(maxAgeMs: number): void {
    if (this.#node.clock.now() - this.#lastRefresh >= maxAgeMs) this.refresh();
  }

  /** Sends a Get Peer List to every registered seed (reconnecting where needed); answers arrive as events. */
  refresh(): void {
    this.#lastRefresh = this.#node.clock.now();
    for (const seed of this.#registered) this.#ask(seed);
  }

  /**
   * Registers again with every configured seed: renews the registrations this peer
   * has (healing a removal it never heard of: the seed checks it and lists it again)
   * and adds the seeds it is not registered with yet. Joining needs a majority; being
   * known to every seed that is up lets every seed hear this peer's death reports.
   */
  renew(): void {
    for (const seed of this.#node.settings.seeds) this.#ask(formatAddress(seed));
  }

  /** Deaths this peer has reported to its seeds. */
  get deathsReported(): number {
    return this.#deathsReported;
  }

  /** Tells every registered seed that `addr` is dead. */
  reportDead(addr: string): void {
    this.#deathsReported++;
    const report: Message = { type: "death", addr, reason: "dead", reporter: this.#node.self };
    for (const seed of this.#registered) {
      const link = this.#links.get(seed);
      if (link && !link.isClosed) this.#node.send(link, report);
      else this.#reconnect(seed).then((conn) => conn && this.#node.send(conn, report));
    }
  }

  /** A message on a seed connection. */
  onMessage(conn: Connection, message: Message): void {
    switch (message.type) {
      case "peer_list":
        this.#candidates.learn(message.peers);
        this.#candidates.fill();
        return;
      case "liveliness":
        return this.#node.answerProbe(conn, message);
      case "refused":
        // Not a strike: a seed that will not serve this peer (another protocol version) says why.
        this.#node.log.warn("seed {seed} refused this peer: {reason}", {
          event: "seed.refused",
          seed: this.#seedOf.get(conn),
          reason: message.reason,
        });
        conn.close(`refused: ${message.reason}`);
        return;
      default:
        this.#node.reject(conn, `unexpected ${message.type} from a seed`);
    }
  }

  /** A seed connection closed. */
  onClose(conn: Connection): void {
    const seed = this.#seedOf.get(conn);
    if (seed === undefined) return;
    this.#seedOf.delete(conn);
    if (this.#links.get(seed) === conn) this.#links.delete(seed);
    if (!this.#node.stopping) {
      this.#node.log.info("connection to seed {seed} closed: {reason}", {
        event: "seed.connection_closed",
        seed,
        reason: conn.closeReason,
      });
    }
  }

  /**
   * A Get Peer List on `conn`: registers this peer, proving its node id over the seed's
   * challenge, and reports its links for the seed's view of the overlay.
   */
  #registration(conn: Connection): Message {
    const node = this.#node;
    const max = node.settings.peerListLimit;
    const { neighbours, push } = this.#candidates.links();
    let proof = this.#proofs.get(conn);
    if (proof === undefined) {
      const nonce = conn.auth.local = newNonce();
      proof = { node: node.proofs.id, nonce, sig: node.proofs.sign(conn, "get_peer_list") };
      this.#proofs.set(conn, proof);
    }
    return {
      type: "get_peer_list",
      version: PROTOCOL_VERSION,
      addr: node.self,
      neighbours: neighbours.slice(0, max),
      push: push.slice(0, max),
      ...proof,
    };
  }

  /**
   * Sends a Get Peer List on the open link to `seed`, or registers again if there is
   * none. A link on which nothing arrives within seedTimeout is closed and registered
   * again: the seed, or the way to it, is gone, though the connection may look open for
   * minutes.
   */
  #ask(seed: string): void {
    const node = this.#node;
    const link = this.#links.get(seed);
    if (link === undefined || link.isClosed) return void this.#reconnect(seed);
    node.send(link, this.#registration(link));
    const framesBefore = link.framesReceived;
    node.scheduler.after(node.settings.seedTimeout, () => {
      if (link.isClosed || link.framesReceived > framesBefore || node.stopping) return;
      node.log.warn("seed {seed} did not answer within {ms} ms: connecting again", {
        event: "seed.silent",
        seed,
        ms: node.settings.seedTimeout,
      });
      link.close("seed silent");
      this.#reconnect(seed);
    });
  }

  /** Connects to a seed, registers and takes its Peer List. Throws with a few words on failure. */
  async #registerWith(seed: Address): Promise<void> {
    const key = formatAddress(seed);
    const node = this.#node;
    const started = node.clock.now();
    const conn = await node.endpoint.connect(seed, node.settings.seedTimeout);
    // Bound to a wildcard and told no address: announce the one this connection leaves from.
    if (node.needsAddress) node.adoptAddress(conn.localAddress.host, key);
    this.#seedOf.set(conn, key);
    const left = () => Math.max(1, node.settings.seedTimeout - (node.clock.now() - started));
    try {
      await node.proofs.challenged(this.#replies, conn, left());
    } catch (error) {
      conn.close((error as Error).message);
      throw error;
    }
    node.send(conn, this.#registration(conn));
    await this.#replies.wait(conn, left(), (reply) => {
      if (reply?.type === "refused") throw new Error(`refused: ${reply.reason}`);
      if (reply?.type !== "peer_list") {
        conn.close(reply ? `expected peer_list, got ${reply.type}` : conn.closeReason);
        throw new Error(reply ? `answered ${reply.type}` : conn.closeReason ?? "closed");
      }
      if (!node.proofs.check(conn, "peer_list", reply.node, "", reply.sig)) {
        node.reject(conn, `bad signature from seed ${key}`);
        throw new Error("answered with a bad signature");
      }
      this.#registered.add(key);
      this.#links.set(key, conn);
      conn.kept = true;
      this.#candidates.learn(reply.peers);
    });
  }

  /** Registers again with a seed whose connection closed; failures are logged. */
  #reconnect(seed: string): Promise<Connection | undefined> {
    if (this.#connecting.has(seed)) return Promise.resolve(undefined);
    this.#connecting.add(seed);
    return this.#node.endpoint.track((async () => {
      try {
        await this.#registerWith(parseAddress(seed));
        this.#retryMs.delete(seed);
        this.#candidates.fill();
        return this.#links.get(seed);
      } catch (error) {
        this.#node.log.info("seed {seed} unavailable: {why}", {
          event: "seed.unavailable",
          seed,
          why: (error as Error).message,
        });
        this.#retryLater(seed);
        return undefined;
      } finally {
        this.#connecting.delete(seed);
      }
    })());
  }

  /** Tries a seed that could not be reached again soon, sooner than the next renewal. */
  #retryLater(seed: string): void {
    const { settings, scheduler, stopping } = this.#node;
    const wait = nextSeedRetry(
      this.#retryMs.get(seed) ?? 0,
      settings.seedTimeout,
      settings.livelinessInterval * settings.livelinessMisses,
    );
    // Past the cap the renewals take over, until a registration succeeds again.
    if (wait === undefined || stopping) return;
    this.#retryMs.set(seed, wait);
    scheduler.after(wait, () => {
      if (!this.#links.has(seed)) this.#reconnect(seed);
    });
  }
}
