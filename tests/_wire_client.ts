/**
 * Hand-written clients over the real wire format, for tests that play a peer the
 * library would never be: silent, lying or hostile. They run over any transport: TCP,
 * or a memory network on fake time.
 */

import { type Address, formatAddress } from "../lib/wire/address.ts";
import { encodeFrame, FrameDecoder } from "../lib/wire/codec.ts";
import {
  type Death,
  decodeMessage,
  type GetPeerList,
  type GossipMessage,
  type LivelinessReply,
  type Message,
  type PeerRequest,
  PROTOCOL_VERSION,
} from "../lib/wire/messages.ts";
import type { Listener, Stream, Transport } from "../lib/net/transport.ts";
import type { PeerNode } from "../lib/peer/peer_node.ts";
import type { Settings } from "../lib/settings/config.ts";
import { gossipMessage } from "../lib/wire/gossip_frame.ts";
import { messageId } from "../lib/wire/message_id.ts";
import { messageBytes, newNonce, proofBytes, type ProofPurpose } from "../lib/wire/signatures.ts";
import { NodeIdentity } from "../lib/node/identity.ts";
import { type Ground, identityStoreFor, LIMITS, REAL_GROUND, TestNetwork } from "./_helpers.ts";

export { NodeIdentity };

/** The same identity for the same name in every run. */
export function identityFor(name: string): NodeIdentity {
  return NodeIdentity.load(identityStoreFor(name));
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

/** A gossip message `content` from `origin`, signed by `identityFor(origin)`. */
export function gossipFrom(origin: string, content: string, hops = 1, offTree = false): GossipMessage {
  return signedMessage(identityFor(origin), origin, content, { hops, offTree });
}

/** The answer to a probe as `identity` at `addr`: signed when the prober asks for proof. */
export function probeReply(
  ts: number,
  nonce: string | undefined,
  identity: NodeIdentity,
  addr: string,
): LivelinessReply {
  if (nonce === undefined) return { type: "liveliness_reply", ts };
  return {
    type: "liveliness_reply",
    ts,
    node: identity.id,
    sig: proof(identity, "liveliness_reply", nonce, addr),
  };
}

type OnMessage = (message: Message, client: WireClient) => void;

const NEVER = new AbortController().signal;
/** What a hand-written client reads and writes: far past any node's limit, so that it can send oversized frames. */
const CLIENT_FRAME_BYTES = 64 * 1024 * 1024;

export interface WireClientOptions {
  /** Called with each message received, after it is recorded in `received`. */
  onMessage?: OnMessage;
  /** What the connection runs over. @default TCP, from REAL_GROUND */
  transport?: Transport;
  /** Keeps frame bodies as they came in `bodies` (sealed frames, say) instead of decoding them. */
  raw?: boolean;
}

/** A raw connection that sends frames and collects every message (or raw body) it receives. */
export class WireClient {
  readonly received: Message[] = [];
  readonly bodies: Uint8Array[] = [];
  readonly #onMessage: OnMessage | undefined;
  readonly #raw: boolean;
  #closed = false;
  #challenge = Promise.withResolvers<string>();
  #nextBody: ((body: Uint8Array | undefined) => void) | undefined;
  readonly #reader: Promise<void>;

  private constructor(readonly stream: Stream, { onMessage, raw = false }: WireClientOptions) {
    this.#onMessage = onMessage;
    this.#raw = raw;
    this.#reader = this.#read();
  }

  static async connect(address: Address, options: WireClientOptions = {}): Promise<WireClient> {
    return new WireClient(
      await (options.transport ?? REAL_GROUND.transport("127.0.0.1")).connect(address, NEVER),
      options,
    );
  }

  /** Wraps an accepted stream. */
  static wrap(stream: Stream, options: WireClientOptions = {}): WireClient {
    return new WireClient(stream, options);
  }

  /** True once the remote closed the connection (or it was closed here). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The nonce of the challenge that the accepting node sent first; rejects if the connection closes first. */
  challenge(): Promise<string> {
    return this.#challenge.promise;
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
    if (message.type === "liveliness") this.send(probeReply(message.ts, message.nonce, identity, addr));
  }

  /** Sends a message as one frame. */
  async send(message: Message | Record<string, unknown>): Promise<void> {
    await this.writeRaw(encodeFrame(message, CLIENT_FRAME_BYTES));
  }

  /** Writes raw bytes, swallowing errors from a connection the remote already closed. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    try {
      let written = 0;
      while (written < bytes.length) written += await this.stream.write(bytes.subarray(written));
    } catch {
      this.#closed = true;
    }
  }

  /** The next raw body (with `raw`): the oldest not taken yet, or the next to arrive. Throws once closed. */
  nextBody(): Promise<Uint8Array> {
    const queued = this.bodies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(new Error("connection closed before the next frame"));
    return new Promise((resolve, reject) => {
      this.#nextBody = (body) => {
        this.#nextBody = undefined;
        if (body === undefined) reject(new Error("connection closed before the next frame"));
        else resolve(body);
      };
    });
  }

  async #read(): Promise<void> {
    const decoder = new FrameDecoder(CLIENT_FRAME_BYTES);
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.stream.read(buffer);
        if (n === null) break;
        for (const body of decoder.push(buffer.subarray(0, n))) {
          if (this.#raw) {
            if (this.#nextBody) this.#nextBody(body.slice());
            else this.bodies.push(body.slice());
            continue;
          }
          const message = decodeMessage(body, LIMITS);
          if (message.type === "challenge") this.#challenge.resolve(message.nonce);
          this.received.push(message);
          this.#onMessage?.(message, this);
        }
      }
    } catch {
      // Reset or closed: the test looks at isClosed.
    } finally {
      this.#closed = true;
      this.#nextBody?.(undefined);
      this.#challenge.reject(new Error("closed before a challenge"));
      this.#challenge.promise.catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.stream.close();
    }
    await this.#reader;
  }
}

