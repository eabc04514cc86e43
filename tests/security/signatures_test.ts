/**
 * Node identities and signed messages, played by hand-written clients over the real
 * wire: a message cannot speak for another peer, a signature holds only for what it
 * signed, a leave only for the leaver and the connection it was said on, and an address
 * cannot be taken over by another key while its holder lives. Each refusal is a strike.
 */

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import type { Settings } from "../../lib/settings/config.ts";
import type { GossipMessage } from "../../lib/wire/messages.ts";
import { messageId } from "../../lib/wire/message_id.ts";
import type { StoredMessage } from "../../lib/peer/message_store.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { FAST, REAL_GROUND, recordText, TestNetwork, waitFor, withLogs } from "../_helpers.ts";
import {
  handNeighbour,
  HandNode,
  identityFor,
  NodeIdentity,
  proof,
  signedMessage,
  WireClient,
} from "../_wire_client.ts";
import type { PeerNode } from "../../lib/peer/peer_node.ts";

/** Strikes are counted, never enough for a ban: every client here comes from 127.0.0.1. */
const SETTINGS: Partial<Settings> = { ...FAST, banThreshold: 1000 };

const strikes = (records: LogRecord[], why: RegExp) =>
  records.filter((r) => r.properties.event === "connection.strike" && why.test(String(r.properties.why)))
    .length;

/** A hand-written neighbour of `peer`, with the identity it proved. */
async function neighbourOf(peer: PeerNode) {
  const neighbour = await handNeighbour(REAL_GROUND, peer);
  return { ...neighbour, identity: identityFor(neighbour.label) };
}

Deno.test("a message that speaks for another peer, or whose content or signature was changed, is dropped with a strike", async () => {
  await withLogs(async (records) => {
    const net = await TestNetwork.start(1, 2, SETTINGS);
    try {
      const peer = net.peers[0]!;
      const victim = net.peers[1]!;
      await waitFor(() => peer.neighbours().some((n) => n.addr === victim.label), {
        what: "the two peers linked",
      });
      const real = victim.publish("the victim's own words");
      await waitFor(() => peer.messages().some((m) => m.id === real.id), { what: "the real message" });
      const victimsId = victim.id;
      const forgeries: [string, (me: NodeIdentity) => GossipMessage, RegExp][] = [
        // The victim's node id, signed with another key.
        [
          "another peer's id and address",
          (me) =>
            signedMessage({ id: victimsId } as NodeIdentity, victim.label, "in your name", { signer: me }),
          /bad message signature/,
        ],
        // The client's own key, validly signed, but the victim's address as origin.
        [
          "another peer's address",
          (me) => signedMessage(me, victim.label, "also in your name"),
          /origin address belongs to another node id/,
        ],
        // A message not seen yet, its content changed on the way: with its id kept, and with the id
        // the new content gives. (A changed copy of a message seen already is a repeat, dropped unread.)
        [
          "tampered content",
          () => ({ ...signedMessage(identityFor("127.0.0.1:7"), "127.0.0.1:7", "sent"), content: "changed" }),
          /message id does not match/,
        ],
        [
          "tampered content with its id recomputed",
          () => {
            const fields = {
              ...signedMessage(identityFor("127.0.0.1:7"), "127.0.0.1:7", "sent"),
              content: "changed",
            };
            return { ...fields, id: messageId(fields) };
          },
          /bad message signature/,
        ],
        // The real signature on new content, with the id the new content gives.
        [
          "a replayed signature on new content",
          () => {
            const fields = { ...realMessage(real), content: "new words" };
            return { ...fields, id: messageId(fields) };
          },
          /bad message signature/,
        ],
      ];
      for (const [what, forge, why] of forgeries) {
        const { client, identity, close } = await neighbourOf(peer);
        try {
          const before = strikes(records, why);
          const forged = forge(identity);
          await client.send(forged);
          await waitFor(() => client.isClosed, { what: `${what}: the forger disconnected` });
          await waitFor(() => strikes(records, why) === before + 1, { what: `${what}: a strike` });
          assert.ok(!peer.messages().some((m) => m.id === forged.id), `${what}: not stored`);
          assert.ok(!victim.messages().some((m) => m.id === forged.id), `${what}: not passed on`);
        } finally {
          await close();
        }
      }
      assert.ok(peer.neighbours().some((n) => n.addr === victim.label), "the honest link stands");
    } finally {
      await net.stop();
    }
  });
});

