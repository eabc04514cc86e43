/**
 * A framed, checked connection over a {@link Stream}: `send()` queues frames and
 * coalesces those sent in the same tick into one write; `read()` hands over checked
 * messages; `close()` is idempotent and settles every pending read and write.
 */

import { type Address, formatAddress } from "../wire/address.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { readFailureReason, type Stream, writeFailureReason } from "./transport.ts";
import { encodeFrame, FrameDecoder, FramePool } from "../wire/codec.ts";
import { type NetworkKey, RECORD_BYTES, TAG_BYTES } from "../wire/secure_channel.ts";
import { KeyHandshake } from "./key_handshake.ts";
import type { ConnectionAuth } from "./connection_auth.ts";
import { decodeMessage, type Message } from "../wire/messages.ts";
import { DEFAULT_SETTINGS, messageLimits, TUNING } from "../settings/config.ts";
import { TokenBucket } from "../util/rate_limiter.ts";
import { LevelWaiters } from "../util/level_waiters.ts";
import { WireError } from "../wire/wire_error.ts";
import type { WireStats } from "./wire_stats.ts";

export interface ConnectionOptions {
  /** Largest frame body accepted or sent, in bytes. @default DEFAULT_SETTINGS.maxFrameBytes */
  maxFrameBytes?: number;
  /**
   * Turns a frame body into a checked message, throwing {@link WireError} if it is not
   * one. @default decodeMessage with the default limits
   */
  decode?: (body: Uint8Array) => Message;
  /**
   * Bytes queued for writing beyond which the connection is closed as too slow.
   * @default DEFAULT_SETTINGS.maxQueuedBytes
   */
  maxQueuedBytes?: number;
  /** Bytes of this connection's read buffer. @default DEFAULT_SETTINGS.readBufferBytes */
  readBufferBytes?: number;
  /** Where activity times and rate budgets read the time. @default systemClock */
  clock?: Clock;
  /**
   * Looks at each raw frame body before it is decoded; returning true drops the frame
   * unparsed (it still counts as received). Peers use it to drop repeats of gossip
   * they have already seen without paying for JSON. @default keeps every frame
   */
  skipFrame?: (body: Uint8Array, conn: Connection) => boolean;
  /** Most frames per second the remote may send; bursts of twice that pass. @default unlimited */
  maxFramesPerSecond?: number;
  /** Most bytes per second the remote may send; bursts of twice that pass. @default unlimited */
  maxBytesPerSecond?: number;
  /** Shared network key: authenticate both ends and encrypt every frame. @default none (plain frames) */
  networkKey?: NetworkKey;
  /** True on the end that opened the connection (it matters for the key handshake). @default false */
  initiator?: boolean;
  /** Where outgoing frames and coalesced writes get their bytes. @default a pool of its own */
  pool?: FramePool;
  /** Counts frames and bytes by type, for the node's metrics. @default not counted */
  stats?: WireStats;
}

/** How {@link Connection.sendFrame} queues a frame. */
export interface SendOptions {
  /**
   * Queue it ahead of frames not yet written: for probes and their replies, so that a
   * link busy with gossip does not look dead. @default false
   */
  urgent?: boolean;
}

/** Why a connection ended, for logs and for deciding whether a neighbour is lost. */
export type CloseReason = string;

const EMPTY = new Uint8Array(0);

export class Connection {
  /** The remote socket address, `host:port`. */
  readonly remote: string;
  /** When the connection was made, in clock milliseconds. */
  readonly openedAt: number;
  /** When the last byte arrived, in clock milliseconds. */
  lastByteAt: number;
  /** When the last whole frame arrived (when the connection was made, before any), in clock milliseconds. */
  lastFrameAt: number;
  /** When the first byte of the frame now arriving came, in clock milliseconds; see {@link pendingBytes}. */
  frameStartedAt: number;
  /** Set by the node on a registration or a seed or neighbour link: the idle timeout leaves it open. */
  kept = false;
  framesReceived = 0;
  framesSent = 0;
  bytesSent = 0;
  /** Node ids and nonces of this connection's identity handshake. */
  readonly auth: ConnectionAuth = {};

