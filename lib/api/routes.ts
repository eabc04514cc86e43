/**
 * The control API's routes: each request to a JSON answer or a 4xx JSON error, read
 * through an {@link ApiSource}. The server (api_server.ts) adds authentication, the
 * event stream and the page's files around it.
 */

import { utf8Length } from "../util/utf8.ts";
import { ApiError, type ApiSource } from "./source.ts";
import { exposition, PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** Most messages one `GET /messages` returns, and how many without `limit`. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

const MESSAGE_ID = /^[0-9a-f]{32}$/;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function jsonError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error: message }, headers);
}

/** The routes and the methods each takes. */
const ROUTES: Record<string, readonly string[]> = {
  "/status": ["GET"],
  "/members": ["GET"],
  "/neighbours": ["GET"],
  "/messages": ["GET", "POST"],
  "/metrics": ["GET"],
  "/network": ["GET"],
  "/trace": ["GET"],
};

/** Whether `path` is a route of the JSON API (as opposed to the page's files). */
export function isRoute(path: string): boolean {
  return Object.hasOwn(ROUTES, path);
}

/** Answers one API request; `readBody` reads the body within the source's bound or throws an {@link ApiError}. */
export async function route(
  source: ApiSource,
  request: Request,
  url: URL,
  readBody: () => Promise<string>,
): Promise<Response> {
  const methods = ROUTES[url.pathname]!;
  if (!methods.includes(request.method)) {
    return jsonError(
      405,
      `method ${request.method} not allowed on ${url.pathname}; use ${methods.join(" or ")}`,
      {
        allow: methods.join(", "),
      },
    );
  }
  switch (url.pathname) {
    case "/status":
      return json(200, source.status());
    case "/members":
      return json(200, { role: source.role, members: source.members() });
    case "/neighbours":
      if (!source.neighbours) return notHere(source, url);
      return json(200, { neighbours: source.neighbours() });
    case "/messages":
      return request.method === "POST" ? await publish(source, url, readBody) : messages(source, url);
    case "/metrics":
      return new Response(exposition(source.metrics()), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
      });
    case "/network":
      if (!source.graph) return notHere(source, url);
      return json(200, source.graph());
    case "/trace": {
      if (!source.trace) return notHere(source, url);
      const id = url.searchParams.get("id") ?? "";
      if (!MESSAGE_ID.test(id)) {
        throw new ApiError(400, `id: must be 32 hex digits, got ${JSON.stringify(id)}`);
      }
      const trace = source.trace(id);
      if (trace === undefined) throw new ApiError(404, `unknown message id: ${id}`);
      return json(200, trace);
    }
  }
  return jsonError(404, `no route ${url.pathname}`);
}

function notHere(source: ApiSource, url: URL): Response {
  return jsonError(404, `${url.pathname} is not served by a ${source.role}`);
}

function messages(source: ApiSource, url: URL): Response {
  if (!source.messages) return notHere(source, url);
  const since = url.searchParams.get("since") ?? undefined;
  if (since !== undefined && !MESSAGE_ID.test(since)) {
    throw new ApiError(400, `since: must be a message id of 32 hex digits, got ${JSON.stringify(since)}`);
  }
  const limitText = url.searchParams.get("limit");
  const limit = limitText === null ? DEFAULT_PAGE : /^\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ApiError(400, `limit: must be an integer 1-${MAX_PAGE}, got ${JSON.stringify(limitText)}`);
  }
  return json(200, source.messages(since, limit));
}

async function publish(source: ApiSource, url: URL, readBody: () => Promise<string>): Promise<Response> {
  if (!source.publish) return notHere(source, url);
  const text = await readBody();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, `body: must be JSON such as {"content": "hello"}: ${(error as Error).message}`);
  }
  const content = (body as { content?: unknown } | null)?.content;
  if (typeof content !== "string") {
    throw new ApiError(
      400,
      `content: must be a string, got ${typeof content === "undefined" ? "nothing" : typeof content}`,
    );
  }
  const bytes = utf8Length(content);
  if (bytes > source.maxContent) {
    throw new ApiError(
      413,
      `content: must be at most ${source.maxContent} bytes of UTF-8 (maxContentBytes), got ${bytes}`,
    );
  }
  return json(201, source.publish(content));
}
