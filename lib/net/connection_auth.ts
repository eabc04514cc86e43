/** What the two ends of a connection prove to each other of their node ids (lib/node/proofs.ts keeps it). */

/** A connection's nonces and the node id its remote proved. */
export interface ConnectionAuth {
  /** The nonce this end gave the remote to sign (its challenge, or its request's nonce). */
  local?: string;
  /** The nonce the remote gave this end to sign. */
  remote?: string;
  /** The remote's node id, once it proved it. */
  remoteId?: string;
  /** The last proof checked on this connection, and this end's signatures for it, so a repeat costs nothing. */
  proved?: string;
  signed?: Map<string, string>;
}
