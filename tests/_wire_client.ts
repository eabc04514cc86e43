/**
 * A hand-written client over the real wire format, for tests that play a peer the
 * library would never be: silent, lying or hostile.
 */

import { type Address, formatAddress } from "../lib/wire/address.ts";
import { encodeFrame, FrameDecoder } from "../lib/wire/codec.ts";
import { decodeMessage, type Message } from "../lib/wire/messages.ts";
import { LIMITS } from "./_helpers.ts";
import type { Stream, Transport } from "../lib/net/transport.ts";

type OnMessage = (message: Message, client: WireClient) => void;

/**
 * A raw connection (TCP, or a stream of the in-memory transport) that sends frames and
 * collects every decoded message it receives.
 */
export class WireClient {
  readonly received: Message[] = [];
  #closed = false;
  readonly #reader: Promise<void>;

  private constructor(readonly conn: Deno.Conn | Stream, readonly onMessage?: OnMessage) {
    this.#reader = this.#read();
  }

  static async connect(address: Address, onMessage?: OnMessage): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname: address.host, port: address.port }), onMessage);
  }

  /** Connects over `transport` (an in-memory network's, say). */
  static async over(transport: Transport, address: Address, onMessage?: OnMessage): Promise<WireClient> {
    return new WireClient(await transport.connect(address, new AbortController().signal), onMessage);
  }

  /** Wraps an accepted connection. */
  static wrap(conn: Deno.Conn | Stream, onMessage?: OnMessage): WireClient {
    return new WireClient(conn, onMessage);
  }

  /** True once the remote closed the connection (or it was closed here). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Sends a message as one frame. */
  async send(message: Message | Record<string, unknown>): Promise<void> {
    await this.writeRaw(encodeFrame(message, 64 * 1024 * 1024));
  }

  /** Writes raw bytes, swallowing errors from a connection the remote already closed. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    try {
      let written = 0;
      while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
    } catch {
      this.#closed = true;
    }
  }

  async #read(): Promise<void> {
    const decoder = new FrameDecoder(64 * 1024 * 1024);
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        for (const body of decoder.push(buffer.subarray(0, n))) {
          const message = decodeMessage(body, LIMITS);
          this.received.push(message);
          this.onMessage?.(message, this);
        }
      }
    } catch {
      // Reset or closed: the test looks at isClosed.
    } finally {
      this.#closed = true;
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#reader;
  }
}

/**
 * A peer that registers with seeds and accepts every Peer Request, answering probes
 * until {@link freeze}; from then on it answers nothing: alive on the socket, dead
 * to the protocol.
 */
export class SilentPeer {
  readonly clients: WireClient[] = [];
  readonly #listener: Deno.Listener;
  readonly #accepting: Promise<void>;
  readonly address: Address;
  #frozen = false;
  #closed = false;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const addr = this.#listener.addr as Deno.NetAddr;
    this.address = { host: addr.hostname, port: addr.port };
    this.#accepting = this.#accept();
  }

  /** Stops answering anything, probes included. */
  freeze(): void {
    this.#frozen = true;
  }

  get label(): string {
    return formatAddress(this.address);
  }

  /** Registers with each seed over a connection it keeps open. */
  async register(seeds: Address[]): Promise<void> {
    for (const seed of seeds) {
      const client = await WireClient.connect(seed);
      this.clients.push(client);
      await client.send({ type: "get_peer_list", version: 1, addr: this.label });
    }
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.clients.push(WireClient.wrap(conn, (message, client) => {
          if (this.#frozen) return;
          if (message.type === "peer_request") {
            client.send({ type: "peer_reply", accepted: true, addr: this.label });
          } else if (message.type === "liveliness") {
            client.send({ type: "liveliness_reply", ts: message.ts });
          }
        }));
      }
    } catch {
      // Listener closed.
    }
  }

  /** Closes the listener and every connection; safe to call twice. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
    }
    await this.#accepting;
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
