/** Lying peers, played by hand-written clients over the real wire format. */

import assert from "node:assert/strict";
import net from "node:net";
import type { Settings } from "../../lib/settings/config.ts";
import { encodeFrame } from "../../lib/wire/codec.ts";
import { FAST, MAX_FRAME_BYTES, recordText, TestNetwork, waitFor, withLogs } from "../_helpers.ts";
import { identityFor, NodeIdentity, WireClient } from "../_wire_client.ts";

/**
 * A peer that registers honestly (it listens and answers probes at its address) and
 * then lies on its registration connection.
 */
class Liar {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #answering: WireClient[] = [];
  readonly #accepting: Promise<void>;
  client: WireClient | undefined;
  readonly addr = `127.0.0.1:${(this.#listener.addr as Deno.NetAddr).port}`;
  readonly identity = NodeIdentity.generate();

  constructor() {
    this.#accepting = (async () => {
      try {
        for await (const conn of this.#listener) {
          this.#answering.push(WireClient.wrap(conn, (m, c) => c.answerProbe(m, this.identity, this.addr)));
        }
      } catch {
        // Listener closed.
      }
    })();
  }

  async register(seed: { host: string; port: number }): Promise<WireClient> {
    const client = this.client = await WireClient.connect(seed);
    await client.send(await client.registration(this.identity, this.addr));
    await waitFor(() => client.received.some((m) => m.type === "peer_list"), {
      what: "the liar's registration",
    });
    return client;
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    await Promise.all([this.client?.close(), ...this.#answering.map((c) => c.close())]);
  }
}

async function network(settings: Partial<Settings> = {}): Promise<TestNetwork> {
  return await TestNetwork.start(1, 2, settings);
}

Deno.test("a death report about a live peer does not evict it: the seed probes the accused and logs the reporter", async () => {
  await withLogs(async (records) => {
    const net = await network();
    const liar = new Liar();
    try {
      const seed = net.seeds[0]!;
      const victim = net.peers[0]!;
      const rejected: string[] = [];
      seed.events.on("reportRejected", (e) => rejected.push(`${e.addr} from ${e.reporter}`));
      const client = await liar.register(seed.address);
      await client.send({ type: "death", addr: victim.label, reason: "dead", reporter: liar.addr });
      await waitFor(() => rejected.length === 1, { what: "the report to be rejected" });
      assert.deepEqual(rejected, [`${victim.label} from ${liar.addr}`]);
      assert.ok(seed.peers().includes(victim.label));
      assert.ok(
        records.some((r) =>
          r.level === "warning" && recordText(r).includes(`rejected death report`) &&
          recordText(r).includes(liar.addr)
        ),
      );
    } finally {
      await liar.close();
      await net.stop();
    }
  });
});

Deno.test("a leaving Death is accepted only from the peer itself, on the connection it registered on", async () => {
  const net = await network();
  const liar = new Liar();
  try {
    const seed = net.seeds[0]!;
    const victim = net.peers[0]!;
    const rejected: string[] = [];
    seed.events.on("reportRejected", (e) => rejected.push(e.why));
    const client = await liar.register(seed.address);
    const sig = (await client.goodbye(liar.identity, liar.addr)).sig;
    await client.send({ type: "death", addr: victim.label, reason: "leaving", reporter: liar.addr, sig });
    await client.send({ type: "death", addr: victim.label, reason: "leaving", reporter: victim.label, sig });
    await waitFor(() => rejected.length === 2, { what: "both forged goodbyes to be rejected" });
    assert.ok(seed.peers().includes(victim.label));
    // The liar's own goodbye, but sent on another connection than the one it registered on.
    const other = await WireClient.connect(seed.address);
    try {
      await other.send(await other.registration(liar.identity, liar.addr));
      await waitFor(() => other.isClosed, {
        what: "a second registration of the same address to be refused",
      });
    } finally {
      await other.close();
    }
    assert.ok(seed.peers().includes(liar.addr), "no takeover: the first registration stands");
    await client.send(await client.goodbye(liar.identity, liar.addr));
    await waitFor(() => !seed.peers().includes(liar.addr), { what: "the liar's own goodbye to count" });
  } finally {
    await liar.close();
    await net.stop();
  }
});

Deno.test("a peer cannot register an address it does not listen on, nor one on another host", async () => {
  await withLogs(async (records) => {
    const net = await network();
    const seed = net.seeds[0]!;
    const nowhere = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (nowhere.addr as Deno.NetAddr).port;
    nowhere.close();
    const clients: WireClient[] = [];
    try {
      for (const addr of [`127.0.0.1:${port}`, "10.1.2.3:4000"]) {
        const client = await WireClient.connect(seed.address);
        clients.push(client);
        await client.send(await client.registration(identityFor(addr), addr));
        await waitFor(() => client.isClosed, { what: `registration of ${addr} to be refused` });
        assert.ok(!client.received.some((m) => m.type === "peer_list"));
        assert.ok(!seed.peers().includes(addr));
      }
      assert.ok(
        records.some((r) => recordText(r).includes(`cannot reach announced address 127.0.0.1:${port}`)),
      );
      assert.ok(records.some((r) => recordText(r).includes("claims address 10.1.2.3:4000 on another host")));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await net.stop();
    }
  });
});

Deno.test("a reporter that keeps sending false reports is removed and refused for the ban time", async () => {
  const net = await network({ banThreshold: 3 });
  const liar = new Liar();
  try {
    const seed = net.seeds[0]!;
    const removed: string[] = [];
    seed.events.on("removed", (e) => removed.push(`${e.addr}:${e.reason}`));
    const client = await liar.register(seed.address);
    for (const victim of [net.peers[0]!, net.peers[1]!, net.peers[0]!]) {
      const before = removed.length;
      await client.send({ type: "death", addr: victim.label, reason: "dead", reporter: liar.addr });
      if (client.isClosed) break;
      // Each report is checked (the seed probes the accused) before the next goes out.
      await waitFor(() => client.isClosed || removed.length > before || seed.peers().includes(victim.label), {
        what: "the report to be judged",
      });
    }
    await waitFor(() => removed.includes(`${liar.addr}:banned`), { what: "the liar to be banned" });
    await waitFor(() => client.isClosed, { what: "the liar's connection to close" });
    assert.ok(net.peers.every((p) => seed.peers().includes(p.label)), "no honest peer was removed");
    const again = await WireClient.connect(seed.address);
    try {
      await again.send(await again.registration(liar.identity, liar.addr));
      await waitFor(() => again.isClosed, { what: "the banned liar's registration to be refused" });
      assert.ok(!seed.peers().includes(liar.addr));
    } finally {
      await again.close();
    }
  } finally {
    await liar.close();
    await net.stop();
  }
});

/** A raw connection from another loopback address, through node:net (Deno.connect cannot choose its source). */
function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Resumed: the challenge the node sends first must be read for the close to be seen.
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(socket.resume()));
    socket.once("error", reject);
  });
}

