import assert from "node:assert/strict";
import { encodeFrame, framed, FrameDecoder, HEADER_BYTES } from "../../lib/wire/codec.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Message } from "../../lib/wire/messages.ts";
import {
  helloBody,
  importNetworkKey,
  makeProof,
  newNonce,
  parseAuthBody,
  proofBody,
  sessionCiphers,
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

  /** Runs the handshake with `secret`; returns the sealing cipher for this direction. */
  async handshake(secret: string) {
    const key = await importNetworkKey(secret);
    const nonce = newNonce();
    await this.write(framed(helloBody(nonce)));
    const peerNonce = parseAuthBody(await this.next(), "hello");
    await this.write(framed(proofBody(await makeProof(key, "initiator", nonce, peerNonce))));
    parseAuthBody(await this.next(), "proof");
    return await sessionCiphers(key, "initiator", nonce, peerNonce);
  }

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
        lines.some((l) => /auth_required: remote sent messages without authenticating/.test(l)),
        "the seeds log the keyless stranger",
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

Deno.test("a tampered or replayed frame closes the connection", async () => {
  const net = await TestNetwork.start(1, 0, { networkKey: "k" });
  const port = net.seeds[0]!.address.port;
  const clients: KeyedClient[] = [];
  try {
    // Control: a correctly sealed liveliness frame is answered.
    const good = await KeyedClient.connect(port);
    clients.push(good);
    const { seal, open } = await good.handshake("k");
    const probe = (ts: number) =>
      encodeFrame({ type: "liveliness", ts } as Message, MAX_FRAME_BYTES).slice(HEADER_BYTES);
    await good.write(framed(await seal.seal(probe(1))));
    const reply = new TextDecoder().decode(await open.open((await good.next()).slice()));
    assert.deepEqual(JSON.parse(reply), { type: "liveliness_reply", ts: 1 });

    // Tampered: one ciphertext bit flipped.
    const tamper = await KeyedClient.connect(port);
    clients.push(tamper);
    const t = await tamper.handshake("k");
    const sealed = await t.seal.seal(probe(2));
    sealed[3]! ^= 0x01;
    await tamper.write(framed(sealed));
    await waitFor(() => tamper.closed, { what: "the tampered connection to close", timeoutMs: 3000 });

    // Replayed: the same sealed frame twice; the second reuses a spent counter.
    const replay = await KeyedClient.connect(port);
    clients.push(replay);
    const r = await replay.handshake("k");
    const once = framed(await r.seal.seal(probe(3)));
    await replay.write(once);
    await replay.next();
    await replay.write(once);
    await waitFor(() => replay.closed, { what: "the replaying connection to close", timeoutMs: 3000 });
    assert.ok(!good.closed, "the honest connection stays open");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await net.stop();
  }
});
