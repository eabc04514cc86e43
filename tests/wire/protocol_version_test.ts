/**
 * The protocol version in the handshake: a seed or a peer refuses a get_peer_list or a
 * peer_request of another version (or of none) with a reason naming both versions,
 * closes, and counts no strike; a peer refused by a seed, or challenged in another
 * version, fails with that reason.
 */

import assert from "node:assert/strict";
import type { Settings } from "../../lib/settings/config.ts";
import { JoinError, PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { PROTOCOL_VERSION } from "../../lib/wire/messages.ts";
import { FAST, waitFor } from "../_helpers.ts";
import { answersProbe, HandNode, WireClient } from "../_wire_client.ts";

/** One strike bans the host, so a refusal that struck would shut out the next client. */
const STRICT: Partial<Settings> = { ...FAST, banThreshold: 1 };
const NEXT = PROTOCOL_VERSION + 1;

/** Sends `frame` on a new connection and returns what came back (after the challenge) once the node closed it. */
async function answerTo(port: number, frame: Record<string, unknown>): Promise<unknown[]> {
  const client = await WireClient.connect({ host: "127.0.0.1", port });
  try {
    await client.send(frame);
    await waitFor(() => client.isClosed, { what: "the node to close the connection", timeoutMs: 3000 });
    assert.equal(client.received[0]?.type, "challenge");
    return client.received.slice(1);
  } finally {
    await client.close();
  }
}

Deno.test("a seed refuses a get_peer_list of another protocol version with a reason, closes, and strikes no one", async () => {
  const seed = new SeedNode({ host: "127.0.0.1", settings: STRICT });
  await seed.start();
  try {
    const addr = "127.0.0.1:9";
    for (const version of [NEXT, 1]) {
      // A frame of version 1 carries no proof of a node id: refused by version all the same.
      assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", version, addr }), [
        {
          type: "refused",
          reason: `protocol version ${version} not supported; this node speaks ${PROTOCOL_VERSION}`,
        },
      ]);
    }
    // A frame from before versions existed counts as version 0.
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", addr }), [
      { type: "refused", reason: `protocol version 0 not supported; this node speaks ${PROTOCOL_VERSION}` },
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
    const request = { type: "peer_request", version: 1, addr: "127.0.0.1:9" };
    assert.deepEqual(await answerTo(peer.address.port, request), [
      {
        type: "peer_reply",
        accepted: false,
        addr: peer.label,
        reason: `protocol version 1 not supported; this node speaks ${PROTOCOL_VERSION}`,
      },
    ]);
    assert.deepEqual(peer.neighbours(), []);
    await answersProbe(peer.address);
  } finally {
    await peer.stop();
    await seed.stop();
  }
});

/**
 * Starts a peer whose one seed is played by hand: it challenges in `version` and refuses
 * every get_peer_list as a node of a later version would. Returns the peer's join error.
 */
async function joinErrorWithHandSeed(version: number): Promise<string> {
  const seed = new HandNode({
    acceptsNeighbours: false,
    version,
    answer: (message) =>
      message.type === "get_peer_list"
        ? {
          type: "refused",
          reason: `protocol version ${message.version} not supported; this node speaks ${NEXT}`,
        }
        : undefined,
  });
  const peer = new PeerNode({ host: "127.0.0.1", port: 0, settings: { ...FAST, seeds: [seed.address] } });
  try {
    const error = await peer.start().then(() => undefined, (error: Error) => error);
    assert.ok(error instanceof JoinError, String(error));
    return error.message;
  } finally {
    await peer.stop();
    await seed.close();
  }
}

Deno.test("a peer that a seed refuses fails to join, with the seed's reason in its error", async () => {
  assert.match(
    await joinErrorWithHandSeed(PROTOCOL_VERSION),
    new RegExp(`refused: protocol version ${PROTOCOL_VERSION} not supported; this node speaks ${NEXT}`),
  );
});

Deno.test("a peer whose seed challenges in another protocol version fails to join, naming both versions", async () => {
  assert.match(
    await joinErrorWithHandSeed(NEXT),
    new RegExp(`protocol version ${NEXT} not supported; this node speaks ${PROTOCOL_VERSION}`),
  );
});
