/**
 * Help texts of the `p2pnet` command. `{version}` is replaced when printed. The lines
 * of setting flags come from the settings table; the prose and the flags that are not
 * settings are written here.
 */

import { flagHelp, flagUsage, optionLine, usageLine } from "../settings/flags.ts";
import { DEMO_SETTINGS } from "../demo/demo.ts";
import { formatDuration as dur } from "../util/duration.ts";

/** The hint that ends every usage error. */
export const USAGE_HINT = (command: string | undefined): string =>
  command !== undefined && command !== "main" && Object.hasOwn(HELP, command)
    ? `see 'p2pnet ${command} --help'`
    : "see 'p2pnet --help'";

const CONFIG = optionLine("--config FILE", "settings file (default: ./config.json if present)");
const HELP_LINE = optionLine("-h, --help", "this help");

/** What each client command asks the control API. */
const CLIENT_TEXT = {
  status: "Prints a running node's role, address, version, uptime, seeds and counts.",
  members: "Prints a seed's registered peers with their registration time, or a peer's known peers.",
  neighbours: "Prints a peer's neighbours: address, direction, connected for, RTT, misses, push or announce.",
  messages: "Prints the messages a peer stored, oldest first, a page at a time.",
  publish: "Publishes TEXT as a new message from the peer behind the control API.",
} as const;

function clientHelp(command: keyof typeof CLIENT_TEXT): string {
  const extra = command === "messages"
    ? ["[--since ID]", "[--limit N]"]
    : command === "publish"
    ? ["TEXT"]
    : [];
  return `${
    usageLine(`Usage: p2pnet ${command}`, ["--api HOST:PORT", ...extra, "[--json]", "[--config FILE]"])
  }

${CLIENT_TEXT[command]} With a network key (P2PNET_KEY or networkKey in the config)
the request carries the token derived from it.

Options:
${optionLine("--api HOST:PORT", "the node's control API (default: api of the config)")}
${
    command === "messages"
      ? `${optionLine("--since ID", "only the messages stored after this one (the last id of a page)")}
${optionLine("--limit N", "most messages to print, 1-1000 (default: 100)")}
`
      : ""
  }${optionLine("--json", "print the API's JSON answer instead of a table")}
${CONFIG}
${HELP_LINE}`;
}

export const HELP = {
  main: `p2pnet {version}: a gossip network of seeds and peers

Usage:
  p2pnet seed  [options]   run the seeds of config.json that are on this machine (or one, with --port)
  p2pnet peer  [options]   join the network through a majority of the seeds and gossip
  p2pnet demo  [options]   run seeds and peers in one process and show the network working
  p2pnet clean [options]   remove the seeds/ and peers/ log folders (--data: data directories)
  p2pnet trace ID          print the tree a message took, from the peers' JSON logs
  p2pnet status|members|neighbours|messages --api HOST:PORT [--json]
                           ask a running node's control API
  p2pnet publish --api HOST:PORT TEXT   publish a message through a peer's control API
  p2pnet --help | p2pnet <command> --help | p2pnet --version

Durations are written 250ms, 13s, 2m. Exit codes: 0 done, 1 failed at run time, 2 bad usage or config.
Every setting of config.json: docs/configuration.md.`,

  seed: `${usageLine("Usage: p2pnet seed", ["[--config FILE]", ...flagUsage("seed")])}

Runs seed nodes. Without --port, starts every seed listed in the config (or --seeds) whose host
is this machine (or is --advertise's host, else --host), each with its own log file; with --port,
starts one seed at --host:--port. With --data-dir DIR a seed keeps its key and registrations
in DIR (several seeds: DIR/seed-PORT/) and re-verifies them with probes when it starts again.
Stops cleanly on Ctrl+C or SIGTERM.

Options:
${CONFIG}
${
    flagHelp("seed", {
      "--port": "port of one seed to start (default: every seed of the config on this machine)",
    })
  }
${HELP_LINE}`,

  peer: `${usageLine("Usage: p2pnet peer", ["[--config FILE]", ...flagUsage("peer"), "[--no-console]"])}

Runs a peer: registers with a majority of the config's seeds (or --seeds), trying again while too
few answer (--retry-join), connects to neighbours, probes them, gossips messages. Console: type 1
for connections, 2 for messages, anything else to leave. Leaves cleanly (telling the seeds) on
console input, Ctrl+C or SIGTERM, also while still joining.

Options:
${CONFIG}
${flagHelp("peer")}
${optionLine("--no-console", "do not read commands from stdin; run until a signal")}
${HELP_LINE}`,

  demo: `${
    usageLine("Usage: p2pnet demo", [
      "[--seeds N]",
      "[--peers N]",
      "[--duration DUR]",
      "[--rate N]",
      "[--churn]",
      "[--web [HOST:PORT]]",
      ...flagUsage("demo"),
      "[--config FILE]",
    ])
  }

Runs a whole network in this process on 127.0.0.1 with fast timers (probes every ${
    dur(DEMO_SETTINGS.livelinessInterval as number)
  }, ${DEMO_SETTINGS.livelinessMisses} misses),
publishes messages from random peers, shows live progress, then stops every node and prints a
summary: delivery ratio, full-delivery latency p50/p99, dead peers detected and how fast, false
removals. Exits 0 when every message reached every peer and no live peer was removed.

Options:
${optionLine("--seeds N", "seeds to run (default: 3)")}
${optionLine("--peers N", "peers to run (default: 20)")}
${
    optionLine(
      "--duration DUR",
      "how long to run, start-up included, with a unit: 90s, 2m (default: 30s); then in-flight messages get up to 5s",
    )
  }
${optionLine("--rate N", "messages published per second, each from a random peer (default: 10)")}
${optionLine("--churn", "every 3s crash a random peer without goodbye and start a new one")}
${optionLine("--web [HOST:PORT]", "serve a live page of the network there (default: 127.0.0.1:8080)")}
${flagHelp("demo", { "--log-level": "also show node logs at this level on the console (default: none)" })}
${
    optionLine(
      "--config FILE",
      "settings file to read logDir and log settings from (default: ./config.json if present)",
    )
  }
${HELP_LINE}`,

  clean: `${usageLine("Usage: p2pnet clean", [...flagUsage("clean"), "[--config FILE]"])}
       p2pnet clean --data [DIR...] [--config FILE]

Removes the seeds/ and peers/ folders of the log directory and prints what it removed.
Nothing outside those folders is touched. With --data, removes data directories instead
(a node's key, messages and registrations): each must hold a p2pnet database, recognised
by its application id, or one per seed inside it; anything else is refused untouched.

Options:
${flagHelp("clean")}
${optionLine("--data [DIR...]", "remove these data directories (default: dataDir of the config)")}
${
    optionLine(
      "--config FILE",
      "settings file to read logDir and dataDir from (default: ./config.json if present)",
    )
  }
${HELP_LINE}`,

  trace: `${usageLine("Usage: p2pnet trace ID", ["[--log-dir DIR]", "[--json]", "[--config FILE]"])}

Prints the tree message ID took (an id or its first 6 or more hex digits): which peer got it
from which, at what hop and how long after it was published, and which peers running then
never got it. Reads the JSON logs of every peer under the log directory: run the nodes with
--log-format json.

Options:
${optionLine("--log-dir DIR", "log directory holding peers/ (default: logDir of the config)")}
${optionLine("--json", "print the tree as JSON")}
${CONFIG}
${HELP_LINE}`,
  status: clientHelp("status"),
  members: clientHelp("members"),
  neighbours: clientHelp("neighbours"),
  messages: clientHelp("messages"),
  publish: clientHelp("publish"),
} as const;
