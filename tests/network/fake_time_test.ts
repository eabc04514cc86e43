/**
 * Whole networks on fake time (tests/_fake_net.ts): they behave as on real time, and a
 * run is the same event for event, fake millisecond for fake millisecond, each time it
 * is run with the same random seed.
 */

import assert from "node:assert/strict";
import type { SeedNode } from "../../lib/seed/seed_node.ts";
import { FAST } from "../_helpers.ts";
import { fakeNetwork } from "../_fake_net.ts";

/**
 * A seed and three peers on the fake-time harness (each node on a host of its own, one
 * fake clock, random seed `seed`): registration, the overlay, a message from the first
 * peer, then the third peer cut off from every other host until it is found dead.
 * Returns what happened and when (fake ms), and every event the peers emitted.
 */
async function runSmallNetwork(seed: number): Promise<{ trace: string[]; events: string[] }> {
  const net = await fakeNetwork(1, 3, {}, { seed });
  const { clock, memory } = net.ground;
  const [seedNode] = net.seeds as [SeedNode];
  const peers = net.peers;
  const trace: string[] = [];
  const events: string[] = [];
  for (const peer of peers) {
    const note = (what: string) => events.push(`${clock.now()} ${peer.label} ${what}`);
    peer.events.on("neighbourAdded", (e) => note(`+${e.addr} ${e.direction}`));
    peer.events.on("neighbourRemoved", (e) => note(`-${e.addr} ${e.reason}`));
    peer.events.on("message", (m) => note(`got ${m.id} from ${m.from ?? "itself"}`));
    peer.events.on("deathReported", (e) => note(`reported ${e.addr}: ${e.why}`));
  }
  const delivered = (id: string) => peers.filter((p) => p.messages().some((m) => m.id === id)).length;
  try {
    await net.waitFor(() => seedNode.peers().length === 3, { what: "3 registrations" });
    trace.push(`registered at ${clock.now()}: ${seedNode.peers().sort().join(" ")}`);
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    trace.push(`connected at ${clock.now()}`);
    const message = peers[0]!.publish("hello from fake time");
    await net.waitFor(() => delivered(message.id) === 3, { what: "the message at every peer" });
    for (const peer of peers) {
      const got = peer.messages().find((m) => m.id === message.id)!;
      trace.push(`${peer.label} got it from ${got.from ?? "itself"} at ${got.firstSeen}, ${got.hops} hops`);
    }
    const lost = peers[2]!;
    const lostHost = lost.address.host;
    for (const node of [seedNode, ...peers]) {
      if (node !== lost) memory.cut(node.address.host, lostHost);
    }
    await net.waitFor(
      () =>
        !seedNode.peers().includes(lost.label) &&
        peers.every((p) => p === lost || p.neighbours().length === 1),
      { what: "the cut-off peer removed by the seed and its neighbours", timeoutMs: 30_000 },
    );
    trace.push(`cut-off peer removed at ${clock.now()}`);
    const after = peers[1]!.publish("still here");
    await net.waitFor(() => delivered(after.id) === 2, { what: "the second message at both other peers" });
  } finally {
    await net.stop();
  }
  return { trace, events };
}

Deno.test("a seed and three peers on fake time register, connect, deliver and find a cut-off peer dead, the same way each run", async () => {
  const first = await runSmallNetwork(7);
  const { trace } = first;
  assert.equal(trace.length, 6, trace.join("\n"));
  assert.match(trace[0]!, /^registered at \d+: 10\.0\.0\.2:\d+ 10\.0\.0\.3:\d+ 10\.0\.0\.4:\d+$/);
  for (const line of trace.filter((l) => l.includes("got it"))) assert.match(line, /at \d+, [0-2] hops$/);
  // Three probe rounds go unanswered before a direct probe confirms: seconds of fake time, not of waiting.
  const removedAt = Number(/removed at (\d+)/.exec(trace[5]!)![1]);
  assert.ok(removedAt >= 3 * FAST.livelinessInterval!, trace[5]);
  assert.ok(first.events.some((e) => e.includes("reported 10.0.0.4:")), first.events.join("\n"));
  assert.deepEqual(await runSmallNetwork(7), first, "a second run with the same random seed does the same");
});

/** 20 peers (3 seeds) gossip until a round from every peer causes no repeat; returns every event, with its fake time. */
async function runTreeNetwork(seed: number): Promise<string[]> {
  const net = await fakeNetwork(3, 20, {}, { seed });
  const events: string[] = [];
  for (const peer of net.peers) {
    const note = (what: string) => events.push(`${net.ground.now()} ${peer.label} ${what}`);
    peer.events.on("neighbourAdded", (e) => note(`+${e.addr} ${e.direction}`));
    peer.events.on("message", (m) => note(`got ${m.id} from ${m.from ?? "itself"}, ${m.hops} hops`));
  }
  try {
    await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
    for (let round = 0; round < 5; round++) {
      for (const [i, peer] of net.peers.entries()) {
        const id = peer.publish(`round ${round} from ${i}`).id;
        await net.waitFor(() => net.peers.every((p) => p.messages().some((m) => m.id === id)), {
          what: `message ${i} of round ${round} everywhere`,
        });
      }
      await net.ground.clock.advance(100);
    }
    for (const peer of net.peers) {
      events.push(`${peer.label}: ${peer.neighbours().map((n) => `${n.addr} ${n.gossip}`).join(", ")}`);
    }
  } finally {
    await net.stop();
  }
  return events;
}

Deno.test("fakeNetwork with the same random seed gives the same overlay, tree and deliveries; another seed, others", async () => {
  const first = await runTreeNetwork(11);
  assert.ok(first.length > 20 * 20 * 5, `${first.length} events`);
  assert.deepEqual(await runTreeNetwork(11), first, "the same random seed, the same run");
  assert.notDeepEqual(await runTreeNetwork(12), first, "another random seed, other picks");
});
