/**
 * The protocol version in the handshake: a seed or a peer refuses a get_peer_list or a
 * peer_request of another version (or of none) with a reason naming both versions,
 * closes, and counts no strike; a peer refused by a seed fails with that reason.
 */

import assert from "node:assert/strict";
import type { Settings } from "../../lib/settings/config.ts";
import { JoinError, PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { FAST, waitFor } from "../_helpers.ts";
import { answersProbe, HandNode, WireClient } from "../_wire_client.ts";

/** One strike bans the host, so a refusal that struck would shut out the next client. */
const STRICT: Partial<Settings> = { ...FAST, banThreshold: 1 };

/** Sends `frame` on a new connection and returns what came back once the node closed it. */
async function answerTo(port: number, frame: Record<string, unknown>): Promise<unknown[]> {
  const client = await WireClient.connect({ host: "127.0.0.1", port });
  try {
    await client.send(frame);
    await waitFor(() => client.isClosed, { what: "the node to close the connection", timeoutMs: 3000 });
    return client.received;
  } finally {
    await client.close();
  }
}

Deno.test("a seed refuses a get_peer_list of another protocol version with a reason, closes, and strikes no one", async () => {
  const seed = new SeedNode({ host: "127.0.0.1", settings: STRICT });
  await seed.start();
  try {
    const addr = "127.0.0.1:9";
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", version: 2, addr }), [
      { type: "refused", reason: "protocol version 2 not supported; this node speaks 1" },
    ]);
    // A frame from before versions existed counts as version 0.
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", addr }), [
      { type: "refused", reason: "protocol version 0 not supported; this node speaks 1" },
    ]);
    assert.deepEqual(seed.peers(), []);
    await answersProbe(seed.address);
  } finally {
    await seed.stop();
  }
});

Deno.test("a peer declines a peer_request of another protocol version with a reason, closes, and strikes no one", async () => {
  const seed = new SeedNode({ host: "127.0.0.1", settings: STRICT });
  await seed.start();
  const peer = new PeerNode({ host: "127.0.0.1", port: 0, settings: { ...STRICT, seeds: [seed.address] } });
  try {
    await peer.start();
    const request = { type: "peer_request", version: 2, addr: "127.0.0.1:9" };
    assert.deepEqual(await answerTo(peer.address.port, request), [
      {
        type: "peer_reply",
        accepted: false,
        addr: peer.label,
        reason: "protocol version 2 not supported; this node speaks 1",
      },
    ]);
    assert.deepEqual(peer.neighbours(), []);
    await answersProbe(peer.address);
  } finally {
    await peer.stop();
    await seed.stop();
  }
});

Deno.test("a peer that a seed refuses fails to join, with the seed's reason in its error", async () => {
  // A seed of a later protocol version, played by hand.
  const seed = new HandNode({
    acceptsNeighbours: false,
    answer: (message) =>
      message.type === "get_peer_list"
        ? { type: "refused", reason: `protocol version ${message.version} not supported; this node speaks 2` }
        : undefined,
  });
  const peer = new PeerNode({ host: "127.0.0.1", port: 0, settings: { ...FAST, seeds: [seed.address] } });
  try {
    await assert.rejects(peer.start(), (error: Error) => {
      assert.ok(error instanceof JoinError, String(error));
      assert.match(error.message, /refused: protocol version 1 not supported; this node speaks 2/);
      return true;
    });
  } finally {
    await peer.stop();
    await seed.close();
  }
});