/** The node id a seed lists for `addr`. */
const idAt = (seed: SeedNode, addr: string) => seed.members().find((m) => m.addr === addr)?.id;

/** A stored message as it went over the wire. */
function realMessage(m: StoredMessage): GossipMessage {
  const { id, origin, originId, content, created, sig } = m;
  return { type: "message", id, hops: 1, origin, originId, content, created, sig: sig! };
}

Deno.test("every message is verified once per peer: repeats are dropped unparsed and unverified", async () => {
  const net = await TestNetwork.start(1, 8, { ...SETTINGS, gossipMode: "flood" });
  try {
    await waitFor(() => net.isConnected(), { what: "a connected overlay" });
    const before = net.peers.map((p) => p.traffic().verifications);
    const ids = net.peers.map((p, i) => p.publish(`message ${i}`).id);
    await waitFor(() => net.peers.every((p) => ids.every((id) => p.messages().some((m) => m.id === id))), {
      what: "every message everywhere",
    });
    // Flooding sends each message over every link: the repeats are many, the verifications not.
    assert.ok(net.peers.reduce((n, p) => n + p.traffic().repeats, 0) > 0);
    net.peers.forEach((p, i) =>
      assert.equal(p.traffic().verifications - before[i]!, ids.length - 1, p.label)
    );
  } finally {
    await net.stop();
  }
});

Deno.test("a forged leave is refused with a strike, at a seed and at a neighbour; the real one counts", async () => {
  await withLogs(async (records) => {
    const net = await TestNetwork.start(1, 1, SETTINGS);
    const seed = net.seeds[0]!;
    const victim = net.peers[0]!;
    const hand = new HandNode({ acceptsNeighbours: false });
    const addr = hand.label;
    const me = hand.identity;
    const clients: WireClient[] = [];
    const connect = async () => {
      const client = await hand.connect(seed.address);
      clients.push(client);
      await client.send(await client.registration(me, addr));
      await waitFor(() => client.received.some((m) => m.type === "peer_list"), { what: "registration" });
      return client;
    };
    try {
      // The victim's leave, sent by another peer on its own connection: a false report.
      const first = await connect();
      const mine = await first.goodbye(me, addr);
      await first.send({ ...mine, addr: victim.label, reporter: victim.label });
      await waitFor(() => records.some((r) => r.properties.event === "seed.report_rejected"), {
        what: "the forged leave to be rejected",
      });
      assert.ok(seed.peers().includes(victim.label));
      // Its own leave, signed for the first connection, replayed on a later one.
      await first.close();
      await waitFor(() => first.isClosed, { what: "the first connection closed" });
      const second = await connect();
      const before = strikes(records, /bad signature on a leave/);
      await second.send(mine);
      await waitFor(() => second.isClosed, { what: "the replayed leave to close the connection" });
      await waitFor(() => strikes(records, /bad signature on a leave/) === before + 1, { what: "a strike" });
      assert.ok(seed.peers().includes(addr), "the replayed leave removed nothing");
      // Signed for the connection it is said on, the leave counts.
      const third = await connect();
      await third.send(await third.goodbye(me, addr));
      await waitFor(() => !seed.peers().includes(addr), { what: "the real leave to count" });

      // At a neighbour: a leave signed over another nonce closes the link with a strike.
      const { client, close } = await neighbourOf(victim);
      try {
        const neighbourAddr = victim.neighbours()[0]!.addr;
        const forged = {
          ...(await client.goodbye(identityFor(neighbourAddr), neighbourAddr)),
          sig: mine.sig,
        };
        const beforeLink = strikes(records, /leave not signed/);
        await client.send(forged);
        await waitFor(() => strikes(records, /leave not signed/) === beforeLink + 1, { what: "a strike" });
        assert.ok(
          records.some((r) => recordText(r).includes("leave not signed by the neighbour for this link")),
        );
      } finally {
        await close();
      }
    } finally {
      await hand.close();
      await net.stop();
    }
  });
});

