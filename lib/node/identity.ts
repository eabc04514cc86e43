/**
 * A node's identity: an Ed25519 key pair whose public key is its node id
 * (lib/wire/signatures.ts). With a data directory the private key (PKCS#8 DER) is kept in
 * the node's database and reused; without one each run makes a fresh key. Where the key
 * is kept is an {@link IdentityStore}: the database's, or a file `<dataDir>/node.key`
 * (mode 0600), where earlier versions kept it and from where the database takes it over.
 */

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { Buffer } from "node:buffer";
import type { IdentityStore } from "../store/identity_store.ts";

export type { IdentityStore };

/** The key could not be loaded or stored; the message says what to do. */
export class IdentityError extends Error {
  override name = "IdentityError";
}

/** File name of the key in a data directory. */
export const KEY_FILE = "node.key";

/** Keeps the key in `<dataDir>/node.key`, readable by its owner only. */
export class FileIdentityStore implements IdentityStore {
  readonly path: string;

  constructor(readonly dataDir: string) {
    this.path = `${dataDir.replace(/\/+$/, "")}/${KEY_FILE}`;
  }

  load(): Uint8Array | undefined {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new IdentityError(`Cannot read the node key ${this.path}: ${(error as Error).message}`);
    }
    const mode = info.mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      throw new IdentityError(
        `Node key ${this.path} is readable by others (mode ${(mode & 0o777).toString(8)}): ` +
          `run chmod 600 ${this.path}`,
      );
    }
    try {
      return Deno.readFileSync(this.path);
    } catch (error) {
      throw new IdentityError(`Cannot read the node key ${this.path}: ${(error as Error).message}`);
    }
  }

  save(pkcs8: Uint8Array): void {
    try {
      Deno.mkdirSync(this.dataDir, { recursive: true });
      Deno.writeFileSync(this.path, pkcs8, { mode: 0o600, createNew: true });
    } catch (error) {
      throw new IdentityError(`Cannot write the node key ${this.path}: ${(error as Error).message}`);
    }
  }
}

/**
 * The key in `store`; when it holds none, the one in `former` (where an earlier version
 * kept it), copied into `store` once so that the node keeps its id. `former` is only read.
 */
export class KeyTakenOver implements IdentityStore {
  constructor(readonly store: IdentityStore, readonly former: IdentityStore) {}

  load(): Uint8Array | undefined {
    const key = this.store.load();
    if (key !== undefined) return key;
    const old = this.former.load();
    if (old !== undefined) this.store.save(old);
    return old;
  }

  save(pkcs8: Uint8Array): void {
    this.store.save(pkcs8);
  }
}

export class NodeIdentity {
  /** The node id: the public key, 43 characters of base64url. */
  readonly id: string;
  readonly #key: KeyObject;

  private constructor(key: KeyObject) {
    this.#key = key;
    const jwk = createPublicKey(key).export({ format: "jwk" }) as { x: string };
    this.id = jwk.x;
  }

  /** A fresh identity, kept nowhere. */
  static generate(): NodeIdentity {
    return new NodeIdentity(generateKeyPairSync("ed25519").privateKey);
  }

  /** The identity kept in `store`, made and stored there on the first run. Throws {@link IdentityError}. */
  static load(store: IdentityStore): NodeIdentity {
    const stored = store.load();
    if (stored !== undefined) {
      try {
        const key = createPrivateKey({ key: Buffer.from(stored), format: "der", type: "pkcs8" });
        if (key.asymmetricKeyType !== "ed25519") throw new Error(`a ${key.asymmetricKeyType} key`);
        return new NodeIdentity(key);
      } catch (error) {
        throw new IdentityError(
          `Node key is not an Ed25519 private key in PKCS#8 DER: ${(error as Error).message}`,
        );
      }
    }
    const identity = NodeIdentity.generate();
    store.save(identity.#key.export({ format: "der", type: "pkcs8" }));
    return identity;
  }

  /** The signature of `bytes`, as 86 characters of base64url. */
  sign(bytes: Uint8Array): string {
    return sign(null, bytes, this.#key).toString("base64url");
  }
}