/** Answers a frame a hand-written node received, beyond the probes it always answers. */
export type Answer = (message: Message, label: string) => Message | undefined;

export interface HandNodeOptions {
  /** Where it runs: a host of its own there, and that host's transport. @default REAL_GROUND */
  ground?: Ground;
  /** Whether it accepts Peer Requests. @default true */
  acceptsNeighbours?: boolean;
  /** Replies to frames other than probes and Peer Requests. */
  answer?: Answer;
  /**
   * Whether it answers anything on a neighbour link once it has accepted it: false plays
   * a node that answers probes on fresh connections but does not read its links. @default true
   */
  answersOnLinks?: boolean;
  /** The protocol version of the challenge it sends on each connection it accepts. @default PROTOCOL_VERSION */
  version?: number;
}

/**
 * A node played by hand (a silent, lying or foreign peer or seed): it listens at its
 * address, registers with seeds over connections it keeps open, accepts every Peer
 * Request (unless told not to), answers probes and what `answer` answers until
 * {@link freeze}; from then on it answers nothing: alive on the socket, dead to the protocol.
 */
export class HandNode {
  readonly clients: WireClient[] = [];
  readonly address: Address;
  readonly #ground: Ground;
  readonly #transport: Transport;
  readonly #listener: Listener;
  readonly #accepting: Promise<void>;
  readonly #acceptsNeighbours: boolean;
  readonly #answer: Answer | undefined;
  readonly #answersOnLinks: boolean;
  readonly #version: number;
  /** Connections it accepted as neighbour links. */
  readonly #links = new WeakSet<WireClient>();
  #frozen = false;
  #closed = false;
  /** Every connection, accepted or opened, is answered alike, but for links with `answersOnLinks` false. */
  readonly #onMessage: OnMessage = (message, client) => {
    if (!this.#answersOnLinks && this.#links.has(client)) return;
    const reply = this.#reply(message);
    if (reply) client.send(reply);
    if (reply?.type === "peer_reply") this.#links.add(client);
  };

  constructor(
    {
      ground = REAL_GROUND,
      acceptsNeighbours = true,
      answer,
      answersOnLinks = true,
      version = PROTOCOL_VERSION,
    }: HandNodeOptions = {},
  ) {
    this.#answersOnLinks = answersOnLinks;
    this.#version = version;
    const host = ground.host();
    this.#ground = ground;
    this.#transport = ground.transport(host);
    this.#acceptsNeighbours = acceptsNeighbours;
    this.#answer = answer;
    this.#listener = this.#transport.listen(host, 0);
    this.address = this.#listener.addr;
    this.#accepting = this.#accept();
  }

  /** Stops answering anything, probes included. */
  freeze(): void {
    this.#frozen = true;
  }

  get label(): string {
    return formatAddress(this.address);
  }

  /** Its node id's key: the same for the same address, so that {@link gossipFrom} speaks for it. */
  get identity(): NodeIdentity {
    return this.#identity ??= identityFor(this.label);
  }
  #identity: NodeIdentity | undefined;

