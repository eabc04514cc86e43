/** A seed checking a death report, on fake time. */

import assert from "node:assert/strict";
import { fakeNetwork } from "../_fake_net.ts";
import { HandNode } from "../_wire_client.ts";

Deno.test("DeathReports removes a peer that dies while the seed is still checking a report about it", async () => {
  const net = await fakeNetwork(1, 0);
  const silent = new HandNode({ ground: net.ground });
  try {
    const seed = net.seeds[0]!;
    const removals: string[] = [];
    seed.events.on("removed", (e) => e.addr === silent.label && removals.push(e.reason));
    const [registration] = await silent.register(net.seedAddresses);
    await net.addPeer();
    silent.freeze();
    // The peer's neighbour reports it; while the seed's re-probes run, it renews its
    // registration once more and then dies: the refusal must still settle the check.
    await net.waitFor(() => net.peers[0]!.neighbours().length === 0, {
      what: "the neighbour to give up on it",
    });
    assert.ok(seed.peers().includes(silent.label), "the seed is still checking the report");
    await registration!.send(await registration!.registration(silent.identity, silent.label));
    await silent.close();
    await net.waitFor(() => !seed.peers().includes(silent.label), { what: "the seed to drop the dead peer" });
    assert.deepEqual(removals, ["dead"]);
  } finally {
    await net.stop();
    await silent.close();
  }
});
