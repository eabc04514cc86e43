/**
 * Fuzzing over the real wire: thousands of random and mutated frames at a seed and at
 * a peer, after which both still serve valid clients and memory stayed bounded.
 */

import assert from "node:assert/strict";
import { encodeFrame, framed, writeHeader } from "../../lib/wire/codec.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import type { Message } from "../../lib/wire/messages.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { FAST, MAX_FRAME_BYTES, mulberry32, waitFor } from "../_helpers.ts";
import { gossipFrom, HandNode, identityFor, proof, WireClient } from "../_wire_client.ts";
import { PROTOCOL_VERSION } from "../../lib/wire/messages.ts";

const ADDR = "127.0.0.1:9";
const ME = identityFor(ADDR);
const NONCE = "n".repeat(22);
const SIG = proof(ME, "peer_request", NONCE, ADDR);
const version = PROTOCOL_VERSION;
const VALID: Message[] = [
  { type: "challenge", version, nonce: NONCE },
  { type: "get_peer_list", version, addr: ADDR, node: ME.id, nonce: NONCE, sig: SIG },
  { type: "peer_list", peers: [ADDR, "127.0.0.1:10"], node: ME.id, sig: SIG },
  { type: "peer_request", version, addr: ADDR, node: ME.id, nonce: NONCE, sig: SIG },
  { type: "peer_reply", accepted: false, addr: ADDR, reason: "full" },
  { type: "liveliness", ts: 1, nonce: NONCE },
  { type: "liveliness_reply", ts: 1, node: ME.id, sig: SIG },
  { type: "get_data", ids: [gossipFrom(ADDR, "a").id], have: [] },
  gossipFrom(ADDR, "a"),
  { type: "ihave", ids: [gossipFrom(ADDR, "b").id], hops: [0] },
  { type: "graft" },
  { type: "prune" },
  { type: "death", addr: ADDR, reason: "dead", reporter: ADDR },
  { type: "death", addr: ADDR, reason: "leaving", reporter: ADDR, sig: SIG },
];

/** One frame: a valid one mutated in one of several ways, or random bytes. */
function mutatedFrame(random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const base = VALID[int(VALID.length)]!;
  switch (int(7)) {
    case 0: { // flip random bytes anywhere, header included
      const frame = encodeFrame(base, MAX_FRAME_BYTES).slice();
      for (let i = 0, n = 1 + int(4); i < n; i++) frame[int(frame.length)]! ^= 1 << int(8);
      return frame;
    }
    case 1: { // swap a field's value with another message's field
      const other = VALID[int(VALID.length)]! as unknown as Record<string, unknown>;
      const keys = Object.keys(other).filter((k) => k !== "type");
      const mixed = { ...base } as Record<string, unknown>;
      const key = Object.keys(mixed).filter((k) => k !== "type")[0] ?? "x";
      mixed[key] = other[keys[int(keys.length)] ?? "type"];
      return encodeFrame(mixed as unknown as Message, MAX_FRAME_BYTES);
    }
    case 2: { // change the length prefix
      const frame = encodeFrame(base, MAX_FRAME_BYTES).slice();
      writeHeader(frame, int(2) ? int(1 << 20) : 0xffffffff - int(1000));
      return frame;
    }
    case 3: // truncate
      return encodeFrame(base, MAX_FRAME_BYTES).slice(0, 1 + int(20));
    case 4: { // append junk inside the frame
      return framed(new TextEncoder().encode(JSON.stringify(base) + "}".repeat(1 + int(3))));
    }
    case 5: // random bytes
      return crypto.getRandomValues(new Uint8Array(1 + int(64)));
    default: // a valid frame: the fuzz stream must not only be garbage
      return encodeFrame(base, MAX_FRAME_BYTES);
  }
}

/** Throws `total` frames at `port`, `perConnection` per connection, `parallel` connections at a time. */
async function fuzz(port: number, random: () => number, total: number, handshake?: string): Promise<void> {
  const perConnection = 50;
  const parallel = 8;
  let sent = 0;
  const one = async () => {
    while (sent < total) {
      const frames = Array.from(
        { length: Math.min(perConnection, total - sent) },
        () => mutatedFrame(random),
      );
      sent += frames.length;
      const client = await WireClient.connect({ host: "127.0.0.1", port });
      try {
        if (handshake && random() < 0.5) {
          await client.send(await client.peerRequest(identityFor(handshake), handshake));
          await waitFor(() => client.isClosed || client.received.length > 1, {
            what: "a peer reply",
            timeoutMs: 3000,
          });
        }
        for (const frame of frames) await client.writeRaw(frame);
        // The node closes on the first bad frame, or (for an idle or half frame) after its timeouts.
        await waitFor(() => client.isClosed, {
          what: "the node to close the fuzzed connection",
          timeoutMs: 5000,
        });
      } finally {
        await client.close();
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, one));
}

Deno.test("10,000 random and mutated frames each at a seed and at a peer leave both serving valid clients", async () => {
  const seed = 0x5eed + 1;
  const random = mulberry32(seed);
  const settings = { ...FAST, banThreshold: 0, handshakeTimeout: 300, frameTimeout: 300, maxInbound: 1000 };
  const seedNode = new SeedNode({ settings });
  await seedNode.start();
  const target = new PeerNode({ settings: { ...settings, seeds: [seedNode.address] } });
  await target.start();
  // The address the fuzzing connections announce in their peer_request.
  const me = new HandNode();
  const late: PeerNode[] = [];
  try {
    const heapBefore = Deno.memoryUsage().heapUsed;
    await fuzz(seedNode.address.port, random, 10_000);
    await fuzz(target.address.port, random, 10_000, me.label);
    const grown = Deno.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 100 * 1024 * 1024, `heap grew by ${grown} bytes (seed ${seed})`);

    // Both still work: a new peer joins through the fuzzed seed and its message reaches the fuzzed peer.
    const newcomer = new PeerNode({ settings: { ...settings, seeds: [seedNode.address] } });
    late.push(newcomer);
    await newcomer.start();
    await waitFor(() => newcomer.neighbours().some((n) => n.addr === target.label), {
      what: "a link to the fuzzed peer",
    });
    const id = newcomer.publish("after the storm").id;
    await waitFor(() => target.messages().some((m) => m.id === id), { what: "delivery to the fuzzed peer" });
    assert.ok(seedNode.peers().includes(newcomer.label));
  } finally {
    await me.close();
    await Promise.all(late.map((p) => p.stop()));
    await target.stop();
    await seedNode.stop();
  }
});
