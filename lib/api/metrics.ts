/**
 * A node's metrics as Prometheus families, gathered from the counters its parts keep
 * (the endpoint's frames and bytes, the tree's deliveries and upkeep, the failure
 * detector's probes, the seed's registrations and reports). Built per scrape, per node.
 */

import type { PeerStats } from "../peer/peer_view.ts";
import type { SeedStats } from "../seed/seed_node.ts";
import type { WireStatsSnapshot } from "../net/wire_stats.ts";
import type { HistogramSnapshot } from "../util/histogram.ts";
import type { Family, Sample } from "./prometheus.ts";

function counter(name: string, help: string, samples: Sample[] | number): Family {
  return {
    name,
    help,
    type: "counter",
    samples: typeof samples === "number" ? [{ value: samples }] : samples,
  };
}

function gauge(name: string, help: string, value: number): Family {
  return { name, help, type: "gauge", samples: [{ value }] };
}

/** One sample per key of `counts`, labelled `label`. */
function labelled(label: string, counts: Readonly<Record<string, number>>): Sample[] {
  return Object.entries(counts).map(([key, value]) => ({ labels: { [label]: key }, value }));
}

/** A histogram kept in milliseconds, exposed in seconds as Prometheus prefers. */
function inSeconds(ms: HistogramSnapshot): HistogramSnapshot {
  return { ...ms, bounds: ms.bounds.map((b) => b / 1000), sum: ms.sum / 1000 };
}

function common(stats: { uptimeMs: number; wire: WireStatsSnapshot }): Family[] {
  const { wire } = stats;
  return [
    gauge("p2pnet_uptime_seconds", "Seconds since the node started listening.", stats.uptimeMs / 1000),
    counter(
      "p2pnet_frames_sent_total",
      "Frames queued to send, by message type.",
      labelled("type", wire.sent.frames),
    ),
    counter(
      "p2pnet_bytes_sent_total",
      "Bytes of frames queued to send, by message type.",
      labelled("type", wire.sent.bytes),
    ),
    counter(
      "p2pnet_frames_received_total",
      "Frames received, by message type.",
      labelled("type", wire.received.frames),
    ),
    counter(
      "p2pnet_bytes_received_total",
      "Bytes of frames received, by message type.",
      labelled("type", wire.received.bytes),
    ),
    counter(
      "p2pnet_connections_refused_total",
      "Connections refused or closed for cause, by reason.",
      labelled("reason", wire.refused),
    ),
  ];
}

/** A peer's families. */
export function peerFamilies(stats: PeerStats): Family[] {
  const { tree, detector } = stats;
  const { self, ...received } = tree.delivered;
  return [
    ...common(stats),
    gauge("p2pnet_neighbours", "Neighbours linked now.", stats.neighbours),
    gauge("p2pnet_peers_known", "Peers known from the seeds: candidates for neighbours.", stats.candidates),
    gauge("p2pnet_messages_stored", "Messages stored.", stats.storedMessages),
    gauge("p2pnet_seeds_registered", "Seeds this peer is registered with.", stats.registeredSeeds),
    counter("p2pnet_messages_created_total", "Messages published by this peer.", self),
    counter(
      "p2pnet_messages_delivered_total",
      "Messages from other peers seen for the first time, by how the first copy came.",
      labelled("via", received),
    ),
    counter("p2pnet_messages_repeated_total", "Copies of messages this peer already had.", tree.repeats),
    counter("p2pnet_announcements_total", "ihave frames sent.", tree.announcements),
    counter("p2pnet_fetches_total", "get_data frames sent for announced messages.", tree.fetches),
    counter("p2pnet_grafts_total", "graft frames sent.", tree.grafts),
    counter("p2pnet_prunes_total", "prune frames sent.", tree.prunes),
    counter("p2pnet_probes_total", "Liveliness probes sent, on links and on fresh connections.", [
      { labels: { kind: "link" }, value: detector.probes },
      { labels: { kind: "direct" }, value: detector.directProbes },
    ]),
    counter(
      "p2pnet_probe_misses_total",
      "Link probes left unanswered in rounds that counted.",
      detector.misses,
    ),
    counter("p2pnet_deaths_reported_total", "Neighbours reported dead to the seeds.", stats.deathsReported),
    {
      name: "p2pnet_probe_rtt_seconds",
      help: "Round trips of answered link probes.",
      type: "histogram",
      samples: [{ histogram: inSeconds(detector.rttMs) }],
    },
    {
      name: "p2pnet_delivery_hops",
      help: "Links between a message's origin and this peer, by the path of its first copy.",
      type: "histogram",
      samples: [{ histogram: tree.hops }],
    },
  ];
}

/** A seed's families. */
export function seedFamilies(stats: SeedStats): Family[] {
  return [
    ...common(stats),
    gauge("p2pnet_peers", "Peers registered now.", stats.peers),
    counter("p2pnet_peers_registered_total", "Registrations of new peers.", stats.registered),
    counter("p2pnet_peers_removed_total", "Peers removed, by reason.", labelled("reason", stats.removed)),
    counter("p2pnet_death_reports_total", "Death reports received.", stats.reports.received),
    counter(
      "p2pnet_deaths_confirmed_total",
      "Reported peers this seed confirmed dead with its own probes.",
      stats.reports.confirmed,
    ),
    counter("p2pnet_death_reports_rejected_total", "Death reports not acted on.", stats.reports.rejected),
  ];
}
