import assert from "node:assert/strict";
import { encodeFrame, framed, HEADER_BYTES } from "../../lib/wire/codec.ts";
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
import { WireClient } from "../_wire_client.ts";

/** A client of the real wire that keeps frames sealed, as a keyed node's connections carry them. */
function keyedClient(port: number): Promise<WireClient> {
  return WireClient.connect({ host: "127.0.0.1", port }, { raw: true });
}

/** Runs the key handshake with `secret` as initiator; returns the ciphers for this connection. */
async function handshake(client: WireClient, secret: string) {
  const key = await importNetworkKey(secret);
  const nonce = newNonce();
  await client.writeRaw(framed(helloBody(nonce)));
  const peerNonce = parseAuthBody(await client.nextBody(), "hello");
  await client.writeRaw(framed(proofBody(await makeProof(key, "initiator", nonce, peerNonce))));
  parseAuthBody(await client.nextBody(), "proof");
  return await sessionCiphers(key, "initiator", nonce, peerNonce);
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

Deno.test("in a private network a tampered or replayed sealed frame closes the connection, and an honest one is answered", async () => {
  const net = await TestNetwork.start(1, 0, { networkKey: "k" });
  const port = net.seeds[0]!.address.port;
  const clients: WireClient[] = [];
  try {
    // Control: a correctly sealed liveliness frame is answered.
    const good = await keyedClient(port);
    clients.push(good);
    const { seal, open } = await handshake(good, "k");
    const probe = (ts: number) =>
      encodeFrame({ type: "liveliness", ts } as Message, MAX_FRAME_BYTES).slice(HEADER_BYTES);
    await good.writeRaw(framed(await seal.seal(probe(1))));
    const reply = new TextDecoder().decode(await open.open((await good.nextBody()).slice()));
    assert.deepEqual(JSON.parse(reply), { type: "liveliness_reply", ts: 1 });

    // Tampered: one ciphertext bit flipped.
    const tamper = await keyedClient(port);
    clients.push(tamper);
    const t = await handshake(tamper, "k");
    const sealed = await t.seal.seal(probe(2));
    sealed[3]! ^= 0x01;
    await tamper.writeRaw(framed(sealed));
    await waitFor(() => tamper.isClosed, { what: "the tampered connection to close", timeoutMs: 3000 });

    // Replayed: the same sealed frame twice; the second reuses a spent counter.
    const replay = await keyedClient(port);
    clients.push(replay);
    const r = await handshake(replay, "k");
    const once = framed(await r.seal.seal(probe(3)));
    await replay.writeRaw(once);
    await replay.nextBody();
    await replay.writeRaw(once);
    await waitFor(() => replay.isClosed, { what: "the replaying connection to close", timeoutMs: 3000 });
    assert.ok(!good.isClosed, "the honest connection stays open");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await net.stop();
  }
});
