/**
 * The control API of a node: HTTP on `api` (`--api HOST:PORT`) with `Deno.serve`.
 * JSON routes (routes.ts), Prometheus metrics, server-sent events and the live page,
 * behind a bearer token on a network with a key. Every bad request is a 4xx JSON
 * answer; request bodies are bounded; nothing a client sends stops the server.
 */

import type { Logger } from "@logtape/logtape";
import { type Address, formatAddress, makeAddress, parseAddress } from "../wire/address.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { apiToken, authorized } from "./auth.ts";
import { EventStreams } from "./event_stream.ts";
import { isRoute, jsonError, route } from "./routes.ts";
import { ApiError, type ApiSource } from "./source.ts";

export interface ApiServerOptions {
  source: ApiSource;
  /** Host to bind; `127.0.0.1` keeps the API to this machine. */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Bearer token every request must carry (see auth.ts); "" for none. @default "" */
  token?: string;
  /** Timers of the event stream's keep-alive. @default systemClock */
  clock?: Clock;
  /** Where failures are logged. @default not logged */
  log?: Logger;
}

/** The page's files, served from lib/api/static/ with these content types. */
const STATIC: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};

export class ApiServer {
  readonly #options: ApiServerOptions;
  readonly #events: EventStreams;
  readonly #abort = new AbortController();
  readonly #files = new Map<string, string>();
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #unsubscribe: (() => void) | undefined;
  #address: Address | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: ApiServerOptions) {
    this.#options = options;
    this.#events = new EventStreams(options.clock ?? systemClock);
  }

  /** The bound address; throws before {@link start}. */
  get address(): Address {
    if (this.#address === undefined) throw new Error("ApiServer.address: the server has not started");
    return this.#address;
  }

  /** `http://host:port` of the server. */
  get url(): string {
    return `http://${formatAddress(this.address)}`;
  }

  /** Binds and serves. Throws (like Deno.serve) when the address is taken or not on this machine. */
  async start(): Promise<Address> {
    if (this.#server) throw new Error("ApiServer.start: already started");
    for (const [file] of Object.values(STATIC)) {
      try {
        this.#files.set(file, await Deno.readTextFile(new URL(`./static/${file}`, import.meta.url)));
      } catch {
        // Without its files (a build that left them out) the API still answers; the page is 404.
      }
    }
    this.#server = Deno.serve({
      hostname: this.#options.host,
      port: this.#options.port,
      signal: this.#abort.signal,
      onListen: () => {},
      onError: (error) => this.#failed(error),
    }, (request) => this.#handle(request));
    this.#unsubscribe = this.#options.source.subscribe((event) => this.#events.broadcast(event));
    const { hostname, port } = this.#server.addr;
    this.#address = makeAddress(hostname, port);
    return this.#address;
  }

  /** Ends the event streams, stops listening and waits for requests under way. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#unsubscribe?.();
      this.#events.close();
      this.#abort.abort();
      await this.#server?.finished;
    })();
    return this.#stopping;
  }

  async #handle(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      const page = STATIC[url.pathname];
      if (page !== undefined && request.method === "GET") {
        const text = this.#files.get(page[0]);
        if (text === undefined) {
          return jsonError(404, `the page's file ${page[0]} is missing from this build`);
        }
        return new Response(text, { headers: { "content-type": page[1], "cache-control": "no-store" } });
      }
      if (url.pathname !== "/events" && !isRoute(url.pathname)) {
        return jsonError(404, `no route ${url.pathname}; see docs/operations.md#control-api`);
      }
      const token = this.#options.token ?? "";
      if (!authorized(token, request.headers.get("authorization"), url.searchParams.get("token"))) {
        return jsonError(
          401,
          "missing or wrong token: send Authorization: Bearer <token> (derived from the network key)",
          {
            "www-authenticate": 'Bearer realm="p2pnet"',
          },
        );
      }
      if (url.pathname === "/events") {
        if (request.method !== "GET") {
          return jsonError(405, `method ${request.method} not allowed on /events; use GET`, { allow: "GET" });
        }
        return this.#events.open() ?? jsonError(503, "too many event clients; try again later");
      }
      const source = this.#options.source;
      return await route(source, request, url, () => readBounded(request, source.maxBodyBytes));
    } catch (error) {
      if (error instanceof ApiError) return jsonError(error.status, error.message);
      return this.#failed(error);
    }
  }

  #failed(error: unknown): Response {
    this.#options.log?.error("control API request failed: {error}", { event: "api.request_failed", error });
    return jsonError(500, "internal error; see the node's log");
  }
}

/** The request body as UTF-8 text, refused with 413 past `maxBytes` (by its length header or as it streams). */
async function readBounded(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  const tooLarge = () => new ApiError(413, `body: must be at most ${maxBytes} bytes`);
  if (declared > maxBytes) throw tooLarge();
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "body: must be UTF-8 text");
  }
}

/**
 * Starts the API of `source` at `api` (`host:port`, port 0 for a free one), with the
 * token of `networkKey`. Throws like Deno.serve when the address cannot be bound.
 */
export async function serveApi(
  source: ApiSource,
  { api, networkKey }: { api: string; networkKey: string },
  log?: Logger,
): Promise<ApiServer> {
  const { host, port } = parseAddress(api, { allowPortZero: true });
  const server = new ApiServer({ source, host, port, token: apiToken(networkKey), ...(log ? { log } : {}) });
  await server.start();
  return server;
}
