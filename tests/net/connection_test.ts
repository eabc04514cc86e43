/** Connection's write queue over real loopback sockets: coalescing, partial writes, its limit. */

import assert from "node:assert/strict";
import { Connection } from "../../lib/net/connection.ts";
import { TcpTransport } from "../../lib/net/tcp_transport.ts";
import type { Stream } from "../../lib/net/transport.ts";
import type { Message } from "../../lib/wire/messages.ts";
import { waitFor } from "../_helpers.ts";
import { WireClient } from "../_wire_client.ts";

/** A Connection on one end of a loopback TCP pair, and the raw stream at the other end. */
async function socketPair(options: ConstructorParameters<typeof Connection>[1] = {}) {
  const tcp = new TcpTransport();
  const listener = tcp.listen("127.0.0.1", 0);
  const accepted = listener.accept();
  const stream = await tcp.connect(listener.addr, new AbortController().signal);
  const remote = await accepted;
  listener.close();
  return { connection: new Connection(stream, options), remote };
}

/** Reads the frames arriving at `remote` until `count` messages arrived or the stream ended. */
async function readMessages(remote: Stream, count: number): Promise<Message[]> {
  const reader = WireClient.wrap(remote);
  await waitFor(() => reader.received.length >= count || reader.isClosed, { what: `${count} messages` });
  return reader.received;
}

Deno.test("frames queued faster than the remote reads all arrive once, in order, through partial writes", async () => {
  const { connection, remote } = await socketPair();
  try {
    // About 6.5 MB in one tick: more than the socket buffers take at once (so writes go
    // out in pieces), all queued before the first write starts.
    const count = 3000;
    const filler = Array.from({ length: 59 }, (_, i) => "e" + i.toString(16).padStart(31, "0"));
    for (let i = 0; i < count; i++) {
      assert.equal(
        connection.send({ type: "get_data", ids: [i.toString(16).padStart(32, "0"), ...filler] }),
        true,
      );
    }
    assert.ok(connection.queuedBytes > 6_000_000, `queued ${connection.queuedBytes} bytes`);
    const [messages] = await Promise.all([readMessages(remote, count), connection.flush()]);
    const sequence = messages.map((m) => m.type === "get_data" && parseInt(m.ids![0]!, 16));
    assert.deepEqual(sequence, [...Array(count).keys()]);
    assert.equal(connection.queuedBytes, 0);
    assert.equal(connection.isClosed, false);
  } finally {
    connection.close();
    remote.close();
  }
});

Deno.test("a remote that does not read is cut off once the write queue passes its limit", async () => {
  const { connection, remote } = await socketPair({ maxQueuedBytes: 64 * 1024 });
  try {
    const reason = "r".repeat(900);
    let accepted = 0;
    // All in one tick: nothing is written yet, so the queue holds every frame.
    while (connection.send({ type: "peer_reply", accepted: false, addr: "127.0.0.1:1", reason })) accepted++;
    assert.ok(accepted > 50 && accepted < 80, `${accepted} frames queued before the limit`);
    assert.equal(connection.isClosed, true);
    assert.equal(connection.closeReason, "write queue over 65536 bytes (remote not reading)");
    assert.equal(connection.queuedBytes, 0);
    assert.equal(connection.send({ type: "prune" }), false, "nothing is queued after the close");
    await connection.flush();
    await connection.closed;
  } finally {
    connection.close();
    remote.close();
  }
});

Deno.test("send() queues an urgent frame ahead of those not yet written, whatever its type", async () => {
  const { connection, remote } = await socketPair();
  try {
    // All in one tick: nothing is written yet, so the queue holds every frame.
    connection.send({ type: "prune" });
    connection.send({ type: "liveliness", ts: 1 });
    connection.send({ type: "graft" }, { urgent: true });
    const messages = await readMessages(remote, 3);
    assert.deepEqual(messages.map((m) => m.type), ["graft", "prune", "liveliness"]);
  } finally {
    connection.close();
    remote.close();
  }
});

Deno.test("whenQueuedAtMost resolves once the queue has drained to the given bytes, and false if the connection closes first", async () => {
  const { connection, remote } = await socketPair();
  try {
    assert.equal(await connection.whenQueuedAtMost(0), true, "an empty queue is at once");
    for (let i = 0; i < 100; i++) connection.send({ type: "refused", reason: "r".repeat(150) });
    const queued = connection.queuedBytes;
    let drained = false;
    const waiting = connection.whenQueuedAtMost(1000).then((ok) => (drained = ok));
    assert.equal(drained, false);
    await Promise.all([readMessages(remote, 100), waiting]);
    assert.equal(drained, true);
    assert.ok(connection.queuedBytes <= 1000 && queued > 1000, `${queued} then ${connection.queuedBytes}`);
    connection.send({ type: "refused", reason: "r".repeat(150) });
    const cut = connection.whenQueuedAtMost(0);
    connection.close();
    assert.equal(await cut, false);
    assert.equal(await connection.whenQueuedAtMost(1 << 30), false, "closed: never room");
  } finally {
    connection.close();
    remote.close();
  }
});
