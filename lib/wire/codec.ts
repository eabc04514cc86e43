/**
 * Framing: a 4-byte unsigned big-endian length, then that many bytes of body, UTF-8
 * JSON for every p2pnet frame. The codec knows nothing of message schemas, peers or
 * seeds: messages.ts gives the JSON its meaning.
 */

import { WireError } from "./wire_error.ts";

/** Bytes of the length prefix. */
export const HEADER_BYTES = 4;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Hands out byte buffers for outgoing frames, carved from shared slabs: a view of a slab
 * is much cheaper than a typed array with a backing store of its own, and a node sends a
 * frame per delivered message. A slab is freed once no frame cut from it is still queued.
 */
export class FramePool {
  #slab = new Uint8Array(0);
  #used = 0;

  /**
   * @param slabBytes bytes of each slab (nodes pass `TUNING.framePoolSlabBytes`); requests over an
   *   eighth of it get a buffer of their own
   */
  constructor(readonly slabBytes: number) {}

  /** A zeroed buffer of `bytes` bytes that no one else holds. */
  take(bytes: number): Uint8Array {
    if (bytes > this.slabBytes / 8) return new Uint8Array(bytes);
    if (this.#used + bytes > this.#slab.length) {
      this.#slab = new Uint8Array(this.slabBytes);
      this.#used = 0;
    }
    const buffer = this.#slab.subarray(this.#used, this.#used + bytes);
    this.#used += bytes;
    return buffer;
  }
}

/** Writes the header of a frame whose body is `bodyBytes` long into the first 4 bytes of `frame`. */
export function writeHeader(frame: Uint8Array, bodyBytes: number): void {
  frame[0] = bodyBytes >>> 24;
  frame[1] = (bodyBytes >>> 16) & 0xff;
  frame[2] = (bodyBytes >>> 8) & 0xff;
  frame[3] = bodyBytes & 0xff;
}

/** A new frame holding `body` (copied) behind its header; for bodies that are bytes already. */
export function framed(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(frame, body.length);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * Encodes `value` as JSON into one frame. Encode once and hand the same bytes to every
 * connection it goes to. Throws {@link WireError} `frame_too_large` past the maximum.
 * `pool` supplies the buffer (see {@link FramePool}). @default a buffer of its own
 */
export function encodeFrame(
  value: object,
  maxFrameBytes: number,
  pool?: FramePool,
): Uint8Array {
  const json = JSON.stringify(value);
  // Most frames are ASCII: try a buffer of exactly that size first.
  let frame = frameBuffer(HEADER_BYTES + json.length, pool);
  let { read, written } = encoder.encodeInto(json, frame.subarray(HEADER_BYTES));
  if (read < json.length) {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    frame = frameBuffer(HEADER_BYTES + json.length * 3, pool);
    ({ read, written } = encoder.encodeInto(json, frame.subarray(HEADER_BYTES)));
    frame = frame.subarray(0, HEADER_BYTES + written);
  }
  if (written > maxFrameBytes) {
    throw new WireError(
      "frame_too_large",
      `frame of ${written} bytes exceeds the maximum of ${maxFrameBytes}`,
    );
  }
  writeHeader(frame, written);
  return frame;
}

function frameBuffer(bytes: number, pool: FramePool | undefined): Uint8Array {
  return pool ? pool.take(bytes) : new Uint8Array(bytes);
}

/**
 * Decodes one frame body (the bytes after the header) as UTF-8 JSON, unchecked: see
 * `decodeMessage` in messages.ts. Throws {@link WireError} `invalid_utf8` or `invalid_json`.
 */
export function decodeJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = strictDecoder.decode(body);
  } catch {
    throw new WireError("invalid_utf8", `frame of ${body.length} bytes is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WireError("invalid_json", `frame is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Splits a byte stream into frame bodies, whatever its chunking. A length above the
 * maximum is refused as soon as the prefix is complete, before anything of that size
 * is allocated; the buffer grows with the bytes that actually arrived (at most twice
 * them), so a peer that announces a large frame and trickles it costs what it sent.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #views: boolean;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /**
   * @param maxFrameBytes Largest frame body accepted (the node's setting).
   * @param options.views Return bodies as views into the pushed chunk or the internal
   *   buffer instead of copies: faster, but a body is valid only until the next
   *   {@link push}. @default false
   */
  constructor(maxFrameBytes: number, { views = false }: { views?: boolean } = {}) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#views = views;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * Feeds a chunk; returns the bodies it completed, in order. Without `views`, the
   * caller may reuse `chunk` afterwards. Throws {@link WireError}; the decoder is then empty.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const bodies: Uint8Array[] = [];
    let offset = 0;
    // Whole frames at the front of a chunk, with nothing buffered, are copied straight out.
    while (this.#start === this.#end && chunk.length - offset >= HEADER_BYTES) {
      const length = this.#readLength(chunk, offset);
      if (chunk.length - offset - HEADER_BYTES < length) break;
      const from = offset + HEADER_BYTES;
      bodies.push(this.#views ? chunk.subarray(from, from + length) : chunk.slice(from, from + length));
      offset += HEADER_BYTES + length;
    }
    if (offset === chunk.length) return bodies;
    this.#append(chunk.subarray(offset));
    for (;;) {
      const available = this.#end - this.#start;
      if (available < HEADER_BYTES) break;
      const length = this.#readLength(this.#buffer, this.#start);
      if (available - HEADER_BYTES < length) break;
      const from = this.#start + HEADER_BYTES;
      bodies.push(
        this.#views ? this.#buffer.subarray(from, from + length) : this.#buffer.slice(from, from + length),
      );
      this.#start = from + length;
    }
    if (this.#start === this.#end) this.#reset();
    return bodies;
  }

  /** Declares the end of the stream; throws `truncated` if it ended inside a frame. */
  end(): void {
    const pending = this.pendingBytes;
    this.#reset();
    if (pending > 0) {
      throw new WireError("truncated", `stream ended inside a frame, ${pending} bytes pending`);
    }
  }

  #readLength(bytes: Uint8Array, at: number): number {
    const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
      0;
    if (length > this.#maxFrameBytes) {
      this.#reset();
      throw new WireError(
        "frame_too_large",
        `length prefix announces ${length} bytes, more than the maximum of ${this.#maxFrameBytes}`,
      );
    }
    return length;
  }

  #append(bytes: Uint8Array): void {
    const used = this.#end - this.#start;
    if (this.#end + bytes.length > this.#buffer.length) {
      if (used + bytes.length <= this.#buffer.length && this.#start > 0) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(used + bytes.length, this.#buffer.length * 2, 256));
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  #reset(): void {
    this.#buffer = new Uint8Array(0);
    this.#start = 0;
    this.#end = 0;
  }
}
