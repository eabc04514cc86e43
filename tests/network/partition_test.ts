/**
 * A partition that heals, on the in-memory network and fake time: three hosts, each
 * with a seed and three peers; one host is cut off (traffic held, connections up),
 * each side keeps gossiping, and after the heal the two sides join up within the
 * stated bound, with no one banned for the reports made during the cut.
 */

import assert from "node:assert/strict";
import { MemoryNetwork } from "../../lib/net/memory_transport.ts";
import { FakeClock } from "../../lib/util/clock.ts";
import { isOverlayConnected } from "../../lib/demo/cluster.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { healBoundMs } from "../../lib/settings/bounds.ts";
import { resolveSettings } from "../../lib/settings/config.ts";
import { FAST, mulberry32, withLogs } from "../_helpers.ts";

const HOSTS = ["10.1.0.1", "10.1.0.2", "10.1.0.3"];
const CUT = HOSTS[2]!;

async function drive<T>(clock: FakeClock, task: Promise<T>, what: string): Promise<T> {
  let done = false;
  task.then(() => done = true, () => done = true);
  await clock.until(() => done, { what, timeoutMs: 30_000 });
  return task;
}

Deno.test("a host cut off and healed: both sides keep delivering, then every peer holds everything and every seed lists everyone within the bound, and no one is banned", async () => {
  await withLogs(async (records) => {
    const clock = new FakeClock();
    const network = new MemoryNetwork();
    const settings = resolveSettings({ ...FAST, degree: 2 });
    let n = 0;
    const on = (host: string) => ({
      host,
      port: 0,
      clock,
      transport: network.transport(host),
      random: mulberry32(n++),
    });
    const seeds = HOSTS.map((host) => new SeedNode({ settings, ...on(host) }));
    const peers: PeerNode[] = [];
    try {
      for (const seed of seeds) await drive(clock, seed.start(), "a seed to start");
      const seedList = seeds.map((s) => s.address);
      for (const host of HOSTS) {
        for (let i = 0; i < 4; i++) {
          const peer = new PeerNode({ settings: { ...settings, seeds: seedList }, ...on(host) });
          peers.push(peer);
          await drive(clock, peer.start(), "a peer to start");
        }
      }
      await clock.until(() => isOverlayConnected(peers), { what: "a connected overlay" });
      const hostOf = (p: PeerNode) => p.address.host;
      const cutOff = peers.filter((p) => hostOf(p) === CUT);
      const rest = peers.filter((p) => hostOf(p) !== CUT);
      const holders = (id: string, group: PeerNode[]) =>
        group.filter((p) => p.messages().some((m) => m.id === id));
      const before = peers[0]!.publish("before the cut").id;
      await clock.until(() => holders(before, peers).length === 12, { what: "full delivery before the cut" });

      for (const host of HOSTS) if (host !== CUT) network.cut(host, CUT);
      const cutAt = clock.now();
      // Detection: every link across the cut is found dead at both ends, and the seeds hear of it.
      const listed = (seed: SeedNode, group: PeerNode[]) =>
        group.filter((p) => seed.peers().includes(p.label));
      const across = (p: PeerNode) =>
        p.neighbours().filter((n) => (n.addr.startsWith(`${CUT}:`)) !== (hostOf(p) === CUT)).length;
      const removed = () => records.some((r) => r.properties.event === "seed.peer_removed");
      await clock.until(() => peers.every((p) => across(p) === 0) && removed(), {
        what: "every link across the cut to be found dead",
        timeoutMs: 30_000,
      });
      const detectedMs = clock.now() - cutAt;
      // Each side keeps delivering its own messages.
      const inside = cutOff[0]!.publish("inside the cut").id;
      const outside = rest[0]!.publish("outside the cut").id;
      await clock.until(
        () => holders(inside, cutOff).length === 4 && holders(outside, rest).length === 8,
        { what: "each side to deliver its own message" },
      );
      assert.equal(holders(inside, rest).length, 0, "nothing crosses the cut");
      // Long enough for every dial under way at the cut to time out: only tries made after the heal count.
      await clock.advance(5000);

      network.heal(HOSTS[0]!, CUT);
      network.heal(HOSTS[1]!, CUT);
      const healedAt = clock.now();
      const ids = [before, inside, outside];
      await clock.until(
        () =>
          ids.every((id) => holders(id, peers).length === 12) &&
          seeds.every((s) => listed(s, peers).length === 12),
        { what: "every peer to hold everything and every seed to list everyone", timeoutMs: 60_000 },
      );
      const healMs = clock.now() - healedAt;
      const bound = healBoundMs(settings);
      assert.ok(
        healMs <= bound,
        `healed in ${healMs} ms, bound ${bound} ms (detection took ${detectedMs} ms)`,
      );
      const bans = records.filter((r) =>
        r.properties.event === "seed.reporter_banned" || r.properties.event === "connection.banned"
      );
      assert.deepEqual(bans.map((r) => r.properties), [], "no ban for reports made during the cut");
      // Reports across the cut go nowhere once the peer closes its silent seed links; any that
      // arrive late are judged in good faith, none as false.
      const rejected = records.filter((r) => r.properties.event === "seed.report_rejected");
      const inBadFaith = rejected.filter((r) => !String(r.properties.why ?? "").includes("in good faith"));
      assert.deepEqual(inBadFaith.map((r) => r.properties), [], "no report across the cut judged false");
    } finally {
      await drive(clock, Promise.all(peers.map((p) => p.stop())), "the peers to stop");
      await drive(clock, Promise.all(seeds.map((s) => s.stop())), "the seeds to stop");
    }
  });
});
