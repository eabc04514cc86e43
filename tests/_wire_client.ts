/**
 * A hand-written client over the real wire format, for tests that play a peer the
 * library would never be: silent, lying or hostile.
 */

import { type Address, formatAddress } from "../lib/wire/address.ts";
import { encodeFrame, FrameDecoder } from "../lib/wire/codec.ts";
import {
  type Death,
  decodeMessage,
  type GetPeerList,
  type GossipMessage,
  type Message,
  type PeerRequest,
  PROTOCOL_VERSION,
} from "../lib/wire/messages.ts";
import { gossipMessage } from "../lib/wire/gossip_frame.ts";
import { messageId } from "../lib/wire/message_id.ts";
import { messageBytes, newNonce, proofBytes, type ProofPurpose } from "../lib/wire/signatures.ts";
import { NodeIdentity } from "../lib/node/identity.ts";
import { LIMITS, waitFor } from "./_helpers.ts";
import { hash } from "node:crypto";
import { Buffer } from "node:buffer";

export { NodeIdentity };

/** DER prefix of an Ed25519 PKCS#8 private key; the 32-byte seed follows. */
const ED25519_PKCS8 = "302e020100300506032b657004220420";

/** The same identity for the same name in every run: its key's seed is the name's SHA-256. */
export function identityFor(name: string): NodeIdentity {
  const pkcs8 = new Uint8Array(Buffer.from(ED25519_PKCS8 + hash("sha256", name, "hex"), "hex"));
  return NodeIdentity.load({ load: () => pkcs8, save: () => {} });
}

/** A gossip message `content` from `origin`, signed by `identityFor(origin)`. */
export function gossipFrom(origin: string, content: string, hops = 1, offTree = false): GossipMessage {
  return signedMessage(identityFor(origin), origin, content, { hops, offTree });
}

/** A signature by `identity` for `purpose` over `nonce`, as `addr`, on a connection without a network key. */
export function proof(identity: NodeIdentity, purpose: ProofPurpose, nonce: string, addr: string): string {
  return identity.sign(proofBytes(purpose, nonce, addr, ""));
}

/** A gossip message from `origin` (node `identity`), signed by `signer` (the origin's own key by default). */
export function signedMessage(
  identity: NodeIdentity,
  origin: string,
  content: string,
  { created = 1, hops = 1, offTree = false, signer = identity }: {
    created?: number;
    hops?: number;
    offTree?: boolean;
    signer?: NodeIdentity;
  } = {},
): GossipMessage {
  const fields = { originId: identity.id, origin, created, content };
  const bytes = messageBytes(fields);
  return gossipMessage({ ...fields, id: messageId(bytes), sig: signer.sign(bytes) }, hops, offTree);
}

type OnMessage = (message: Message, client: WireClient) => void;

/** A raw TCP connection that sends frames and collects every decoded message it receives. */
export class WireClient {
  readonly received: Message[] = [];
  #closed = false;
  readonly #reader: Promise<void>;

  private constructor(readonly conn: Deno.Conn, readonly onMessage?: OnMessage) {
    this.#reader = this.#read();
  }

  static async connect(address: Address, onMessage?: OnMessage): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname: address.host, port: address.port }), onMessage);
  }

  /** Wraps an accepted connection. */
  static wrap(conn: Deno.Conn, onMessage?: OnMessage): WireClient {
    return new WireClient(conn, onMessage);
  }

  /** True once the remote closed the connection (or it was closed here). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The nonce of the challenge that the accepting node sent first. */
  async challenge(): Promise<string> {
    await waitFor(() => this.received.some((m) => m.type === "challenge") || this.isClosed, {
      what: "the challenge",
    });
    const challenge = this.received.find((m) => m.type === "challenge");
    if (challenge?.type !== "challenge") throw new Error("closed before a challenge");
    return challenge.nonce;
  }

  /** A `get_peer_list` registering `addr` as `identity`, signed over this connection's challenge. */
  async registration(identity: NodeIdentity, addr: string): Promise<GetPeerList> {
    const sig = proof(identity, "get_peer_list", await this.challenge(), addr);
    return {
      type: "get_peer_list",
      version: PROTOCOL_VERSION,
      addr,
      node: identity.id,
      nonce: newNonce(),
      sig,
    };
  }

  /** A `peer_request` from `addr` as `identity`, signed over this connection's challenge. */
  async peerRequest(identity: NodeIdentity, addr: string): Promise<PeerRequest> {
    const sig = proof(identity, "peer_request", await this.challenge(), addr);
    return {
      type: "peer_request",
      version: PROTOCOL_VERSION,
      addr,
      node: identity.id,
      nonce: newNonce(),
      sig,
    };
  }

  /** `addr`'s goodbye as `identity`, signed over this connection's challenge. */
  async goodbye(identity: NodeIdentity, addr: string): Promise<Death> {
    const sig = proof(identity, "leaving", await this.challenge(), addr);
    return { type: "death", addr, reason: "leaving", reporter: addr, sig };
  }

  /** Answers a probe as `identity` at `addr`, signed when the prober asks for proof. */
  answerProbe(message: Message, identity: NodeIdentity, addr: string): void {
    if (message.type !== "liveliness") return;
    const signed = message.nonce === undefined
      ? {}
      : { node: identity.id, sig: proof(identity, "liveliness_reply", message.nonce, addr) };
    this.send({ type: "liveliness_reply", ts: message.ts, ...signed });
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
  readonly identity = NodeIdentity.generate();
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
      await client.send(await client.registration(this.identity, this.label));
    }
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const accepted = WireClient.wrap(conn, (message, client) => {
          if (this.#frozen) return;
          if (message.type === "peer_request" && message.nonce !== undefined) {
            const sig = proof(this.identity, "peer_reply", message.nonce, this.label);
            client.send({
              type: "peer_reply",
              accepted: true,
              addr: this.label,
              node: this.identity.id,
              sig,
            });
          } else client.answerProbe(message, this.identity, this.label);
        });
        this.clients.push(accepted);
        accepted.send({ type: "challenge", version: PROTOCOL_VERSION, nonce: newNonce() });
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
