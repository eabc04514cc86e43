/**
 * The byte streams nodes talk over, behind one small interface: TCP through
 * `Deno.listen`/`Deno.connect` in production (tcp_transport.ts), an in-memory network in
 * tests (memory_transport.ts). Connections, endpoints and probers only ever see these types.
 */

import type { Address } from "../wire/address.ts";

/** One ordered, reliable byte stream: a TCP connection or its in-memory stand-in. */
export interface Stream {
  /** This end's socket address. */
  readonly localAddr: Address;
  /** The other end's socket address. */
  readonly remoteAddr: Address;
  /**
   * Reads into `buffer`; resolves with the bytes read, or null at the end of the stream.
   * Rejects with an error that {@link transportError} classifies.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes` (at least one); resolves with how many. Rejects like {@link read}. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes both directions; a pending read resolves or rejects. Safe to call twice. */
  close(): void;
}

/** Accepts incoming streams on one address. */
export interface Listener {
  /** The bound address (with the port picked when 0 was asked for). */
  readonly addr: Address;
  /** The next incoming stream. Throws {@link TransportError} `closed` once the listener is closed. */
  accept(): Promise<Stream>;
  /** Stops accepting. Safe to call twice. */
  close(): void;
}

export interface Transport {
  /** Binds `host:port` (port 0 picks a free one). Throws `Deno.errors.AddrInUse` / `AddrNotAvailable` as TCP does. */
  listen(host: string, port: number): Listener;
  /** Opens a stream to `address`. Throws {@link TransportError}: `refused`, `cancelled` (by `signal`), or `failed`. */
  connect(address: Address, signal: AbortSignal): Promise<Stream>;
}

/** Why a transport operation failed, in the words the nodes log. */
export type TransportErrorCode = "refused" | "reset" | "closed" | "cancelled" | "timed_out" | "failed";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(readonly code: TransportErrorCode, message: string = code, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The {@link TransportError} behind an error a transport threw: the error itself, or one
 * of Deno's I/O errors classified by its class. TCP streams pass Deno's errors through
 * as they are, so that a read or a write costs no promise of its own on the hot path.
 */
export function transportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(denoErrorCode(error), message, { cause: error });
}

function denoErrorCode(error: unknown): TransportErrorCode {
  const errors = Deno.errors;
  if (error instanceof errors.ConnectionRefused) return "refused";
  if (
    error instanceof errors.ConnectionReset || error instanceof errors.ConnectionAborted ||
    error instanceof errors.BrokenPipe
  ) return "reset";
  if (error instanceof errors.BadResource || error instanceof errors.Interrupted) return "closed";
  if (error instanceof errors.TimedOut) return "timed_out";
  return "failed";
}

/** Why a connection closed after a failed read, in a few words for logs. */
export function readFailureReason(error: unknown): string {
  const failure = transportError(error);
  if (failure.code === "reset") return "reset by remote";
  if (failure.code === "closed") return "closed locally";
  return `read failed: ${failure.message}`;
}

/** Why a connection closed after a failed write, in a few words for logs. */
export function writeFailureReason(error: unknown): string {
  const failure = transportError(error);
  return failure.code === "reset" ? "write failed: reset by remote" : `write failed: ${failure.message}`;
}
