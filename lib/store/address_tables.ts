/**
 * Addresses a node keeps between runs: a peer's known peers (candidates for neighbours)
 * and a seed's registrations. Small and rarely written, so each write commits alone.
 */

import type { DatabaseSync } from "node:sqlite";

/** A peer's known peers, in the order learnt. */
export class PeerTable {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  load(): string[] {
    return this.#db.prepare("SELECT addr FROM peers ORDER BY rowid").all().map((r) => String(r.addr));
  }

  /** Replaces the saved peers with `addrs`, in one transaction. */
  save(addrs: readonly string[]): void {
    const db = this.#db;
    const insert = db.prepare("INSERT OR IGNORE INTO peers (addr) VALUES (?)");
    db.exec("BEGIN");
    try {
      db.exec("DELETE FROM peers");
      for (const addr of addrs) insert.run(addr);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}

/** A registration as a seed keeps it. */
export interface SavedRegistration {
  addr: string;
  /** Wall-clock milliseconds of the registration. */
  registeredAt: number;
  /** The node id the peer registered with, where the network has node ids. */
  nodeId?: string | undefined;
}

/** A seed's registered peers. */
export class RegistryTable {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  load(): SavedRegistration[] {
    return this.#db.prepare("SELECT addr, registered_at, node_id FROM registrations ORDER BY registered_at")
      .all()
      .map((r) => ({
        addr: String(r.addr),
        registeredAt: Number(r.registered_at),
        nodeId: r.node_id === null ? undefined : String(r.node_id),
      }));
  }

  put(registration: SavedRegistration): void {
    this.#db.prepare("INSERT OR REPLACE INTO registrations (addr, registered_at, node_id) VALUES (?, ?, ?)")
      .run(registration.addr, registration.registeredAt, registration.nodeId ?? null);
  }

  delete(addr: string): void {
    this.#db.prepare("DELETE FROM registrations WHERE addr = ?").run(addr);
  }
}
