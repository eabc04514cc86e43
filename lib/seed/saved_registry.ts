/**
 * A seed's registrations in its data directory (address, time, node id), written as peers
 * register and are removed. After a restart each kept registration is re-verified with a
 * probe: one that answers as the node id that registered is listed again at once (its peer registers again on its own, on a new
 * connection), one that does not is dropped with a log line. Peers joining meanwhile get
 * every peer that answered, without waiting for each one to register again.
 */

import type { NodeContext } from "../node/node_core.ts";
import type { NodeDatabase } from "../store/node_database.ts";
import { TUNING } from "../settings/config.ts";
import type { SavedRegistration } from "../store/address_tables.ts";

/** What the kept registrations act on: the seed's registry. */
export interface RegistryHooks {
  /** Whether the seed lists `addr` now (it registered again before its probe ended). */
  has(addr: string): boolean;
  /** Lists `addr` again, registered at `registeredAt` (wall-clock milliseconds) by node `id`, without a connection. */
  list(addr: string, registeredAt: number, id: string): void;
}

export class SavedRegistry {
  readonly #node: NodeContext;
  readonly #db: NodeDatabase;
  readonly #hooks: RegistryHooks;

  constructor(node: NodeContext, db: NodeDatabase, hooks: RegistryHooks) {
    this.#node = node;
    this.#db = db;
    this.#hooks = hooks;
  }

  registered(registration: SavedRegistration): void {
    this.#write(() => this.#db.registry.put(registration));
  }

  removed(addr: string): void {
    this.#write(() => this.#db.registry.delete(addr));
  }

  /**
   * Probes every kept registration, TUNING.reverifyProbes at a time, each up to
   * livelinessMisses times (a refusal is final), in the background; resolves when all are settled.
   */
  reverify(): Promise<void> {
    return this.#reverify().catch((error) => {
      this.#node.log.error("cannot re-verify kept registrations: {error}", {
        event: "store.read_failed",
        error,
      });
    });
  }

  async #reverify(): Promise<void> {
    const node = this.#node;
    const kept = this.#db.guard(() => this.#db.registry.load());
    if (kept.length === 0) return;
    node.log.info("re-verifying {count} registrations kept in {dir}", {
      event: "seed.registry_restored",
      count: kept.length,
      dir: this.#db.dataDir,
    });
    const { probeTimeout, livelinessMisses } = node.settings;
    let next = 0;
    const worker = async () => {
      while (next < kept.length && !node.stopping) {
        const { addr, registeredAt, nodeId } = kept[next++]!;
        if (this.#hooks.has(addr)) continue;
        const result = await node.prober.probe(addr, probeTimeout, livelinessMisses, { identify: true });
        if (node.stopping || this.#hooks.has(addr)) continue;
        // It must answer as the node that registered: another node at the address registers itself.
        const why = !result.alive
          ? result.reason
          : result.id !== nodeId
          ? (result.id === undefined ? "it does not prove a node id" : "it answers as another node id")
          : undefined;
        if (why === undefined) {
          this.#hooks.list(addr, registeredAt, nodeId!);
          node.log.info("re-verified peer {peer}", { event: "seed.peer_reverified", peer: addr });
        } else {
          this.removed(addr);
          node.log.info("dropped kept registration of {peer}: {why}", {
            event: "seed.peer_unverified",
            peer: addr,
            why,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(TUNING.reverifyProbes, kept.length) }, worker));
  }

  close(): void {
    this.#db.close();
  }

  #write(body: () => void): void {
    if (!this.#db.isOpen) return;
    try {
      body();
    } catch (error) {
      this.#node.log.error("cannot write registrations to {dir}: {error}", {
        event: "store.write_failed",
        dir: this.#db.dataDir,
        error: (error as Error).message,
      });
    }
  }
}
