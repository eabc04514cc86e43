import { Cluster } from "../lib/cluster.ts";
const mode = (Deno.args[0] ?? "tree") as "tree" | "flood";
const n = Number(Deno.args[1] ?? 100);
const cluster = new Cluster({
  seeds: 3,
  settings: {
    livelinessInterval: 2000,
    probeTimeout: 1000,
    overlayInterval: 2000,
    gossipCount: 0,
    seedTimeout: 10000,
    connectTimeout: 10000,
    degree: 4,
    gossipMode: mode,
    ...JSON.parse(Deno.args[2] ?? "{}"),
  },
});
await cluster.startSeeds();
await cluster.addPeers(n, 10);
while (!(cluster.live.every((p) => p.neighbours().length >= 4) && cluster.isConnected())) {
  await new Promise((r) => setTimeout(r, 20));
}
const lat: number[] = [];
const ctl = () =>
  cluster.live.reduce((a, p) => {
    const t = p.traffic();
    return [
      a[0]! + t.framesSent,
      a[1]! + t.fetches + 1000 * t.grafts,
      a[2]! + t.prunes,
      a[3]! + t.announcements,
    ];
  }, [0, 0, 0, 0]);
for (let i = 0; i < 300; i++) {
  const before = ctl();
  const s = performance.now();
  cluster.publish(cluster.randomPeer()!, "m" + i + "x".repeat(100));
  await cluster.delivered(10000);
  const d = performance.now() - s;
  const after = ctl();
  lat.push(d);
  if (d > 8 || i < 5) {
    console.log(
      i,
      d.toFixed(1),
      "frames",
      after[0]! - before[0]!,
      "grafts",
      after[1]! - before[1]!,
      "prunes",
      after[2]! - before[2]!,
      "ihave",
      after[3]! - before[3]!,
    );
  }
}
const sorted = [...lat].sort((a, b) => a - b);
console.log(
  "p50",
  sorted[150]!.toFixed(2),
  "p99",
  sorted[297]!.toFixed(2),
  "last100 p99",
  [...lat.slice(200)].sort((a, b) => a - b)[98]!.toFixed(2),
);
const eager = cluster.live.reduce((a, p) => a + p.neighbours().filter((x) => x.gossip === "push").length, 0);
console.log("eager directed links", eager, "links", cluster.links);
await cluster.stop();
