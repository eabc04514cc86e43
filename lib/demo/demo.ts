/**
 * `p2pnet demo`: a whole network in this process with fast timers, publishing
 * messages from random peers (and, with churn, crashing and replacing peers), then
 * a summary of delivery, latency and failure detection.
 */

import type { Settings } from "../settings/config.ts";
import { Cluster, type ClusterSummary } from "./cluster.ts";

export interface DemoOptions {
  /** Seeds to run. @default 3 */
  seeds: number;
  /** Peers to run. @default 20 */
  peers: number;
  /** Milliseconds to run before stopping. @default 30000 */
  durationMs: number;
  /** Crash a random peer and start a new one every few seconds. @default false */
  churn: boolean;
  /** Messages published per second, each from a random peer. @default 10 */
  rate: number;
  /** Node settings; the demo's fast timers are the defaults under them. */
  settings: Partial<Settings>;
  /** Called once the seeds listen, before the peers start (the live page starts here). */
  onCluster?: (cluster: Cluster) => Promise<void>;
}

/** Timers that show failure detection within seconds on one machine. */
export const DEMO_SETTINGS: Partial<Settings> = {
  livelinessInterval: 1000,
  livelinessMisses: 3,
  probeTimeout: 500,
  overlayInterval: 1000,
  gossipCount: 0,
};

/** Milliseconds between churn events (one crash, one new peer). */
const CHURN_EVERY_MS = 3000;
/** Most milliseconds to wait at the end for messages still in flight. */
const SETTLE_MS = 5000;

export interface DemoProgress {
  elapsedMs: number;
  /** The run's length, `durationMs`. */
  totalMs: number;
  peers: number;
  links: number;
  published: number;
  delivered: number;
  killed: number;
  detected: number;
}

export interface DemoResult extends ClusterSummary {
  durationMs: number;
  /** True when the run was cut short (Ctrl+C). */
  interrupted: boolean;
}

/**
 * Runs the demo until `durationMs` passes or `signal` aborts, reporting progress
 * through `onProgress` about four times a second, and stops every node before it returns.
 */
export async function runDemo(
  options: DemoOptions,
  onProgress: (progress: DemoProgress) => void,
  signal?: AbortSignal,
): Promise<DemoResult> {
  const cluster = new Cluster({ seeds: options.seeds, settings: { ...DEMO_SETTINGS, ...options.settings } });
  const started = performance.now();
  const progress = (): DemoProgress => ({
    elapsedMs: performance.now() - started,
    totalMs: options.durationMs,
    peers: cluster.live.length,
    links: cluster.links,
    published: cluster.published,
    delivered: cluster.deliveries,
    killed: cluster.killed,
    detected: cluster.detected,
  });
  const timers: ReturnType<typeof setInterval>[] = [];
  const churning = new Set<Promise<unknown>>();
  const churn = (task: Promise<unknown>) => {
    const tracked = task.catch(() => {}).finally(() => churning.delete(tracked));
    churning.add(tracked);
  };
  try {
    await cluster.startSeeds();
    await options.onCluster?.(cluster);
    for (let i = 0; i < options.peers && !signal?.aborted; i++) {
      await cluster.addPeer();
      onProgress(progress());
    }
    let sequence = 0;
    timers.push(setInterval(() => {
      const peer = cluster.randomPeer();
      if (peer) cluster.publish(peer, `${Date.now()}:${peer.label}:${++sequence}`);
    }, Math.max(1, Math.round(1000 / options.rate))));
    timers.push(setInterval(() => onProgress(progress()), 250));
    if (options.churn) {
      timers.push(setInterval(() => {
        const victim = cluster.randomPeer();
        if (victim && cluster.live.length > 2) churn(cluster.kill(victim));
        churn(cluster.addPeer());
      }, CHURN_EVERY_MS));
    }
    await sleepUnless(Math.max(0, options.durationMs - (performance.now() - started)), signal);
    timers.splice(0).forEach(clearInterval);
    // Let messages in flight land before judging delivery.
    const settleUntil = performance.now() + SETTLE_MS;
    while (!cluster.allDelivered() && performance.now() < settleUntil && !signal?.aborted) {
      await sleepUnless(20);
    }
    onProgress(progress());
    return {
      ...cluster.summary(),
      durationMs: Math.round(performance.now() - started),
      interrupted: signal?.aborted ?? false,
    };
  } finally {
    timers.forEach(clearInterval);
    await Promise.all(churning);
    await cluster.stop();
  }
}

function sleepUnless(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/**
 * One progress line, at most `width - 1` characters so that a terminal never wraps it
 * (a wrapped line cannot be redrawn in place): the full wording when it fits, a compact
 * one otherwise, cut at the width as a last resort.
 */
export function formatProgress(p: DemoProgress, width = Infinity): string {
  const time = `${(p.elapsedMs / 1000).toFixed(1)}/${(p.totalMs / 1000).toFixed(0)}s`;
  const full = `${time}  peers ${p.peers}  links ${p.links}  ` +
    `messages ${p.published} published, ${p.delivered} delivered  ` +
    `dead ${p.killed} killed, ${p.detected} removed by all seeds`;
  if (full.length < width) return full;
  const compact = `${time} peers ${p.peers} links ${p.links} msgs ${p.published}/${p.delivered} ` +
    `dead ${p.killed}/${p.detected}`;
  return compact.length < width ? compact : compact.slice(0, Math.max(0, width - 1));
}

/** The closing summary, a few lines for people. */
export function formatSummary(r: DemoResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const lines = [
    `summary${r.interrupted ? " (interrupted)" : ""} after ${
      (r.durationMs / 1000).toFixed(1)
    }s, ${r.peers} peers running:`,
    `  delivery ratio        ${
      pct(r.deliveryRatio)
    } (${r.delivered} of ${r.expected} expected deliveries, ${r.messages} messages)`,
    `  duplicates delivered  ${r.duplicates}`,
    `  full-delivery latency ${
      r.latencyMs
        ? `p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`
        : "n/a"
    }`,
    `  dead peers detected   ${r.detected} of ${r.killed} killed${
      r.detectionMs
        ? ` (kill to last seed removal: p50 ${r.detectionMs.p50} ms, max ${r.detectionMs.max} ms)`
        : ""
    }`,
    `  false removals        ${r.falseRemovals}`,
  ];
  return lines.join("\n");
}