  readonly #stream: Stream;
  readonly #decoder: FrameDecoder;
  readonly #decode: (body: Uint8Array) => Message;
  readonly #maxFrameBytes: number;
  readonly #maxQueuedBytes: number;
  readonly #readBufferBytes: number;
  readonly #pool: FramePool;
  readonly #clock: Clock;
  readonly #skipFrame: ((body: Uint8Array, conn: Connection) => boolean) | undefined;
  readonly #frameBudget: TokenBucket | undefined;
  readonly #byteBudget: TokenBucket | undefined;
  readonly #secure: KeyHandshake | undefined;
  readonly #stats: WireStats | undefined;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  /** The write under way on a plain connection: its bytes, how many went out, and the queued bytes it covers. */
  readonly #write: { bytes: Uint8Array; written: number; plainBytes: number } = {
    bytes: EMPTY,
    written: 0,
    plainBytes: 0,
  };
  #drained: PromiseWithResolvers<void> | undefined;
  /** Callers of {@link whenQueuedAtMost} waiting for the queue to shrink. */
  readonly #roomWaiters = new LevelWaiters();
  #closeReason: CloseReason | undefined;
  readonly #closed = Promise.withResolvers<void>();

  constructor(stream: Stream, options: ConnectionOptions = {}) {
    this.#stream = stream;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_SETTINGS.maxFrameBytes;
    this.#decode = options.decode ?? ((body) => decodeMessage(body, messageLimits(DEFAULT_SETTINGS)));
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_SETTINGS.maxQueuedBytes;
    this.#readBufferBytes = options.readBufferBytes ?? DEFAULT_SETTINGS.readBufferBytes;
    this.#pool = options.pool ?? new FramePool(TUNING.framePoolSlabBytes);
    this.#clock = options.clock ?? systemClock;
    this.#skipFrame = options.skipFrame;
    this.#stats = options.stats;
    const { maxFramesPerSecond: frames, maxBytesPerSecond: bytes } = options;
    const now = this.#clock.now();
    if (frames !== undefined) this.#frameBudget = new TokenBucket(frames, 2 * frames, now);
    if (bytes !== undefined) this.#byteBudget = new TokenBucket(bytes, 2 * bytes, now);
    // Views are safe: each body is decoded before the next read reuses the buffer. With a
    // key the stream carries records, each holding a piece of the frame stream.
    this.#decoder = new FrameDecoder(options.networkKey ? RECORD_BYTES + TAG_BYTES : this.#maxFrameBytes, {
      views: true,
    });
    if (options.networkKey) {
      this.#secure = new KeyHandshake(
        options.networkKey,
        options.initiator ? "initiator" : "responder",
        (frame) => this.#writeAll(frame),
        (error) => this.close(writeFailureReason(error)),
        this.#maxFrameBytes,
      );
    }
    this.remote = formatAddress(stream.remoteAddr);
    this.openedAt = this.lastByteAt = now;
    this.lastFrameAt = this.frameStartedAt = now;
  }

  /** The remote socket address as host and port. */
  get remoteAddress(): Address {
    return this.#stream.remoteAddr;
  }

  /** This end's socket address: the address of this machine that the remote sees (without NAT). */
  get localAddress(): Address {
    return this.#stream.localAddr;
  }

  /** Bytes of a frame that has started to arrive but is not complete. */
  get pendingBytes(): number {
    return this.#decoder.pendingBytes + (this.#secure?.pendingBytes ?? 0);
  }

  /**
   * Names this connection's session keys (empty without a network key): handshake
   * signatures cover it, so that they prove nothing on another connection.
   */
  get binding(): string {
    return this.#secure?.session?.binding ?? "";
  }

  /** Bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get isClosed(): boolean {
    return this.#closeReason !== undefined;
  }

  /** Why the connection closed, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Settles once the connection is closed. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Encodes and queues one message (see {@link sendFrame}). Returns false if the connection is closed. */
  send(message: Message, options?: SendOptions): boolean {
    return this.sendFrame(encodeFrame(message, this.#maxFrameBytes, this.#pool), options);
  }

  /**
   * Queues an encoded frame, shared as-is with any other connection it goes to.
   * Frames queued in the same tick go out in one write; `urgent` ones first. Returns
   * false if closed, or if the queue would pass its limit (the connection is then closed).
   */
  sendFrame(frame: Uint8Array, options?: SendOptions): boolean {
    if (this.#closeReason !== undefined) return false;
    if (this.#queuedBytes + frame.length > this.#maxQueuedBytes) {
      this.close(`write queue over ${this.#maxQueuedBytes} bytes (remote not reading)`);
      return false;
    }
    if (options?.urgent === true) this.#queue.unshift(frame);
    else this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    this.framesSent++;
    this.bytesSent += frame.length;
    this.#stats?.sent(frame);
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(this.#startWriting);
    }
    return true;
  }

  /** Resolves when everything queued so far is written (or the connection closed). */
  flush(): Promise<void> {
    if (!this.#writing || this.#closeReason !== undefined) return Promise.resolve();
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** Resolves true once at most `bytes` are queued, false if the connection closes first: for paced senders. */
  whenQueuedAtMost(bytes: number): Promise<boolean> {
    if (this.#closeReason !== undefined) return Promise.resolve(false);
    return this.#roomWaiters.wait(bytes, this.#queuedBytes);
  }

  /** Starts writing what was queued this tick; one function per connection, not a closure per tick. */
  readonly #startWriting = () => {
    const secure = this.#secure;
    if (secure !== undefined && secure.session === undefined) {
      // Frames wait for the handshake: they go out sealed, after its frames.
      secure.ready.then(() => this.#writeNext());
    } else this.#writeNext();
  };

  /**
   * Writes through callbacks rather than an async function: a write per delivered
   * message is the hot path, and each async call and await allocates. With a network
   * key, what one write carries is sealed as records, one per {@link RECORD_BYTES}.
   */
  #writeNext(): void {
    if (this.#queue.length === 0 || this.#closeReason !== undefined) return this.#writeDone();
    const frames = this.#queue;
    this.#queue = [];
    const plain = this.#coalesce(frames);
    this.#write.bytes = this.#secure ? this.#secure.session!.seal.seal(plain) : plain;
    this.#write.written = 0;
    this.#write.plainBytes = totalLength(frames);
    this.#writeRest();
  }

  #writeRest(): void {
    const { bytes, written } = this.#write;
    try {
      this.#stream.write(written === 0 ? bytes : bytes.subarray(written)).then(
        this.#onWritten,
        this.#onWriteFailed,
      );
    } catch (error) {
      this.#onWriteFailed(error);
    }
  }

  readonly #onWritten = (count: number) => {
    const write = this.#write;
    write.written += count;
    if (this.#closeReason !== undefined) return this.#writeDone();
    if (write.written < write.bytes.length) return this.#writeRest();
    this.#queuedBytes -= write.plainBytes;
    this.#roomWaiters.changed(this.#queuedBytes);
    this.#writeNext();
  };

  readonly #onWriteFailed = (error: unknown) => {
    this.close(writeFailureReason(error));
    this.#writeDone();
  };

  #writeDone(): void {
    this.#write.bytes = EMPTY;
    this.#writing = false;
    this.#drained?.resolve();
    this.#drained = undefined;
  }

  /** Writes all of `bytes`, in as many writes as the stream takes. */
  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#stream.write(written === 0 ? bytes : bytes.subarray(written));
    }
  }

  /** The frames as one buffer for one write: the frame itself when there is one. */
  #coalesce(frames: Uint8Array[]): Uint8Array {
    if (frames.length === 1) return frames[0]!;
    const bytes = this.#pool.take(totalLength(frames));
    let at = 0;
    for (const frame of frames) {
      bytes.set(frame, at);
      at += frame.length;
    }
    return bytes;
  }

  /**
   * Reads until the remote closes or the connection is closed here, handing each checked
   * message to `onMessage` as soon as its frame is complete (a callback, not an async
   * iterator: no promise per frame). Throws {@link WireError} on bad input, after closing
   * the connection.
   */
  async read(onMessage: (message: Message) => void): Promise<void> {
    const buffer = new Uint8Array(this.#readBufferBytes);
    const onFrame = (body: Uint8Array) => this.#frame(body, onMessage);
    try {
      while (this.#closeReason === undefined) {
        let n: number | null;
        try {
          n = await this.#stream.read(buffer);
        } catch (error) {
          if (this.#closeReason === undefined) this.close(readFailureReason(error));
          return;
        }
        if (n === null) {
          try {
            this.#decoder.end();
            this.#secure?.end();
          } finally {
            this.close("closed by remote");
          }
          return;
        }
        const now = this.lastByteAt = this.#clock.now();
        if (this.#byteBudget && !this.#byteBudget.take(n, now)) {
          throw new WireError("rate_limited", `more than ${this.#byteBudget.rate} bytes per second`);
        }
        const before = this.pendingBytes;
        const bodies = this.#decoder.push(buffer.subarray(0, n));
        const secure = this.#secure;
        for (const body of bodies) {
          if (!(secure ? secure.receive(body, onFrame) : this.#frame(body, onMessage))) return;
        }
        // A frame's deadline runs from its first byte, however slowly the rest trickles in.
        if (this.pendingBytes > 0 && (before === 0 || bodies.length > 0)) this.frameStartedAt = now;
      }
    } catch (error) {
      if (error instanceof WireError) {
        const auth = error.code === "auth_failed" || error.code === "auth_required";
        this.close(auth ? error.message : `bad frame: ${error.code}`);
      }
      throw error;
    } finally {
      this.close("reader done");
    }
  }

  /** Hands one received frame on; false once the connection closed. */
  #frame(body: Uint8Array, onMessage: (message: Message) => void): boolean {
    const now = this.lastByteAt;
    if (this.#frameBudget && !this.#frameBudget.take(1, now)) {
      throw new WireError("rate_limited", `more than ${this.#frameBudget.rate} frames per second`);
    }
    this.framesReceived++;
    this.lastFrameAt = now;
    this.#stats?.received(body);
    if (this.#skipFrame?.(body, this)) return true;
    onMessage(this.#decode(body));
    return this.#closeReason === undefined;
  }

  /** Closes the connection once; later calls do nothing. */
  close(reason: CloseReason = "closed locally"): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#secure?.abandon();
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#roomWaiters.cancel();
    this.#stream.close();
    this.#closed.resolve();
  }
}

function totalLength(frames: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const frame of frames) bytes += frame.length;
  return bytes;
}
