/**
 * A node's durable state in its data directory: one database (database.ts) with a table
 * for each thing kept, its key, a peer's messages and known peers, a seed's registrations.
 */

import type { DatabaseSync } from "node:sqlite";
import type { NodeRole } from "../log/node_files.ts";
import { DataDirError, guard, openDatabase } from "./database.ts";
import { DatabaseIdentityStore, type IdentityStore } from "./identity_store.ts";
import { MessageTable } from "./message_table.ts";
import { PeerTable, RegistryTable } from "./address_tables.ts";

export { DataDirError };

export class NodeDatabase {
  readonly #db: DatabaseSync;
  /** The node's private key. */
  readonly identity: IdentityStore;
  /** A peer's messages and the ids of the ones it dropped. */
  readonly messages: MessageTable;
  /** A peer's known peers. */
  readonly peers: PeerTable;
  /** A seed's registrations. */
  readonly registry: RegistryTable;

  private constructor(readonly dataDir: string, db: DatabaseSync) {
    this.#db = db;
    this.identity = new DatabaseIdentityStore(db);
    this.messages = new MessageTable(db);
    this.peers = new PeerTable(db);
    this.registry = new RegistryTable(db);
  }

  /** Opens (or creates) the database of a `role` in `dataDir`. Throws {@link DataDirError}. */
  static open(dataDir: string, role: NodeRole): NodeDatabase {
    return new NodeDatabase(dataDir, openDatabase(dataDir, role));
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  /** Runs `body` against the database, turning a damaged or foreign file into a {@link DataDirError}. */
  guard<T>(body: () => T): T {
    return guard(this.dataDir, body);
  }

  /** Closes the database (its WAL is folded into the file); safe to call twice. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
