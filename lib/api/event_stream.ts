/**
 * `GET /events`: server-sent events to a bounded number of clients. A client that
 * falls too far behind is dropped rather than buffered without end; a comment line
 * every while keeps idle connections open through proxies.
 */

import type { Clock, TimerHandle } from "../util/clock.ts";
import type { ApiEvent } from "./source.ts";

/** Most clients streaming at once; more get 503. */
export const MAX_EVENT_CLIENTS = 32;
/** Events queued for one client beyond which it is dropped. */
const MAX_BACKLOG = 1000;
/** Milliseconds between keep-alive comments. */
const KEEPALIVE_MS = 15_000;

const encoder = new TextEncoder();

/** One event in the wire format of server-sent events. */
export function formatEvent({ event, data }: ApiEvent): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class EventStreams {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** A streaming response for a new client, or undefined when there are too many or the server stops. */
  open(): Response | undefined {
    if (this.#closed || this.#clients.size >= MAX_EVENT_CLIENTS) return undefined;
    let controller: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        this.#clients.add(c);
        c.enqueue(encoder.encode(": p2pnet events\nretry: 2000\n\n"));
      },
      cancel: () => this.#drop(controller),
    }, { highWaterMark: MAX_BACKLOG, size: () => 1 });
    this.#arm();
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Sends `event` to every client; one with a full backlog is dropped. */
  broadcast(event: ApiEvent): void {
    if (this.#clients.size === 0) return;
    this.#send(encoder.encode(formatEvent(event)));
  }

  /** Ends every stream; later clients are refused. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    for (const c of [...this.#clients]) {
      this.#clients.delete(c);
      try {
        c.close();
      } catch {
        // Already errored or closed by the client.
      }
    }
  }

  #send(bytes: Uint8Array): void {
    for (const c of [...this.#clients]) {
      if ((c.desiredSize ?? 0) <= 0) {
        this.#drop(c);
        try {
          c.error(new Error("event client too slow"));
        } catch {
          // Already closed.
        }
        continue;
      }
      c.enqueue(bytes);
    }
  }

  #drop(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.#clients.delete(c);
  }

  /** Keeps one keep-alive timer running while there are clients. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      if (this.#clients.size === 0 || this.#closed) return;
      this.#send(encoder.encode(": keep-alive\n\n"));
      this.#arm();
    }, KEEPALIVE_MS);
  }
}