Deno.test("a second key claiming a live peer's address is refused with a strike; once the holder is gone it is accepted", async () => {
  await withLogs(async (records) => {
    const net = await TestNetwork.start(2, 1, SETTINGS);
    const victim = net.peers[0]!;
    const intruder = NodeIdentity.generate();
    const clients: WireClient[] = [];
    const claim = async (seedIndex: number) => {
      const client = await WireClient.connect(net.seeds[seedIndex]!.address);
      clients.push(client);
      await client.send(await client.registration(intruder, victim.label));
      await waitFor(() => client.isClosed, { what: "the claim to be answered" });
      return client.received.find((m) => m.type === "refused");
    };
    try {
      await waitFor(() => net.seeds.every((s) => s.peers().includes(victim.label)), {
        what: "registrations",
      });
      // The holder's connection is open: refused at once.
      const open = await claim(0);
      assert.match(open?.type === "refused" ? open.reason : "", /registered to another node id/);
      // A seed restarted: the holder has no connection there, but answers at its address as itself
      // (or has registered again already).
      const port = net.seeds[1]!.address.port;
      await net.seeds[1]!.stop();
      const restarted = net.seeds[1] = new SeedNode({ host: "127.0.0.1", port, settings: SETTINGS });
      await restarted.start();
      const alive = await claim(1);
      assert.match(alive?.type === "refused" ? alive.reason : "", /another node id/);
      assert.equal(strikes(records, /another node id/), 2);
      assert.ok(restarted.members().every((m) => m.id === victim.id));
      assert.equal(idAt(net.seeds[0]!, victim.label), victim.id);

      // Once the holder is gone, whoever answers at the address with its key may take it.
      const victimPort = victim.address.port;
      await victim.stop();
      await waitFor(() => !net.seeds[0]!.peers().includes(victim.label), { what: "the holder to leave" });
      const heir = REAL_GROUND.transport("127.0.0.1").listen("127.0.0.1", victimPort);
      const heirs: WireClient[] = [];
      const accepting = (async () => {
        for (;;) {
          const stream = await heir.accept();
          heirs.push(
            WireClient.wrap(stream, { onMessage: (m, c) => c.answerProbe(m, intruder, victim.label) }),
          );
        }
      })().catch(() => {});
      try {
        const client = await WireClient.connect(net.seeds[0]!.address);
        clients.push(client);
        await client.send(await client.registration(intruder, victim.label));
        await waitFor(() => client.received.some((m) => m.type === "peer_list"), {
          what: "the heir registered",
        });
        assert.equal(idAt(net.seeds[0]!, victim.label), intruder.id);
      } finally {
        heir.close();
        await accepting;
        await Promise.all(heirs.map((c) => c.close()));
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await net.stop();
    }
  });
});

Deno.test("a peer's registration proves its key over the seed's challenge: another key's signature is refused", async () => {
  const net = await TestNetwork.start(1, 0, SETTINGS);
  const client = await WireClient.connect(net.seeds[0]!.address);
  try {
    const me = NodeIdentity.generate();
    const request = await client.registration(me, "127.0.0.1:9");
    // Signed over a nonce of the client's choosing instead of the seed's challenge.
    await client.send({ ...request, sig: proof(me, "get_peer_list", "x".repeat(22), "127.0.0.1:9") });
    await waitFor(() => client.isClosed, { what: "the registration to be refused" });
    assert.ok(!client.received.some((m) => m.type === "peer_list"));
  } finally {
    await client.close();
    await net.stop();
  }
});
