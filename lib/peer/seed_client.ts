/**
 * A peer's side of the seeds: it joins by registering with a majority of them,
 * renews its registrations, asks them for peers again when it runs short, and
 * reports dead neighbours to every seed it is registered with.
 */

import { type Address, formatAddress, parseAddress } from "../wire/address.ts";
import { seedMajority } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import { type GetPeerList, type Message, PROTOCOL_VERSION } from "../wire/messages.ts";
import { newNonce } from "../wire/signatures.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { FirstReplies } from "../node/first_reply.ts";
import { shuffled } from "../util/random.ts";

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
  #lastRefresh = -Infinity;
  /** The request each seed connection repeats: its proof is made once per connection. */
  readonly #requests = new WeakMap<Connection, GetPeerList>();

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
   * at a time. Throws {@link JoinError} when too few answer.
   */
  async join(): Promise<void> {
    const { settings, log } = this.#node;
    const seeds = settings.seeds;
    const need = seedMajority(seeds.length);
    const order = shuffled(seeds, this.#node.random);
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (this.#registered.size < need && next < order.length && !this.#node.stopping) {
        const seed = order[next++]!;
        try {
          await this.#registerWith(seed);
          return;
        } catch (error) {
          const why = (error as Error).message;
          failures.push(`${formatAddress(seed)} ${why}`);
          log.warn("seed {seed} unavailable: {why}", {
            event: "seed.unavailable",
            seed: formatAddress(seed),
            why,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(need, order.length) }, worker));
    if (this.#registered.size < need) {
      throw new JoinError(
        `registered with ${this.#registered.size} of ${seeds.length} seeds, need ${need}: ${
          failures.join(", ")
        }`,
      );
    }
    log.info("joined through {count} seeds", {
      event: "peer.joined",
      count: this.#registered.size,
      seeds: [...this.#registered],
    });
    // The lists just received are fresh: no need to ask again before the next overlay check.
    this.#lastRefresh = this.#node.clock.now();
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

  /** Tells every registered seed that `addr` is dead. */
  reportDead(addr: string): void {
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

  /** Sends a Get Peer List on the open link to `seed`, or registers again if there is none. */
  #ask(seed: string): void {
    const link = this.#links.get(seed);
    if (link && !link.isClosed) this.#node.send(link, this.#request(link));
    else this.#reconnect(seed);
  }

  /** Connects to a seed, registers and takes its Peer List. Throws with a few words on failure. */
  async #registerWith(seed: Address): Promise<void> {
    const key = formatAddress(seed);
    const node = this.#node;
    const started = node.clock.now();
    const conn = await node.endpoint.connect(seed, node.settings.seedTimeout);
    this.#seedOf.set(conn, key);
    const left = () => Math.max(1, node.settings.seedTimeout - (node.clock.now() - started));
    try {
      await node.proofs.challenged(this.#replies, conn, left());
    } catch (error) {
      conn.close((error as Error).message);
      throw error;
    }
    node.send(conn, this.#request(conn));
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
      this.#candidates.learn(reply.peers);
    });
  }

  /** The Get Peer List for `conn`, proving this peer's node id over the seed's challenge. */
  #request(conn: Connection): GetPeerList {
    let request = this.#requests.get(conn);
    if (request === undefined) {
      const { proofs, self } = this.#node;
      const nonce = conn.auth.local = newNonce();
      const sig = proofs.sign(conn, "get_peer_list");
      request = { type: "get_peer_list", version: PROTOCOL_VERSION, addr: self, node: proofs.id, nonce, sig };
      this.#requests.set(conn, request);
    }
    return request;
  }

  /** Registers again with a seed whose connection closed; failures are logged. */
  #reconnect(seed: string): Promise<Connection | undefined> {
    if (this.#connecting.has(seed)) return Promise.resolve(undefined);
    this.#connecting.add(seed);
    return this.#node.endpoint.track((async () => {
      try {
        await this.#registerWith(parseAddress(seed));
        this.#candidates.fill();
        return this.#links.get(seed);
      } catch (error) {
        this.#node.log.info("seed {seed} unavailable: {why}", {
          event: "seed.unavailable",
          seed,
          why: (error as Error).message,
        });
        return undefined;
      } finally {
        this.#connecting.delete(seed);
      }
    })());
  }
}
