/**
 * The byte streams nodes talk over, behind one small interface: TCP through
 * `Deno.listen`/`Deno.connect` in production, an in-memory network in tests (see
 * memory_transport.ts). Connections, endpoints and probers only ever see these types.
 */

import type { Address } from "../wire/address.ts";

/** One ordered, reliable byte stream: a TCP connection or its in-memory stand-in. */
export interface Stream {
  /** This end's socket address. */
  readonly localAddr: Address;
  /** The other end's socket address. */
  readonly remoteAddr: Address;
  /** Reads into `buffer`; resolves with the bytes read, or null at the end of the stream. Throws {@link TransportError}. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes` (at least one); resolves with how many. Throws {@link TransportError}. */
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
  close(): void;
}

export interface Transport {
  /** Binds `host:port` (port 0 picks a free one). Throws `Deno.errors.AddrInUse` / `AddrNotAvailable` as TCP does. */
  listen(host: string, port: number): Listener;
  /** Opens a stream to `address`. Throws {@link TransportError}: `refused`, `cancelled` (by `signal`), or `failed`. */
  connect(address: Address, signal: AbortSignal): Promise<Stream>;
}

/** Why a transport operation failed, in the words the nodes log. */
export type TransportErrorCode = "refused" | "reset" | "closed" | "cancelled" | "failed";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(readonly code: TransportErrorCode, message: string = code, options?: ErrorOptions) {
    super(message, options);
  }
}
