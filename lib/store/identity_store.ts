/**
 * The node's private key in its database (table `identity`, one row), behind the same
 * {@link IdentityStore} interface as a key file: the node loads its key from whichever
 * store it is given.
 */

import type { DatabaseSync } from "node:sqlite";

/** Where a node keeps its private key between runs (see lib/node/identity.ts). */
export interface IdentityStore {
  /** The stored private key (PKCS#8 DER), or undefined if none was stored yet. Throws an IdentityError. */
  load(): Uint8Array | undefined;
  /** Stores the private key (PKCS#8 DER) for the next run. */
  save(pkcs8: Uint8Array): void;
}

/** Keeps the key in the `identity` table of a node's database (a file of mode 0600). */
export class DatabaseIdentityStore implements IdentityStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  load(): Uint8Array | undefined {
    const row = this.#db.prepare("SELECT pkcs8 FROM identity WHERE slot = 1").get();
    return row === undefined ? undefined : new Uint8Array(row.pkcs8 as Uint8Array);
  }

  save(pkcs8: Uint8Array): void {
    this.#db.prepare("INSERT OR REPLACE INTO identity (slot, pkcs8) VALUES (1, ?)").run(pkcs8);
  }
}
