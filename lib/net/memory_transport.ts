/**
 * An in-memory network for tests. Each node gets a {@link Transport} of one
 * {@link MemoryNetwork}; its streams behave like TCP's (ordered bytes, partial writes, a
 * bounded amount in flight, end of stream, refusals) without sockets or timers:
 * everything settles through promises, so a FakeClock drives a whole network.
 */

import { type Address, formatAddress, makeAddress } from "../wire/address.ts";
import { type Listener, type Stream, type Transport, TransportError } from "./transport.ts";

export interface MemoryNetworkOptions {
  /** Bytes one direction of a stream holds unread before its writer waits. @default 65536 */
  highWaterMark?: number;
}

/** First port handed out when a listener asks for port 0 or a stream needs a local port. */
const FIRST_PORT = 40_000;
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::"]);

/** A pending connect, retried when the hosts between which it hangs are healed. */
interface PendingConnect {
  readonly from: string;
  readonly to: string;
  readonly retry: () => void;
}

export class MemoryNetwork {
  readonly highWaterMark: number;
  readonly #listeners = new Map<string, MemoryListener>();
  readonly #nextPort = new Map<string, number>();
  readonly #cuts = new Set<string>();
  readonly #pipes = new Set<Pipe>();
  readonly #connecting = new Set<PendingConnect>();

