/**
 * The client commands of a node's control API, like `serf members`: `p2pnet status`,
 * `members`, `neighbours`, `messages` and `publish`, each with `--api HOST:PORT` (or
 * the config's `api`). Tables for a person, `--json` for tools; the bearer token comes
 * from the network key (P2PNET_KEY or the config), never from the command line.
 */

import { apiToken } from "../api/auth.ts";
import type { ApiMessage, MessagePage } from "../api/source.ts";
import { formatDuration } from "../util/duration.ts";
import { loadSettings, type Options, parseWithPositionals, UsageError, type Values } from "./args.ts";
import { table } from "./peer_console.ts";

/** Milliseconds a client command waits for the API's answer. */
const ANSWER_TIMEOUT_MS = 5000;

export const CLIENT_COMMANDS = ["status", "members", "neighbours", "messages", "publish"] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

const COMMON: Options = {
  api: { type: "string" },
  json: { type: "boolean" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
};

export const CLIENT_OPTIONS: Record<ClientCommand, Options> = {
  status: COMMON,
  members: COMMON,
  neighbours: COMMON,
  messages: { ...COMMON, since: { type: "string" }, limit: { type: "string" } },
  publish: COMMON,
};

/** A node's control API, as a client command reaches it. */
export class ApiClient {
  constructor(readonly api: string, readonly token: string) {}

  /** The JSON answer of `method path`; throws a one-line Error for an unreachable API or a 4xx/5xx answer. */
  async call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token !== "") headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`http://${this.api}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`cannot reach the control API at ${this.api}: ${reachFailure(error)}`);
    }
    const text = await response.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`the control API at ${this.api} answered ${response.status} with no JSON`);
    }
    if (!response.ok) {
      const why = (answer as { error?: unknown })?.error ?? text.trim();
      const hint = response.status === 401 ? "; set P2PNET_KEY (or networkKey) to the network's key" : "";
      throw new Error(`the control API at ${this.api} answered ${response.status}: ${why}${hint}`);
    }
    return answer;
  }
}

function reachFailure(error: unknown): string {
  const cause = (error as Error)?.cause as Error | undefined;
  const text = `${(error as Error)?.message ?? error} ${cause?.message ?? ""} ${cause?.name ?? ""}`;
  if ((error as Error)?.name === "TimeoutError") {
    return `no answer within ${formatDuration(ANSWER_TIMEOUT_MS)}`;
  }
  if (/refused/i.test(text)) return "connection refused (is the node running with --api?)";
  return (cause?.message ?? (error as Error)?.message ?? String(error)).split("\n")[0]!;
}

/**
 * Runs a client command and returns its exit code; prints its answer on stdout.
 * `printHelp` prints the command's help.
 */
export async function runClient(
  command: ClientCommand,
  args: string[],
  printHelp: () => number,
): Promise<number> {
  const { values, positionals } = parseWithPositionals(
    command,
    args,
    CLIENT_OPTIONS[command],
    command === "publish",
  );
  if (values.help) return printHelp();
  const settings = await loadSettings(values);
  if (settings.api === "") {
    throw new UsageError(
      `${command}: give the node's control API address with --api HOST:PORT (or api in the config)`,
    );
  }
  const client = new ApiClient(settings.api, apiToken(settings.networkKey));
  const answer = await ask(client, command, values, positionals);
  console.log(values.json ? JSON.stringify(answer, null, 2) : describe(command, answer));
  return 0;
}

function ask(
  client: ApiClient,
  command: ClientCommand,
  values: Values,
  positionals: string[],
): Promise<unknown> {
  switch (command) {
    case "status":
      return client.call("GET", "/status");
    case "members":
      return client.call("GET", "/members");
    case "neighbours":
      return client.call("GET", "/neighbours");
    case "messages": {
      const query = new URLSearchParams();
      for (const key of ["since", "limit"]) if (typeof values[key] === "string") query.set(key, values[key]);
      const text = query.toString();
      return client.call("GET", `/messages${text === "" ? "" : `?${text}`}`);
    }
    case "publish":
      if (positionals.length !== 1) {
        throw new UsageError(`publish: give the message as one argument, got ${positionals.length}`);
      }
      return client.call("POST", "/messages", { content: positionals[0] });
  }
}

type Row = Record<string, unknown>;

const cell = (value: unknown): string => value === null || value === undefined ? "-" : String(value);

/** The answer as a person reads it. */
export function describe(command: ClientCommand, answer: unknown): string {
  switch (command) {
    case "status": {
      const entries = Object.entries(answer as Row);
      const width = Math.max(...entries.map(([key]) => key.length));
      return entries.map(([key, value]) =>
        `${key.padEnd(width)}  ${
          typeof value === "object" && value !== null ? JSON.stringify(value) : cell(value)
        }`
      ).join("\n");
    }
    case "members": {
      const { role, members } = answer as { role: string; members: Row[] };
      const what = role === "seed" ? "registered peer" : "known peer";
      if (members.length === 0) return `0 ${what}s`;
      const seed = role === "seed";
      return `${plural(members.length, what)}:\n` +
        table(
          seed ? ["ADDRESS", "REGISTERED"] : ["ADDRESS"],
          members.map((m) => seed ? [cell(m.addr), cell(m.registeredAt)] : [cell(m.addr)]),
        );
    }
    case "neighbours": {
      const { neighbours } = answer as { neighbours: Row[] };
      if (neighbours.length === 0) return "0 neighbours";
      return `${plural(neighbours.length, "neighbour")}:\n` + table(
        ["ADDRESS", "DIRECTION", "CONNECTED", "RTT", "MISSED", "GOSSIP"],
        neighbours.map((n) => [
          cell(n.addr),
          cell(n.direction),
          formatDuration(Math.round(Number(n.connectedMs) / 1000) * 1000),
          n.rttMs === null ? "-" : `${Math.round(Number(n.rttMs))}ms`,
          cell(n.misses),
          cell(n.gossip),
        ]),
      );
    }
    case "messages": {
      const { messages, next } = answer as MessagePage;
      if (messages.length === 0) return "0 messages";
      return `${plural(messages.length, "message")}:\n` + table(
        ["ID", "ORIGIN", "FIRST SEEN", "FROM", "HOPS", "VIA", "CONTENT"],
        messages.map((m) => [
          m.id.slice(0, 12),
          m.origin,
          new Date(m.seenAt).toISOString().slice(11, 23),
          m.from ?? "(published here)",
          String(m.hops),
          m.via,
          m.content.length > 60 ? m.content.slice(0, 60) + "…" : m.content,
        ]),
      ) + `\nnext page: --since ${next}`;
    }
    case "publish": {
      const m = answer as ApiMessage;
      return `published ${m.id} from ${m.origin}`;
    }
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
