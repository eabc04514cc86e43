/**
 * Node ids proved over connections: the challenge an accepting node sends first, the
 * signatures over the other end's nonce that the opening frames, probe replies and
 * goodbyes carry, and checking them. docs/protocol.md ("Node identities") has the rules.
 */

import type { Connection } from "../net/connection.ts";
import {
  type Challenge,
  type Death,
  type LivelinessReply,
  PROTOCOL_VERSION,
  versionRefusal,
} from "../wire/messages.ts";
import { newNonce, proofBytes, type ProofPurpose, type PublicKeys } from "../wire/signatures.ts";
import type { NodeIdentity } from "./identity.ts";
import type { FirstReplies } from "./first_reply.ts";

export class Proofs {
  readonly #identity: NodeIdentity;
  readonly #keys: PublicKeys;
  readonly #self: () => string;

  /** @param self this node's listening address, which its signatures cover */
  constructor(identity: NodeIdentity, keys: PublicKeys, self: () => string) {
    this.#identity = identity;
    this.#keys = keys;
    this.#self = self;
  }

  /** This node's id. */
  get id(): string {
    return this.#identity.id;
  }

  /** The challenge for a connection this node accepted; its nonce is what the other end signs. */
  challenge(conn: Connection): Challenge {
    const nonce = conn.auth.local = newNonce();
    return { type: "challenge", version: PROTOCOL_VERSION, nonce };
  }

  /**
   * Waits for the challenge that opens a connection this node made, and keeps its nonce
   * for this node to sign. Throws with a few words if something else comes first.
   */
  async challenged(replies: FirstReplies, conn: Connection, timeoutMs: number): Promise<void> {
    await replies.wait(conn, timeoutMs, (first) => {
      if (first?.type !== "challenge") {
        throw new Error(first ? `sent ${first.type} before a challenge` : conn.closeReason ?? "closed");
      }
      const refusal = versionRefusal(first.version);
      if (refusal !== undefined) throw new Error(`speaks another protocol: ${refusal}`);
      conn.auth.remote = first.nonce;
    });
  }

  /** This node's signature for `purpose` over `nonce` (the remote's, by default), bound to `conn`. */
  sign(conn: Connection, purpose: ProofPurpose, nonce = conn.auth.remote ?? ""): string {
    // A seed is known by the address it was dialled at, which may name its host otherwise: it signs none.
    const addr = purpose === "peer_list" ? "" : this.#self();
    const key = `${purpose}\n${nonce}\n${addr}`;
    const signed = conn.auth.signed ??= new Map();
    let sig = signed.get(key);
    if (sig === undefined) {
      signed.set(key, sig = this.#identity.sign(proofBytes(purpose, nonce, addr, conn.binding)));
    }
    return sig;
  }

  /**
   * Whether `node` signed `purpose` for `addr` over this end's nonce on `conn`; on success
   * the connection's remote is known as `node`.
   */
  check(conn: Connection, purpose: ProofPurpose, node: string, addr: string, sig: string): boolean {
    const nonce = conn.auth.local;
    if (nonce === undefined) return false;
    // A renewal repeats the proof of its connection: checked once.
    const proof = `${purpose}\n${node}\n${addr}\n${sig}`;
    if (conn.auth.proved === proof) return true;
    if (!this.#keys.verify(node, proofBytes(purpose, nonce, addr, conn.binding), sig)) return false;
    conn.auth.remoteId = node;
    conn.auth.proved = proof;
    return true;
  }

  /** This node's signature of a message it publishes (the bytes of `messageBytes`). */
  signMessage(bytes: Uint8Array): string {
    return this.#identity.sign(bytes);
  }

  /** The answer to a probe: signed when the prober asked for proof with a nonce. */
  probeReply(conn: Connection, ts: number, nonce: string | undefined): LivelinessReply {
    if (nonce === undefined) return { type: "liveliness_reply", ts };
    return { type: "liveliness_reply", ts, node: this.id, sig: this.sign(conn, "liveliness_reply", nonce) };
  }

  /** This node's goodbye on `conn`, signed over the remote's nonce so it counts on this connection only. */
  goodbye(conn: Connection): Death {
    const self = this.#self();
    return { type: "death", addr: self, reason: "leaving", reporter: self, sig: this.sign(conn, "leaving") };
  }
}