  constructor({ highWaterMark = 64 * 1024 }: MemoryNetworkOptions = {}) {
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
      throw new RangeError(`MemoryNetwork: highWaterMark must be a whole number >= 1, got ${highWaterMark}`);
    }
    this.highWaterMark = highWaterMark;
  }

  /** The transport of a node on `host`: it listens there, and its streams come from there. */
  transport(host = "127.0.0.1"): Transport {
    return {
      listen: (listenHost, port) => this.#listen(host, listenHost, port),
      connect: (address, signal) => this.#connect(host, address, signal),
    };
  }

  /**
   * Drops traffic between hosts `a` and `b` until {@link heal}: bytes in flight stay
   * unread (writers wait once the high-water mark is reached) and connects hang, as
   * over a link that lost every packet.
   */
  cut(a: string, b: string): void {
    this.#cuts.add(linkKey(a, b));
  }

  /** Lets traffic between `a` and `b` through again: what waited is delivered. */
  heal(a: string, b: string): void {
    const key = linkKey(a, b);
    if (!this.#cuts.delete(key)) return;
    for (const pipe of this.#pipes) if (linkKey(pipe.from, pipe.to) === key) pipe.pump();
    for (const pending of [...this.#connecting]) {
      if (linkKey(pending.from, pending.to) === key) pending.retry();
    }
  }

  /** Whether traffic between `a` and `b` is dropped. */
  isCut(a: string, b: string): boolean {
    return this.#cuts.size > 0 && this.#cuts.has(linkKey(a, b));
  }

  #listen(own: string, host: string, port: number): Listener {
    if (WILDCARD_HOSTS.has(host)) host = own;
    if (host !== own) {
      throw new Deno.errors.AddrNotAvailable(`Cannot listen on ${host}: this transport's host is ${own}`);
    }
    if (port === 0) port = this.#freePort(host);
    const key = formatAddress({ host, port });
    if (this.#listeners.has(key)) throw new Deno.errors.AddrInUse(`Address already in use: ${key}`);
    const listener = new MemoryListener(makeAddress(host, port), () => this.#listeners.delete(key));
    this.#listeners.set(key, listener);
    return listener;
  }

  #connect(from: string, address: Address, signal: AbortSignal): Promise<Stream> {
    return new Promise((resolve, reject) => {
      const pending: PendingConnect = { from, to: address.host, retry: () => attempt() };
      const cancel = () => {
        this.#connecting.delete(pending);
        reject(new TransportError("cancelled", "cancelled"));
      };
      const attempt = () => {
        if (signal.aborted) return cancel();
        if (this.isCut(from, address.host)) {
          if (!this.#connecting.has(pending)) signal.addEventListener("abort", cancel, { once: true });
          this.#connecting.add(pending);
          return;
        }
        this.#connecting.delete(pending);
        signal.removeEventListener("abort", cancel);
        const listener = this.#listeners.get(formatAddress(address));
        if (listener === undefined) {
          return reject(
            new TransportError("refused", `connection refused: nothing listens on ${formatAddress(address)}`),
          );
        }
        const local = makeAddress(from, this.#freePort(from));
        const [client, server] = this.#pair(local, listener.addr);
        listener.enqueue(server);
        resolve(client);
      };
      attempt();
    });
  }

  /** Two connected ends: the first at `a`, the second at `b`. */
  #pair(a: Address, b: Address): [MemoryStream, MemoryStream] {
    const forget = (pipe: Pipe) => this.#pipes.delete(pipe);
    const aToB = new Pipe(this, a.host, b.host, forget);
    const bToA = new Pipe(this, b.host, a.host, forget);
    this.#pipes.add(aToB);
    this.#pipes.add(bToA);
    return [new MemoryStream(a, b, bToA, aToB), new MemoryStream(b, a, aToB, bToA)];
  }

  #freePort(host: string): number {
    let port = this.#nextPort.get(host) ?? FIRST_PORT;
    while (this.#listeners.has(formatAddress({ host, port }))) port++;
    if (port > 65_535) throw new Deno.errors.AddrInUse(`No free port left on ${host}`);
    this.#nextPort.set(host, port + 1);
    return port;
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

class MemoryListener implements Listener {
  readonly #backlog: MemoryStream[] = [];
  readonly #waiting: PromiseWithResolvers<Stream>[] = [];
  readonly #onClose: () => void;
  #closed = false;

  constructor(readonly addr: Address, onClose: () => void) {
    this.#onClose = onClose;
  }

  accept(): Promise<Stream> {
    if (this.#closed) return Promise.reject(new TransportError("closed", "listener closed"));
    const stream = this.#backlog.shift();
    if (stream !== undefined) return Promise.resolve(stream);
    const waiter = Promise.withResolvers<Stream>();
    this.#waiting.push(waiter);
    return waiter.promise;
  }

  /** Hands an incoming stream to a waiting accept, or keeps it for the next one. */
  enqueue(stream: MemoryStream): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(stream);
    else this.#backlog.push(stream);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new TransportError("closed", "listener closed"));
    }
    // Connections never accepted end at once, as a closed socket's backlog does.
    for (const stream of this.#backlog.splice(0)) stream.close();
  }
}

/** One end of an in-memory stream: it reads from one pipe and writes to the other. */
class MemoryStream implements Stream {
  #closed = false;

  constructor(
    readonly localAddr: Address,
    readonly remoteAddr: Address,
    readonly inbound: Pipe,
    readonly outbound: Pipe,
  ) {}

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.reject(new TransportError("closed", "stream closed"));
    return this.inbound.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new TransportError("closed", "stream closed"));
    return this.outbound.write(bytes);
  }

  /** The remote reads what was written so far, then the end of the stream; its later writes fail as reset. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.outbound.end();
    this.inbound.abandon();
  }
}

/** One direction of a stream: bytes written and not yet read, at most the high-water mark. */
class Pipe {
  readonly #chunks: Uint8Array[] = [];
  /** Bytes of the first chunk already read. */
  #head = 0;
  #buffered = 0;
  /** The writer closed: the reader gets the end of the stream once it has read the rest. */
  #ended = false;
  /** The reader closed: writes fail. */
  #abandoned = false;
  #reader: { buffer: Uint8Array; done: PromiseWithResolvers<number | null> } | undefined;
  /** Writes waiting for room, retried in order as the reader makes some. */
  #writers: (() => void)[] = [];

  constructor(
    readonly network: MemoryNetwork,
    readonly from: string,
    readonly to: string,
    readonly forget: (pipe: Pipe) => void,
  ) {}

  write(bytes: Uint8Array): Promise<number> {
    if (this.#abandoned) return Promise.reject(new TransportError("reset", "connection reset by remote"));
    if (this.#ended) return Promise.reject(new TransportError("closed", "stream closed"));
    const room = this.network.highWaterMark - this.#buffered;
    if (room <= 0 || this.#writers.length > 0) {
      return new Promise((resolve, reject) =>
        this.#writers.push(() => this.write(bytes).then(resolve, reject))
      );
    }
    if (bytes.length === 0) return Promise.resolve(0);
    const count = Math.min(room, bytes.length);
    this.#chunks.push(bytes.slice(0, count));
    this.#buffered += count;
    this.pump();
    return Promise.resolve(count);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#reader !== undefined) {
      return Promise.reject(new TransportError("failed", "a read is already pending on this stream"));
    }
    if (buffer.length === 0) return Promise.resolve(0);
    const done = Promise.withResolvers<number | null>();
    this.#reader = { buffer, done };
    this.pump();
    return done.promise;
  }

  /** Hands what it can to a waiting reader, unless the link is cut. */
  pump(): void {
    const reader = this.#reader;
    if (reader === undefined || this.network.isCut(this.from, this.to)) return;
    if (this.#buffered > 0) {
      this.#reader = undefined;
      reader.done.resolve(this.#take(reader.buffer));
      this.#wakeWriters();
    } else if (this.#ended && this.#buffered === 0) {
      this.#reader = undefined;
      reader.done.resolve(null);
      this.forget(this);
    }
  }

  /** The writing end closed. */
  end(): void {
    this.#ended = true;
    for (const writer of this.#writers.splice(0)) writer();
    this.pump();
  }

  /** The reading end closed: a read it left pending fails, and so do later writes. */
  abandon(): void {
    this.#abandoned = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.done.reject(new TransportError("closed", "stream closed"));
    for (const writer of this.#writers.splice(0)) writer();
    this.forget(this);
  }

  #take(target: Uint8Array): number {
    let count = 0;
    while (count < target.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const n = Math.min(chunk.length - this.#head, target.length - count);
      target.set(chunk.subarray(this.#head, this.#head + n), count);
      count += n;
      this.#head += n;
      if (this.#head === chunk.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    this.#buffered -= count;
    return count;
  }

  #wakeWriters(): void {
    const writers = this.#writers;
    this.#writers = [];
    for (const writer of writers) writer();
  }
}
