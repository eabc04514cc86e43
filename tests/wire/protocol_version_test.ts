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
import { WireClient } from "../_wire_client.ts";
import { PROTOCOL_VERSION } from "../../lib/wire/messages.ts";
import { newNonce } from "../../lib/wire/signatures.ts";

const NEXT = PROTOCOL_VERSION + 1;

/** One strike bans the host, so a refusal that struck would shut out the next client. */
const STRICT: Partial<Settings> = { ...FAST, banThreshold: 1 };

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

/** Whether the node at `port` still answers a probe (it has not banned this host). */
async function answersProbe(port: number): Promise<void> {
  const client = await WireClient.connect({ host: "127.0.0.1", port });
  try {
    await client.send({ type: "liveliness", ts: 5 });
    await waitFor(() => client.received.length === 2, { what: "a liveliness reply", timeoutMs: 3000 });
    assert.deepEqual(client.received[1], { type: "liveliness_reply", ts: 5 });
  } finally {
    await client.close();
  }
}

Deno.test("a seed refuses a get_peer_list of another protocol version with a reason, closes, and strikes no one", async () => {
  const seed = new SeedNode({ host: "127.0.0.1", settings: STRICT });
  await seed.start();
  try {
    const addr = "127.0.0.1:9";
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", version: NEXT, addr }), [
      {
        type: "refused",
        reason: `protocol version ${NEXT} not supported; this node speaks ${PROTOCOL_VERSION}`,
      },
    ]);
    // A frame of version 1 carries no proof of a node id: refused by version all the same.
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", version: 1, addr }), [
      { type: "refused", reason: `protocol version 1 not supported; this node speaks ${PROTOCOL_VERSION}` },
    ]);
    // A frame from before versions existed counts as version 0.
    assert.deepEqual(await answerTo(seed.address.port, { type: "get_peer_list", addr }), [
      { type: "refused", reason: `protocol version 0 not supported; this node speaks ${PROTOCOL_VERSION}` },
    ]);
    assert.deepEqual(seed.peers(), []);
    await answersProbe(seed.address.port);
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
    await answersProbe(peer.address.port);
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
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const clients: WireClient[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const client = WireClient.wrap(conn, (message, client) => {
        if (message.type === "get_peer_list") {
          client.send({
            type: "refused",
            reason: `protocol version ${message.version} not supported; this node speaks ${NEXT}`,
          });
        }
      });
      clients.push(client);
      client.send({ type: "challenge", version, nonce: newNonce() });
    }
  })();
  const peer = new PeerNode({
    host: "127.0.0.1",
    port: 0,
    settings: { ...FAST, seeds: [{ host: "127.0.0.1", port: listener.addr.port }] },
  });
  try {
    const error = await peer.start().then(() => undefined, (error: Error) => error);
    assert.ok(error instanceof JoinError, String(error));
    return error.message;
  } finally {
    await peer.stop();
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
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