Deno.test("a host that sends invalid frames repeatedly is banned; other hosts are still served", async (t) => {
  const net = await TestNetwork.start(1, 0, { ...FAST, banThreshold: 3 });
  const port = net.seeds[0]!.address.port;
  try {
    let probe: net.Socket;
    try {
      probe = await connectFrom("127.0.0.2", port);
      probe.destroy();
    } catch (error) {
      t.step({
        name: `skipped: cannot bind 127.0.0.2 (${(error as Error).message})`,
        fn: () => {},
        ignore: true,
      });
      return;
    }
    const closedBy = (socket: net.Socket) =>
      new Promise<void>((resolve) => socket.once("close", () => resolve()));
    for (let i = 0; i < 3; i++) {
      const bad = await connectFrom("127.0.0.2", port);
      const closed = closedBy(bad);
      bad.write(new TextEncoder().encode("\x00\x00\x00\x05hello"));
      await closed;
    }
    const banned = await connectFrom("127.0.0.2", port);
    const answered: Uint8Array[] = [];
    banned.on("data", (d: Uint8Array) => answered.push(d));
    const closed = closedBy(banned);
    banned.write(encodeFrame({ type: "liveliness", ts: 1 }, MAX_FRAME_BYTES));
    await closed;
    assert.equal(answered.length, 0, "a banned host gets no answer");
    const honest = await WireClient.connect(net.seeds[0]!.address);
    try {
      await honest.send({ type: "liveliness", ts: 2 });
      await waitFor(() => honest.received.some((m) => m.type === "liveliness_reply"), {
        what: "127.0.0.1 served",
      });
    } finally {
      await honest.close();
    }
  } finally {
    await net.stop();
  }
});

Deno.test("a neighbour's death report about someone else closes the link: reports go to seeds", async () => {
  const net = await network();
  const me = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await WireClient.connect(net.peers[0]!.address);
  try {
    const addr = `127.0.0.1:${(me.addr as Deno.NetAddr).port}`;
    await client.send(await client.peerRequest(identityFor(addr), addr));
    await waitFor(() => client.received.some((m) => m.type === "peer_reply" && m.accepted), {
      what: "acceptance",
    });
    const { sig } = await client.goodbye(identityFor(addr), addr);
    await client.send({
      type: "death",
      addr: net.peers[1]!.label,
      reason: "leaving",
      reporter: net.peers[1]!.label,
      sig,
    });
    await waitFor(() => client.isClosed, { what: "the link to close" });
    assert.ok(net.peers[0]!.neighbours().some((n) => n.addr === net.peers[1]!.label), "the real link stands");
  } finally {
    await client.close();
    me.close();
    await net.stop();
  }
});
