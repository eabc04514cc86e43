// js-libp2p gossipsub with its default stack (TCP, noise, yamux, StrictSign: every
// message signed and checked), N nodes in this process on 127.0.0.1, measured the way
// bench/bench.ts measures p2pnet: full-delivery latency of messages sent one at a time,
// and a burst's messages per second until every node has every message.
// Usage: node bench.mjs [--peers 100] [--degree 4] [--messages 1000] [--latency-messages 200] [--size 100]
import "./polyfill.mjs";
import { parseArgs } from "node:util";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { gossipsub } from "@chainsafe/libp2p-gossipsub";

const { values } = parseArgs({
  options: {
    peers: { type: "string", default: "100" },
    degree: { type: "string", default: "4" },
    messages: { type: "string", default: "1000" },
    "latency-messages": { type: "string", default: "200" },
    size: { type: "string", default: "100" },
  },
});
const N = Number(values.peers);
const DEGREE = Number(values.degree);
const BURST = Number(values.messages);
const ONE_BY_ONE = Number(values["latency-messages"]);
const SIZE = Number(values.size);
const TOPIC = "bench";
const WARMUP = 10;

const progress = (text) => console.error(`[gossipsub] ${text}`);
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publish time and deliveries of each message, by its text. */
const sent = new Map();
function track(text) {
  sent.set(text, { at: performance.now(), got: 0, doneAt: undefined });
}

async function startNode() {
  const node = await createLibp2p({
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Every node here shares 127.0.0.1: the IP colocation penalty, meant for Sybils behind one
    // address, would leave most of them out of every mesh. The only change from the defaults.
    services: { identify: identify(), pubsub: gossipsub({ scoreParams: { IPColocationFactorWeight: 0 } }) },
  });
  node.services.pubsub.addEventListener("message", (event) => {
    const text = new TextDecoder().decode(event.detail.data);
    const entry = sent.get(text);
    if (entry === undefined) return;
    if (++entry.got === N - 1) entry.doneAt = performance.now();
  });
  node.services.pubsub.subscribe(TOPIC);
  return node;
}

function content(sequence) {
  const head = `bench:${sequence}:`;
  return head + "x".repeat(Math.max(0, SIZE - head.length));
}

async function waitDone(texts, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (texts.every((t) => sent.get(t).doneAt !== undefined)) return true;
    await sleep(texts.length > 1 ? 20 : 1);
  }
  return false;
}

const setupStart = performance.now();
const nodes = [];
for (let i = 0; i < N; i++) nodes.push(await startNode());
// The same overlay as p2pnet's bench: each node links to DEGREE random others (one dial per
// pair, a few at a time, so two nodes never dial each other at once).
const pairs = new Set();
nodes.forEach((_, i) => {
  const others = nodes.map((_, j) => j).filter((j) => j !== i).sort(() => Math.random() - 0.5).slice(
    0,
    DEGREE,
  );
  for (const j of others) if (!pairs.has(`${j} ${i}`)) pairs.add(`${i} ${j}`);
});
const dials = [...pairs].map((pair) => pair.split(" ").map(Number));
await Promise.all(Array.from({ length: 8 }, async () => {
  for (let next = dials.pop(); next !== undefined; next = dials.pop()) {
    const [i, j] = next;
    try {
      await nodes[i].dial(nodes[j].getMultiaddrs()[0]);
    } catch (error) {
      progress(`dial failed: ${error.message}`);
    }
  }
}));
// Ready once every node has mesh peers on the topic.
const meshDeadline = performance.now() + 60_000;
while (performance.now() < meshDeadline) {
  if (nodes.every((n) => n.services.pubsub.getMeshPeers(TOPIC).length > 0)) break;
  await sleep(50);
}
const lonely = nodes.filter((n) => n.services.pubsub.getMeshPeers(TOPIC).length === 0);
if (lonely.length > 0) {
  progress(
    `${lonely.length} nodes without mesh peers, e.g. ${lonely[0].getConnections().length} connections, ` +
      `${lonely[0].services.pubsub.getSubscribers(TOPIC).length} subscribers`,
  );
}
const setupSeconds = (performance.now() - setupStart) / 1000;
let sequence = 0;
const random = () => nodes[Math.floor(Math.random() * N)];
async function publish(text) {
  track(text);
  const node = random();
  try {
    await node.services.pubsub.publish(TOPIC, new TextEncoder().encode(text));
  } catch (error) {
    const pubsub = node.services.pubsub;
    progress(
      `publish failed: ${error.message}: ${node.getConnections().length} connections, ` +
        `${pubsub.getMeshPeers(TOPIC).length} mesh peers, ${pubsub.getSubscribers(TOPIC).length} subscribers`,
    );
    throw error;
  }
}
let warmed = 0;
for (let i = 0; i < WARMUP; i++) {
  const text = content(++sequence);
  await publish(text);
  if (await waitDone([text], 10_000)) warmed++;
}
const links = nodes.reduce((sum, n) => sum + n.getConnections().length, 0) / 2;
console.log(
  JSON.stringify({
    scenario: "setup",
    system: "gossipsub",
    peers: N,
    seconds: round(setupSeconds, 3),
    links,
    warmupDelivered: warmed,
  }),
);
progress(`N=${N}: setup ${round(setupSeconds)} s, ${links} links`);

const latencies = [];
for (let i = 0; i < ONE_BY_ONE; i++) {
  const text = content(++sequence);
  await publish(text);
  if (await waitDone([text], 10_000)) {
    const entry = sent.get(text);
    latencies.push(entry.doneAt - entry.at);
  }
}
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  scenario: "latency",
  system: "gossipsub",
  peers: N,
  messages: ONE_BY_ONE,
  p50Ms: round(percentile(latencies, 0.5), 3),
  p99Ms: round(percentile(latencies, 0.99), 3),
  maxMs: round(latencies.at(-1) ?? NaN, 3),
  fullyDelivered: latencies.length,
}));
progress(
  `N=${N}: latency p50 ${round(percentile(latencies, 0.5))} ms, p99 ${round(percentile(latencies, 0.99))} ms`,
);

const burst = [];
const burstStart = performance.now();
const publishing = [];
for (let i = 0; i < BURST; i++) {
  const text = content(++sequence);
  burst.push(text);
  publishing.push(publish(text).catch((error) => progress(`publish failed: ${error.message}`)));
}
await Promise.all(publishing);
const allDelivered = await waitDone(burst, 60_000 + BURST * N);
const burstSeconds = (performance.now() - burstStart) / 1000;
const deliveries = burst.reduce((sum, t) => sum + sent.get(t).got, 0);
// When each message of the burst had reached every node, for those that did.
const completions = burst.map((t) => sent.get(t).doneAt).filter((at) => at !== undefined)
  .map((at) => at - burstStart).sort((a, b) => a - b);
console.log(JSON.stringify({
  scenario: "throughput",
  system: "gossipsub",
  peers: N,
  messages: BURST,
  size: SIZE,
  seconds: round(burstSeconds, 3),
  messagesPerSecond: round(BURST / burstSeconds, 1),
  allDelivered,
  fullyDelivered: completions.length,
  completionSeconds: { p50: round(percentile(completions, 0.5) / 1000, 3), p99: round(percentile(completions, 0.99) / 1000, 3) },
  deliveryRatio: round(deliveries / (BURST * (N - 1)), 6),
}));
progress(`N=${N}: throughput ${round(BURST / burstSeconds, 0)} messages/s`);
await Promise.all(nodes.map((n) => n.stop()));
process.exit(0);