  /** Registers with each seed over a new connection it keeps open, once each has answered with its peer list. */
  async register(seeds: Address[]): Promise<WireClient[]> {
    const opened = await Promise.all(seeds.map(async (seed) => {
      const client = await this.connect(seed);
      await client.send(await client.registration(this.identity, this.label));
      return client;
    }));
    await this.#ground.waitFor(() => opened.every((c) => c.received.some((m) => m.type === "peer_list")), {
      what: `${this.label} to be registered`,
    });
    return opened;
  }

  /** A new connection from this node's host, answered like the ones it accepts and closed with them. */
  async connect(address: Address): Promise<WireClient> {
    const client = await WireClient.connect(address, {
      transport: this.#transport,
      onMessage: this.#onMessage,
    });
    this.clients.push(client);
    return client;
  }

  #reply(message: Message): Message | undefined {
    if (this.#frozen) return undefined;
    if (message.type === "liveliness") {
      return probeReply(message.ts, message.nonce, this.identity, this.label);
    }
    if (message.type === "peer_request" && this.#acceptsNeighbours && message.nonce !== undefined) {
      const sig = proof(this.identity, "peer_reply", message.nonce, this.label);
      return { type: "peer_reply", accepted: true, addr: this.label, node: this.identity.id, sig };
    }
    return this.#answer?.(message, this.label);
  }

  async #accept(): Promise<void> {
    try {
      for (;;) {
        const stream = await this.#listener.accept();
        const client = WireClient.wrap(stream, { onMessage: this.#onMessage });
        this.clients.push(client);
        // As a node does: whoever connects proves its node id over this.
        client.send({ type: "challenge", version: this.#version, nonce: newNonce() });
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

/** A hand-written neighbour: `client` is linked to a peer as the neighbour at `label`, where it listens. */
export interface HandNeighbour {
  readonly client: WireClient;
  readonly label: string;
  close(): Promise<void>;
}

/**
 * A {@link HandNode} on a host of its own on `ground`, connected to `peer` and accepted
 * as its neighbour. It answers probes, and `answer` may reply to any other frame.
 */
export async function handNeighbour(ground: Ground, peer: PeerNode, answer?: Answer): Promise<HandNeighbour> {
  const node = new HandNode({ ground, answer });
  const close = () => node.close();
  try {
    const client = await node.connect(peer.address);
    await client.send(await client.peerRequest(node.identity, node.label));
    await ground.waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
      what: `${node.label} to be accepted as a neighbour`,
    });
    return { client, label: node.label, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `N` values of `T` in a row, so a helper's fixed-size results index without checks (any number: an array). */
type Tuple<T, N extends number, R extends T[] = []> = number extends N ? T[]
  : R["length"] extends N ? R
  : Tuple<T, N, [...R, T]>;

/** A peer of its own (with one seed) and `count` hand-written neighbours, from {@link handNeighbour}. */
export interface PeerWithClients<N extends number, G extends Ground> {
  net: TestNetwork<G>;
  peer: PeerNode;
  clients: Tuple<WireClient, N>;
  labels: Tuple<string, N>;
  /** Closes the neighbours and stops the network. */
  close: () => Promise<void>;
}

/** Starts one seed and one peer on `ground` and links `count` hand-written neighbours to the peer. */
export async function peerWithClients<N extends number, G extends Ground>(
  ground: G,
  count: N,
  settings: Partial<Settings> = {},
  answer?: Answer,
): Promise<PeerWithClients<N, G>> {
  const net = await TestNetwork.on(ground, 1, 1, settings);
  const peer = net.peers[0]!;
  const neighbours: HandNeighbour[] = [];
  const close = async () => {
    for (const neighbour of neighbours) await neighbour.close();
    await net.stop();
  };
  try {
    for (let i = 0; i < count; i++) neighbours.push(await handNeighbour(ground, peer, answer));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    net,
    peer,
    clients: neighbours.map((n) => n.client) as Tuple<WireClient, N>,
    labels: neighbours.map((n) => n.label) as Tuple<string, N>,
    close,
  };
}

/** Proof that the node at `address` still serves a valid client: a new connection's probe is answered. */
export async function answersProbe(address: Address, ground: Ground = REAL_GROUND): Promise<void> {
  const client = await WireClient.connect(address, { transport: ground.transport(ground.host()) });
  try {
    const ts = 42;
    await client.send({ type: "liveliness", ts });
    // The node's challenge comes first.
    const answers = () => client.received.filter((m) => m.type !== "challenge");
    await ground.waitFor(() => answers().length > 0 || client.isClosed, {
      what: `a liveliness reply from ${formatAddress(address)}`,
      timeoutMs: 3000,
    });
    if (JSON.stringify(answers()) !== JSON.stringify([{ type: "liveliness_reply", ts }])) {
      throw new Error(`${formatAddress(address)} answered a probe with ${JSON.stringify(client.received)}`);
    }
  } finally {
    await client.close();
  }
}
