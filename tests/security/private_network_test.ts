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
import { WireClient } from "../_wire_client.ts";

/**
 * A client of the real wire that runs the key handshake as the initiator, then sends
 * records sealed by the test (or tampered and replayed ones) and opens what comes back.
 */
class Keyed {
  readonly #frames = new FrameDecoder(1 << 20);
  readonly #opened: Message[] = [];

  private constructor(readonly client: WireClient, readonly session: Session) {}

  static async connect(port: number, secret: string): Promise<Keyed> {
    const client = await WireClient.connect({ host: "127.0.0.1", port }, { raw: true });
    const key = importNetworkKey(secret);
    const hello = newHello();
    await client.writeRaw(framed(helloBody(hello)));
    const peer = parseHello(await client.nextBody());
    const transcript = { nonceI: hello.nonce, nonceR: peer.nonce, dhI: hello.dh, dhR: peer.dh };
    await client.writeRaw(framed(proofBody(makeProof(key, "initiator", transcript))));
    parseProof(await client.nextBody());
    return new Keyed(client, deriveSession(key, "initiator", transcript, hello));
  }

  /** Opens records until a frame of `type` arrives; returns its message. */
  async nextOf(type: string): Promise<Message> {
    for (;;) {
      const at = this.#opened.findIndex((m) => m.type === type);
      if (at >= 0) return this.#opened.splice(0, at + 1).at(-1)!;
      for (const frame of this.#frames.push(this.session.open.open(await this.client.nextBody()))) {
        this.#opened.push(JSON.parse(new TextDecoder().decode(frame)) as Message);
      }
    }
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

Deno.test("in a private network a tampered, replayed, reordered or truncated record closes the connection, and an honest one is answered", async () => {
  const net = await TestNetwork.start(1, 0, { networkKey: "k" });
  const port = net.seeds[0]!.address.port;
  const clients: Keyed[] = [];
  const keyed = async () => {
    const client = await Keyed.connect(port, "k");
    clients.push(client);
    return client;
  };
  const probe = (ts: number) => encodeFrame({ type: "liveliness", ts } as Message, MAX_FRAME_BYTES);
  try {
    // Control: a correctly sealed probe is answered, and two frames in one record are both read.
    const good = await keyed();
    await good.client.writeRaw(good.session.seal.seal(probe(1)));
    assert.deepEqual(await good.nextOf("liveliness_reply"), { type: "liveliness_reply", ts: 1 });
    await good.client.writeRaw(good.session.seal.seal(new Uint8Array([...probe(2), ...probe(3)])));
    const answers = [await good.nextOf("liveliness_reply"), await good.nextOf("liveliness_reply")];
    assert.deepEqual(answers.map((m) => m.type === "liveliness_reply" && m.ts).sort(), [2, 3]);

    // Tampered: one ciphertext bit flipped.
    const tamper = await keyed();
    const sealed = tamper.session.seal.seal(probe(4));
    sealed[HEADER_BYTES + 3]! ^= 0x01;
    await tamper.client.writeRaw(sealed);
    await waitFor(() => tamper.client.isClosed, {
      what: "the tampered connection to close",
      timeoutMs: 3000,
    });

    // Replayed: the same record twice; the second reuses a spent counter.
    const replay = await keyed();
    const once = replay.session.seal.seal(probe(5));
    await replay.client.writeRaw(once);
    await replay.nextOf("liveliness_reply");
    await replay.client.writeRaw(once);
    await waitFor(() => replay.client.isClosed, {
      what: "the replaying connection to close",
      timeoutMs: 3000,
    });

    // Reordered: the second record sent before the first.
    const reorder = await keyed();
    const first = reorder.session.seal.seal(probe(6));
    const second = reorder.session.seal.seal(probe(7));
    await reorder.client.writeRaw(second);
    await reorder.client.writeRaw(first);
    await waitFor(() => reorder.client.isClosed, {
      what: "the reordering connection to close",
      timeoutMs: 3000,
    });

    // Truncated: a record cut short by the end of the stream.
    await withLogs(async (records) => {
      const cut = await keyed();
      const whole = cut.session.seal.seal(probe(8));
      await cut.client.writeRaw(whole.subarray(0, whole.length - 5));
      await cut.client.close();
      await waitFor(() => records.some((r) => recordText(r).includes("truncated")), {
        what: "the truncated record to be logged",
      });
    });
    assert.ok(!good.client.isClosed, "the honest connection stays open");
  } finally {
    await Promise.all(clients.map((c) => c.client.close()));
    await net.stop();
  }
});
