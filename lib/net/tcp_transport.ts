/** The {@link Transport} of real networks: TCP through `Deno.listen` and `Deno.connect`. */

import { type Address, makeAddress } from "../wire/address.ts";
import { type Listener, type Stream, type Transport, TransportError, transportError } from "./transport.ts";

export class TcpTransport implements Transport {
  listen(host: string, port: number): Listener {
    return new TcpListener(Deno.listen({ hostname: host, port }));
  }

  async connect(address: Address, signal: AbortSignal): Promise<Stream> {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: address.host, port: address.port, signal });
    } catch (error) {
      if (signal.aborted) throw new TransportError("cancelled", "cancelled", { cause: error });
      throw transportError(error);
    }
    return new TcpStream(conn);
  }
}

class TcpListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.TcpListener;

  constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.addr = netAddress(listener.addr);
  }

  async accept(): Promise<Stream> {
    try {
      return new TcpStream(await this.#listener.accept());
    } catch (error) {
      throw transportError(error);
    }
  }

  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/** A TCP connection; reads and writes go straight to the socket, errors and all (see {@link transportError}). */
class TcpStream implements Stream {
  readonly localAddr: Address;
  readonly remoteAddr: Address;
  readonly #conn: Deno.TcpConn;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    // Small frames must leave at once: Nagle's algorithm with delayed ACKs would hold them back.
    conn.setNoDelay(true);
    this.localAddr = netAddress(conn.localAddr);
    this.remoteAddr = netAddress(conn.remoteAddr);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime: nothing left to release.
    }
  }
}

function netAddress(addr: Deno.NetAddr): Address {
  return makeAddress(addr.hostname, addr.port);
}
