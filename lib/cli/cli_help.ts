/** Help texts of the `p2pnet` command. `{version}` is replaced when printed. */

import { DEFAULT_SETTINGS as D } from "../settings/config.ts";
import { formatDuration as dur } from "../util/duration.ts";

/** The hint that ends every usage error. */
export const USAGE_HINT = (command: string | undefined): string =>
  command === "seed" || command === "peer" || command === "clean" || command === "demo"
    ? `see 'p2pnet ${command} --help'`
    : "see 'p2pnet --help'";

const NODE_FLAGS = `  --config FILE             settings file (default: ./config.json if present)
  --host H                  host to listen on and announce (default: ${D.host})
  --port P                  port to listen on
  --log-dir DIR             log directory, holding seeds/ and peers/ (default: ${D.logDir})
  --log-level L             lowest console level: trace, debug, info, warning, error, fatal (default: ${D.logLevel})
  --log-format F            log format, files and console: text or json (default: ${D.logFormat})`;

export const HELP = {
  main: `p2pnet {version}: a gossip network of seeds and peers

Usage:
  p2pnet seed  [options]   run the seeds of config.json that are on this machine (or one, with --port)
  p2pnet peer  [options]   join the network through a majority of the seeds and gossip
  p2pnet demo  [options]   run seeds and peers in one process and show the network working
  p2pnet clean [options]   remove the seeds/ and peers/ log folders
  p2pnet --help | p2pnet <command> --help | p2pnet --version

Durations are written 250ms, 13s, 2m. Exit codes: 0 done, 1 failed at run time, 2 bad usage or config.`,

  seed:
    `Usage: p2pnet seed [--config FILE] [--host H] [--port P] [--log-dir DIR] [--log-level L] [--log-format F]

Runs seed nodes. Without --port, starts every seed listed in the config whose host is this
machine (or is --host), each with its own log file; with --port, starts one seed at --host:--port.
Stops cleanly on Ctrl+C or SIGTERM.

Options:
${NODE_FLAGS}
  -h, --help                this help`,

  peer:
    `Usage: p2pnet peer [--config FILE] [--host H] [--port P] [--log-dir DIR] [--log-level L] [--log-format F]
                   [--no-console] [--degree N] [--liveliness-interval DUR] [--liveliness-misses N]
                   [--gossip-interval DUR] [--gossip-count N] [--gossip-mode tree|flood]

Runs a peer: registers with a majority of the config's seeds, connects to neighbours, probes
them, gossips messages. Console: type 1 for connections, 2 for messages, anything else to leave.
Leaves cleanly (telling the seeds) on console input, Ctrl+C or SIGTERM.

Options:
${
      NODE_FLAGS.replace(
        `--port P                  port to listen on`,
        `--port P                  port to listen on (default: a free port)`,
      )
    }
  --no-console              do not read commands from stdin; run until a signal
  --degree N                outbound neighbours to keep (default: ${D.degree})
  --liveliness-interval DUR time between probes to each quiet neighbour (default: ${
      dur(D.livelinessInterval)
    })
  --liveliness-misses N     unanswered probes in a row that make a neighbour dead (default: ${D.livelinessMisses})
  --gossip-interval DUR     time between messages this peer creates (default: ${dur(D.gossipInterval)})
  --gossip-count N          messages this peer creates, 0 for none (default: ${D.gossipCount})
  --gossip-mode M           tree: push along a self-repairing tree, announce ids elsewhere;
                            flood: push every message to every neighbour (default: ${D.gossipMode})
  -h, --help                this help`,

  demo: `Usage: p2pnet demo [--seeds N] [--peers N] [--duration DUR] [--rate N] [--churn] [--log-dir DIR]
                   [--log-level L] [--log-format F] [--config FILE]

Runs a whole network in this process on 127.0.0.1 with fast timers (probes every 1s, 3 misses),
publishes messages from random peers, shows live progress, then stops every node and prints a
summary: delivery ratio, full-delivery latency p50/p99, dead peers detected and how fast, false
removals. Exits 0 when every message reached every peer and no live peer was removed.

Options:
  --seeds N                 seeds to run (default: 3)
  --peers N                 peers to run (default: 20)
  --duration DUR            how long to run, start-up included (default: 30s); then in-flight messages get up to 5s
  --rate N                  messages published per second, each from a random peer (default: 10)
  --churn                   every 3s crash a random peer without goodbye and start a new one
  --log-dir DIR             log directory for the nodes' files (default: the config's logDir, else ${D.logDir})
  --log-level L             also show node logs at this level on the console (default: none)
  --log-format F            log format, files and console: text or json (default: ${D.logFormat})
  --config FILE             settings file to read logDir and log settings from (default: ./config.json if present)
  -h, --help                this help`,

  clean: `Usage: p2pnet clean [--log-dir DIR] [--config FILE]

Removes the seeds/ and peers/ folders of the log directory and prints what it removed.
Nothing outside those folders is touched.

Options:
  --log-dir DIR             log directory (default: the config's logDir, else ${D.logDir})
  --config FILE             settings file to read logDir from (default: ./config.json if present)
  -h, --help                this help`,
} as const;
