import assert from "node:assert/strict";
import { encodeFrame, framed, FrameDecoder, HEADER_BYTES } from "../../lib/wire/codec.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Message } from "../../lib/wire/messages.ts";
import {
  deriveSession,
  helloBody,
  importNetworkKey,
  makeProof,
  newHello,
  parseHello,
  parseProof,
  proofBody,
  type Session,
} from "../../lib/wire/secure_channel.ts";
import {
  countDeliveries,
  FAST,
  MAX_FRAME_BYTES,
  recordText,
  TestNetwork,
  waitFor,
  withLogs,
} from "../_helpers.ts";

/**
 * A raw client that performs the key handshake as initiator over the real wire, then
 * lets the test send sealed frames (or tampered and replayed ones).
 */
class KeyedClient {
  readonly received: Uint8Array[] = [];
  closed = false;
  readonly #reader: Promise<void>;
  #waiting: ((body: Uint8Array) => void) | undefined;

  private constructor(readonly conn: Deno.Conn) {
    this.#reader = this.#read();
  }

  static async connect(port: number): Promise<KeyedClient> {
    return new KeyedClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<void> {
    const decoder = new FrameDecoder(1 << 20);
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        for (const body of decoder.push(buffer.subarray(0, n))) {
          if (this.#waiting) this.#waiting(body);
          else this.received.push(body);
        }
      }
    } catch {
      // Closed or reset: the test looks at `closed`.
    } finally {
      this.closed = true;
    }
  }

  next(): Promise<Uint8Array> {
    const queued = this.received.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiting = (body) => {
        this.#waiting = undefined;
        resolve(body);
      };
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.conn.write(bytes);
    } catch {
      this.closed = true;
    }
  }

  /** Runs the handshake with `secret` as the initiator; returns the session. */
  async handshake(secret: string): Promise<Session> {
    const key = importNetworkKey(secret);
    const hello = newHello();
    await this.write(framed(helloBody(hello)));
    const peer = parseHello(await this.next());
    const transcript = { nonceI: hello.nonce, nonceR: peer.nonce, dhI: hello.dh, dhR: peer.dh };
    await this.write(framed(proofBody(makeProof(key, "initiator", transcript))));
    parseProof(await this.next());
    return deriveSession(key, "initiator", transcript, hello);
  }

  /** Opens records until a frame of `type` arrives; returns its message. */
  async nextOf(session: Session, type: string): Promise<Message> {
    for (;;) {
      while (this.#opened.length > 0) {
        const message = this.#opened.shift()!;
        if (message.type === type) return message;
      }
      for (const frame of this.#frames.push(session.open.open(await this.next()))) {
        this.#opened.push(JSON.parse(new TextDecoder().decode(frame)) as Message);
      }
    }
  }
  readonly #opened: Message[] = [];
  readonly #frames = new FrameDecoder(1 << 20);

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    await this.#reader;
  }
}

Deno.test("nodes sharing a network key form a network and deliver every message", async () => {
  const net = await TestNetwork.start(3, 8, { networkKey: "correct horse" });
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const counts = countDeliveries(net.peers);
    const ids = net.peers.map((p, i) => p.publish(`private ${i}`).id);
    await waitFor(() => ids.every((id) => counts.get(id) === 8), { what: "delivery to all 8 peers" });
  } finally {
    await net.stop();
  }
});

Deno.test("a node with another key, or none, is refused with a clear log line on both ends", async () => {
  await withLogs(async (records) => {
    const net = await TestNetwork.start(3, 1, { networkKey: "correct horse" });
    const strangers = [
      new PeerNode({ settings: { ...FAST, seeds: net.seedAddresses, networkKey: "battery staple" } }),
      new PeerNode({ settings: { ...FAST, seeds: net.seedAddresses } }),
    ];
    try {
      const [wrongKey, noKey] = await Promise.all(
        strangers.map((p) => p.start().then(() => "joined", String)),
      );
      assert.match(wrongKey!, /registered with 0 of 3 seeds.*network key mismatch/);
      assert.match(noKey!, /registered with 0 of 3 seeds.*requires a network key/);
      const lines = records.map(recordText);
      assert.ok(
        lines.some((l) => /auth_failed: network key mismatch/.test(l)),
        "the seeds log the key mismatch",
      );

      assert.ok(
        !lines.some((l) => l.includes("correct horse") || l.includes("battery staple")),
        "keys never logged",
      );
      for (const seed of net.seeds) {
        assert.ok(seed.peers().every((p) => p === net.peers[0]!.label), "only the keyed peer is listed");
      }
    } finally {
      await Promise.all(strangers.map((p) => p.stop()));
      await net.stop();
    }
  });
});

Deno.test("a tampered, replayed, reordered or truncated record closes the connection", async () => {
  const net = await TestNetwork.start(1, 0, { networkKey: "k" });
  const port = net.seeds[0]!.address.port;
  const clients: KeyedClient[] = [];
  const keyed = async () => {
    const client = await KeyedClient.connect(port);
    clients.push(client);
    return { client, session: await client.handshake("k") };
  };
  const probe = (ts: number) => encodeFrame({ type: "liveliness", ts } as Message, MAX_FRAME_BYTES);
  try {
    // Control: a correctly sealed probe is answered, and two frames in one record are both read.
    const good = await keyed();
    await good.client.write(good.session.seal.seal(probe(1)));
    assert.deepEqual(await good.client.nextOf(good.session, "liveliness_reply"), {
      type: "liveliness_reply",
      ts: 1,
    });
    const two = new Uint8Array([...probe(2), ...probe(3)]);
    await good.client.write(good.session.seal.seal(two));
    const answers = [
      await good.client.nextOf(good.session, "liveliness_reply"),
      await good.client.nextOf(good.session, "liveliness_reply"),
    ];
    assert.deepEqual(answers.map((m) => m.type === "liveliness_reply" && m.ts).sort(), [2, 3]);

    // Tampered: one ciphertext bit flipped.
    const tamper = await keyed();
    const sealed = tamper.session.seal.seal(probe(4));
    sealed[HEADER_BYTES + 3]! ^= 0x01;
    await tamper.client.write(sealed);
    await waitFor(() => tamper.client.closed, { what: "the tampered connection to close", timeoutMs: 3000 });

    // Replayed: the same record twice; the second reuses a spent counter.
    const replay = await keyed();
    const once = replay.session.seal.seal(probe(5));
    await replay.client.write(once);
    await replay.client.nextOf(replay.session, "liveliness_reply");
    await replay.client.write(once);
    await waitFor(() => replay.client.closed, { what: "the replaying connection to close", timeoutMs: 3000 });

    // Reordered: the second record sent before the first.
    const reorder = await keyed();
    const first = reorder.session.seal.seal(probe(6));
    const second = reorder.session.seal.seal(probe(7));
    await reorder.client.write(second);
    await reorder.client.write(first);
    await waitFor(() => reorder.client.closed, {
      what: "the reordering connection to close",
      timeoutMs: 3000,
    });

    // Truncated: a record cut short by the end of the stream.
    await withLogs(async (records) => {
      const cut = await keyed();
      const whole = cut.session.seal.seal(probe(8));
      await cut.client.write(whole.subarray(0, whole.length - 5));
      cut.client.conn.closeWrite();
      await waitFor(() => cut.client.closed, { what: "the truncated connection to close", timeoutMs: 3000 });
      await waitFor(() => records.some((r) => recordText(r).includes("truncated")), {
        what: "the truncated record to be logged",
      });
    });
    assert.ok(!good.client.closed, "the honest connection stays open");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await net.stop();
  }
});
