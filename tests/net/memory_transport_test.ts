/**
 * The in-memory transport: streams that behave like TCP's (order, end of stream,
 * refusals, a bounded amount in flight, cut links) and settle through promises alone,
 * so that a FakeClock runs a whole network of seeds and peers on fake time
 * (tests/network/fake_time_test.ts).
 */

import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { MemoryNetwork } from "../../lib/net/memory_transport.ts";
import { type Stream, TransportError } from "../../lib/net/transport.ts";
import { Endpoint } from "../../lib/net/endpoint.ts";
import { resolveSettings } from "../../lib/settings/config.ts";
import { FakeClock } from "../../lib/util/clock.ts";
import { FAST, LIMITS } from "../_helpers.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const never = new AbortController().signal;

/** A connected pair between hosts `a` and `b` of `network`: the client end and the accepted end. */
async function pair(network: MemoryNetwork, a = "10.0.0.1", b = "10.0.0.2") {
  const listener = network.transport(b).listen(b, 0);
  const [client, server] = await Promise.all([
    network.transport(a).connect(listener.addr, never),
    listener.accept(),
  ]);
  return { client, server, listener };
}

async function readText(stream: Stream, bytes = 64): Promise<string | null> {
  const buffer = new Uint8Array(bytes);
  const n = await stream.read(buffer);
  return n === null ? null : text.decode(buffer.subarray(0, n));
}

/** Whether `promise` has settled once every pending promise chain has run. */
async function settled(clock: FakeClock, promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await clock.advance(0);
  return done;
}

async function assertTransportError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

Deno.test("a memory stream carries bytes both ways in order, between the addresses each end sees", async () => {
  const { client, server, listener } = await pair(new MemoryNetwork());
  assert.deepEqual(listener.addr, { host: "10.0.0.2", port: 40_000 });
  assert.deepEqual(client.remoteAddr, listener.addr);
  assert.deepEqual(server.remoteAddr, client.localAddr);
  assert.equal(client.localAddr.host, "10.0.0.1");
  assert.equal(await client.write(utf8.encode("hello ")), 6);
  assert.equal(await client.write(utf8.encode("world")), 5);
  assert.equal(await readText(server), "hello world");
  await server.write(utf8.encode("back"));
  assert.equal(await readText(client, 2), "ba", "a read takes what fits in its buffer");
  assert.equal(await readText(client, 2), "ck");
  listener.close();
});

Deno.test("connecting where nothing listens is refused, and so is connecting to a closed listener", async () => {
  const network = new MemoryNetwork();
  const transport = network.transport();
  await assertTransportError(transport.connect({ host: "127.0.0.1", port: 6001 }, never), "refused");
  const listener = transport.listen("127.0.0.1", 6001);
  const accepting = listener.accept();
  listener.close();
  await assertTransportError(accepting, "closed");
  await assertTransportError(transport.connect(listener.addr, never), "refused");
  const aborted = AbortSignal.abort();
  await assertTransportError(transport.connect(listener.addr, aborted), "cancelled");
});

Deno.test("listening on a port in use throws AddrInUse; on another host's address, AddrNotAvailable", () => {
  const network = new MemoryNetwork();
  const transport = network.transport("10.0.0.1");
  const listener = transport.listen("10.0.0.1", 7000);
  assert.throws(() => transport.listen("10.0.0.1", 7000), Deno.errors.AddrInUse);
  assert.throws(() => transport.listen("10.0.0.2", 7001), Deno.errors.AddrNotAvailable);
  assert.notEqual(transport.listen("0.0.0.0", 0).addr.port, 7000, "port 0 picks a free port");
  listener.close();
  transport.listen("10.0.0.1", 7000).close();
});

Deno.test("after the remote closes, a read returns what it wrote and then null, and a write fails as reset", async () => {
  const { client, server } = await pair(new MemoryNetwork());
  await server.write(utf8.encode("last words"));
  server.close();
  server.close();
  assert.equal(await readText(client), "last words");
  assert.equal(await readText(client), null);
  assert.equal(await readText(client), null);
  await assertTransportError(client.write(utf8.encode("anyone?")), "reset");
  await assertTransportError(server.read(new Uint8Array(8)), "closed");
});

Deno.test("closing a stream fails the read it has pending as closed, and the remote reads the end", async () => {
  const { client, server } = await pair(new MemoryNetwork());
  const pending = client.read(new Uint8Array(8));
  client.close();
  await assertTransportError(pending, "closed");
  assert.equal(await readText(server), null);
});

Deno.test("a writer whose peer does not read waits once the high-water mark is in flight, and resumes as it reads", async () => {
  const clock = new FakeClock();
  const { client, server } = await pair(new MemoryNetwork({ highWaterMark: 1000 }));
  assert.equal(await client.write(new Uint8Array(1500).fill(1)), 1000, "a partial write up to the mark");
  const blocked = client.write(new Uint8Array(300).fill(2));
  assert.equal(await settled(clock, blocked), false, "nothing more goes out while 1000 bytes are unread");
  const buffer = new Uint8Array(200);
  assert.equal(await server.read(buffer), 200);
  assert.equal(await blocked, 200, "the waiting write takes the room the read made");
  const rest = new Uint8Array(2000);
  assert.equal(await server.read(rest), 1000);
  assert.deepEqual([rest[799], rest[800], rest[999]], [1, 2, 2]);
});

Deno.test("a cut link holds bytes and connects until healed; a connect across it times out on fake time", async () => {
  const clock = new FakeClock();
  const network = new MemoryNetwork();
  const { client, server, listener } = await pair(network);
  network.cut("10.0.0.2", "10.0.0.1");
  assert.equal(network.isCut("10.0.0.1", "10.0.0.2"), true);
  await client.write(utf8.encode("held"));
  const reading = readText(server);
  const connecting = network.transport("10.0.0.1").connect(listener.addr, never);
  assert.equal(await settled(clock, reading), false);
  assert.equal(await settled(clock, connecting), false);
  network.heal("10.0.0.1", "10.0.0.2");
  assert.equal(await reading, "held");
  (await connecting).close();

  network.cut("10.0.0.1", "10.0.0.2");
  const endpoint = new Endpoint({
    settings: resolveSettings(FAST),
    log: () => getLogger(["p2pnet", "test"]),
    limits: LIMITS,
    onMessage: () => {},
    clock,
    transport: network.transport("10.0.0.1"),
  });
  const attempt = endpoint.connect(listener.addr, 500);
  assert.equal(await settled(clock, attempt), false);
  await clock.advance(499);
  assert.equal(await settled(clock, attempt), false, "still waiting 1 ms before the timeout");
  await clock.advance(1);
  await assert.rejects(
    attempt,
    (error: Error) => error instanceof TransportError && error.message === "timed out",
  );
  await endpoint.close();
  listener.close();
});
