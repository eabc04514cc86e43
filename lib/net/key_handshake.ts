/**
 * The network key handshake of one connection, as a connection runs it (the protocol is
 * in secure_channel.ts): this end's hello and proof go out, the remote's come in, and
 * then the session (record sealer, opener, channel binding) is ready.
 */

import { framed, FrameDecoder } from "../wire/codec.ts";
import {
  checkProof,
  deriveSession,
  type Hello,
  helloBody,
  makeProof,
  type NetworkKey,
  newHello,
  parseHello,
  parseProof,
  proofBody,
  type Role,
  type Session,
  type Transcript,
} from "../wire/secure_channel.ts";
import { WireError } from "../wire/wire_error.ts";

export class KeyHandshake {
  /** The session, once the handshake is done. */
  session: Session | undefined;
  /** The frames inside the records the connection reads; views, valid until the next record. */
  readonly #frames: FrameDecoder;
  readonly #key: NetworkKey;
  readonly #role: Role;
  readonly #hello: Hello = newHello();
  #transcript: Transcript | undefined;
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
    maxFrameBytes: number,
  ) {
    this.#frames = new FrameDecoder(maxFrameBytes, { views: true });
    this.#key = key;
    this.#role = role;
    this.#write = write;
    this.#failed = failed;
    this.#send(helloBody(this.#hello));
  }

  /** Settles once the handshake is done and its frames are written, or it was {@link abandon}ed. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Bytes of a frame inside the records that has not all arrived. */
  get pendingBytes(): number {
    return this.#frames.pendingBytes;
  }

  /**
   * Takes one body off the wire: a handshake step, or a record whose frames go to
   * `frame` in order. Returns false once `frame` does (the connection closed). Throws
   * {@link WireError} on a failed step or a record that does not authenticate.
   */
  receive(body: Uint8Array, frame: (body: Uint8Array) => boolean): boolean {
    const session = this.session;
    if (session === undefined) {
      this.step(body);
      return true;
    }
    for (const inner of this.#frames.push(session.open.open(body))) if (!frame(inner)) return false;
    return true;
  }

  /** The stream ended: throws `truncated` if it ended inside a frame. */
  end(): void {
    this.#frames.end();
  }

  /** Settles {@link ready} without a session: the connection closed. */
  abandon(): void {
    this.#ready.resolve();
  }

  /**
   * Runs one step on a frame body that arrived before the handshake was done. Throws
   * {@link WireError} on a malformed step or a proof of another key.
   */
  step(body: Uint8Array): void {
    const initiator = this.#role === "initiator";
    if (this.#transcript === undefined) {
      const peer = parseHello(body);
      const mine = this.#hello;
      this.#transcript = initiator
        ? { nonceI: mine.nonce, nonceR: peer.nonce, dhI: mine.dh, dhR: peer.dh }
        : { nonceI: peer.nonce, nonceR: mine.nonce, dhI: peer.dh, dhR: mine.dh };
      this.#send(proofBody(makeProof(this.#key, this.#role, this.#transcript)));
      return;
    }
    const mac = parseProof(body);
    if (!checkProof(this.#key, initiator ? "responder" : "initiator", this.#transcript, mac)) {
      throw new WireError("auth_failed", "network key mismatch: the remote proved a different key");
    }
    this.session = deriveSession(this.#key, this.#role, this.#transcript, this.#hello);
    this.#writes.then(() => this.#ready.resolve());
  }

  /** Writes one handshake frame, after the previous one. */
  #send(body: Uint8Array): void {
    this.#writes = this.#writes.then(() => this.#write(framed(body))).catch(this.#failed);
  }
}
