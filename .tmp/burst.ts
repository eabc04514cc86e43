import { Cluster } from "../lib/cluster.ts";
const mode = (Deno.args[0] ?? "tree") as "tree" | "flood";
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
    ...JSON.parse(Deno.args[1] ?? "{}"),
  },
});
await cluster.startSeeds();
await cluster.addPeers(100, 10);
while (!(cluster.live.every((p) => p.neighbours().length >= 4) && cluster.isConnected())) {
  await new Promise((r) => setTimeout(r, 20));
}
for (let i = 0; i < 20; i++) {
  cluster.publish(cluster.randomPeer()!, "w" + i);
  await cluster.delivered(10000);
}
const ctl = () =>
  cluster.live.reduce((a, p) => {
    const t = p.traffic();
    return [a[0]! + t.framesSent, a[1]! + t.fetches, a[2]! + t.grafts, a[3]! + t.prunes];
  }, [0, 0, 0, 0]);
const before = ctl();
const s = performance.now();
const marks: number[] = [];
let delivered = 0;
for (const p of cluster.live) {
  p.events.on("message", () => {
    delivered++;
    if (delivered % 9900 === 0) marks.push(Math.round(performance.now() - s));
  });
}
for (let i = 0; i < 1000; i++) cluster.publish(cluster.randomPeer()!, "b" + i + "x".repeat(100));
await cluster.delivered(60000);
console.log(
  mode,
  "burst ms",
  Math.round(performance.now() - s),
  "deliveries per 10% at ms",
  marks.join(","),
  "frames,fetches,grafts,prunes",
  ctl().map((v, i) => v - before[i]!).join(","),
);
await cluster.stop();
