/**
 * The network key handshake of one connection, as a connection runs it (the protocol is
 * in secure_channel.ts): this end's hello and proof go out, the remote's come in, and
 * then the two frame ciphers are ready.
 */

import { framed, HEADER_BYTES } from "../wire/codec.ts";
import {
  checkProof,
  type FrameCipher,
  helloBody,
  makeProof,
  type NetworkKey,
  newNonce,
  parseAuthBody,
  proofBody,
  type Role,
  sessionCiphers,
} from "../wire/secure_channel.ts";
import { WireError } from "../wire/wire_error.ts";

export class KeyHandshake {
  /** Seals this end's frames, once the handshake is done. */
  seal: FrameCipher | undefined;
  /** Opens the remote's frames, once the handshake is done. */
  open: FrameCipher | undefined;
  readonly #key: NetworkKey;
  readonly #role: Role;
  readonly #nonce = newNonce();
  #peerNonce: Uint8Array | undefined;
  readonly #ready = Promise.withResolvers<void>();
  /** Handshake frames go out one after another, ahead of everything else. */
  #writes: Promise<unknown> = Promise.resolve();
  readonly #write: (frame: Uint8Array) => Promise<void>;
  readonly #failed: (error: unknown) => void;

  /**
   * Starts the handshake by sending this end's hello through `write`; `failed` hears of
   * a handshake frame that could not be written.
   */
  constructor(
    key: NetworkKey,
    role: Role,
    write: (frame: Uint8Array) => Promise<void>,
    failed: (error: unknown) => void,
  ) {
    this.#key = key;
    this.#role = role;
    this.#write = write;
    this.#failed = failed;
    this.#send(helloBody(this.#nonce));
  }

  /** Settles once the handshake is done and its frames are written, or it was {@link abandon}ed. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Settles {@link ready} without ciphers: the connection closed. */
  abandon(): void {
    this.#ready.resolve();
  }

  /**
   * Runs one step on a frame body that arrived before the handshake was done. Throws
   * {@link WireError} on a malformed step or a proof of another key.
   */
  async step(body: Uint8Array): Promise<void> {
    const initiator = this.#role === "initiator";
    if (this.#peerNonce === undefined) {
      this.#peerNonce = parseAuthBody(body, "hello");
      const [nonceI, nonceR] = initiator ? [this.#nonce, this.#peerNonce] : [this.#peerNonce, this.#nonce];
      this.#send(proofBody(await makeProof(this.#key, this.#role, nonceI, nonceR)));
      return;
    }
    const mac = parseAuthBody(body, "proof");
    const [nonceI, nonceR] = initiator ? [this.#nonce, this.#peerNonce] : [this.#peerNonce, this.#nonce];
    const other = initiator ? "responder" : "initiator";
    if (!(await checkProof(this.#key, other, nonceI, nonceR, mac as Uint8Array<ArrayBuffer>))) {
      throw new WireError("auth_failed", "network key mismatch: the remote proved a different key");
    }
    const ciphers = await sessionCiphers(this.#key, this.#role, nonceI, nonceR);
    this.seal = ciphers.seal;
    this.open = ciphers.open;
    await this.#writes;
    this.#ready.resolve();
  }

  /** Each plaintext frame sealed into a new frame (the shared plaintext frame is not touched). */
  async sealAll(frames: Uint8Array[]): Promise<Uint8Array[]> {
    const seal = this.seal!;
    const sealed: Uint8Array[] = [];
    for (const frame of frames) sealed.push(framed(await seal.seal(frame.slice(HEADER_BYTES))));
    return sealed;
  }

  /** Writes one handshake frame, after the previous one. */
  #send(body: Uint8Array): void {
    this.#writes = this.#writes.then(() => this.#write(framed(body))).catch(this.#failed);
  }
}
