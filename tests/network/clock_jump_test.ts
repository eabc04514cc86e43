/**
 * Setting the system clock back does not stop a node: every timer and duration runs on
 * the monotonic clock, and wall time goes only into timestamps (`created`, what people
 * read). A FakeClock moves the wall clock back 60 s in the middle of a run.
 */

import assert from "node:assert/strict";
import { fakeNetwork } from "../_fake_net.ts";
import { withLogs } from "../_helpers.ts";

/** What is watched, and the longest gap allowed between two of them, in fake ms. */
const KINDS = {
  "probe round": 2 * 200, // livelinessInterval
  "renewal": 2 * 600, // livelinessInterval × livelinessMisses, per peer
  "own message": 2 * 300, // gossipInterval
  "announcement": 2 * 300, // a batch after each message, announceInterval × 1.5 at most
} as const;
type Kind = keyof typeof KINDS;

Deno.test("with the wall clock set back 60 s mid-run, probes, announcements, renewals and gossip go on at their pace", async () => {
  await withLogs(async (records) => {
    const net = await fakeNetwork(1, 4, { gossipInterval: 300, gossipCount: 1000 }, { seed: 5 });
    const clock = net.ground.clock;
    try {
      await net.waitFor(() => net.isConnected(), { what: "a connected overlay" });
      const seen: Record<Kind, number[]> = {
        "probe round": [],
        renewal: [],
        "own message": [],
        announcement: [],
      };
      const kindOf: Record<string, Kind> = {
        "liveliness.sent": "probe round",
        "seed.peer_list_sent": "renewal",
      };
      let read = records.length;
      let announcements = 0;
      const created: number[] = [];
      for (const peer of net.peers) {
        peer.events.on("message", (m) => {
          if (m.from === undefined) {
            seen["own message"].push(clock.now());
            created.push(m.created);
          }
        });
      }
      /** Runs `ms` of fake time, noting when each watched thing happens (to 10 ms). */
      const run = async (ms: number) => {
        for (let t = 0; t < ms; t += 10) {
          await clock.advance(10);
          for (; read < records.length; read++) {
            const kind = kindOf[String(records[read]!.properties.event)];
            if (kind) seen[kind].push(clock.now());
          }
          const total = net.peers.reduce((n, p) => n + p.traffic().announcements, 0);
          if (total > announcements) seen.announcement.push(clock.now());
          announcements = total;
        }
      };
      await run(3000);
      const jumpAt = clock.now();
      const wallBefore = clock.wallNow();
      const createdBefore = created.length;
      clock.jumpWall(-60_000);
      await run(3000);
      for (const [kind, maxGap] of Object.entries(KINDS) as [Kind, number][]) {
        const times = seen[kind].filter((t) => t > jumpAt - 1000);
        const after = times.filter((t) => t > jumpAt);
        assert.ok(after.length >= 3000 / maxGap, `${kind}: ${after.length} after the jump`);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        assert.ok(Math.max(...gaps) <= maxGap, `${kind}: a gap of ${Math.max(...gaps)} ms around the jump`);
      }
      // Messages say when they were made by the wall clock: those after the jump, 60 s earlier.
      const later = created.slice(createdBefore);
      assert.ok(
        later.length > 0 && later.every((c) => c < wallBefore - 55_000),
        "created follows the wall clock",
      );
    } finally {
      await net.stop();
    }
  });
});
