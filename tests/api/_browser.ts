/**
 * A headless Chromium for tests, driven over the DevTools protocol: open a page, evaluate
 * expressions in it, take a screenshot. No npm package: a WebSocket and a few commands.
 */

import { waitFor } from "../_helpers.ts";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--window-size=1280,800",
  "--remote-debugging-port=0",
];

/** The first Chromium found on PATH, or undefined. */
export async function findChromium(): Promise<string | undefined> {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const { success } = await new Deno.Command(name, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (success) return name;
    } catch {
      // Not installed under this name.
    }
  }
  return undefined;
}

export class Browser implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  #socket: WebSocket | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();

  private constructor(child: Deno.ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
  }

  /** Starts `binary` headless on `url` and connects to the page. */
  static async open(binary: string, url: string): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "p2pnet-chromium-" });
    const child = new Deno.Command(binary, {
      args: [...FLAGS, `--user-data-dir=${profile}`, url],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const browser = new Browser(child, profile);
    try {
      const port = await debuggingPort(child.stderr);
      let page: { type: string; webSocketDebuggerUrl: string } | undefined;
      await waitFor(async () => {
        const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        page = targets.find((t: { type: string }) => t.type === "page");
        return page !== undefined;
      }, { what: "Chromium to open a page", timeoutMs: 5000 });
      await browser.#connect(page!.webSocketDebuggerUrl);
      // The window's frame takes some of --window-size: fix the page's own size instead.
      await browser.send("Emulation.setDeviceMetricsOverride", {
        width: 1280,
        height: 800,
        deviceScaleFactor: 1,
        mobile: false,
      });
      return browser;
    } catch (error) {
      await browser[Symbol.asyncDispose]();
      throw error;
    }
  }

  #connect(url: string): Promise<void> {
    const socket = this.#socket = new WebSocket(url);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const waiting = this.#pending.get(message.id);
      if (waiting === undefined) return;
      this.#pending.delete(message.id);
      if (message.error) waiting.reject(new Error(JSON.stringify(message.error)));
      else waiting.resolve(message.result);
    };
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  /** Sends one DevTools command and returns its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = Promise.withResolvers<Record<string, unknown>>();
    this.#pending.set(id, reply);
    this.#socket!.send(JSON.stringify({ id, method, params }));
    return reply.promise;
  }

  /** The value of `expression` in the page (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    return (result.result as { value: T }).value;
  }

  /** A PNG of the page as it is drawn now. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    return Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket?.close();
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

/** Reads Chromium's stderr until it names its DevTools port. */
async function debuggingPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  let text = "";
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited: ${text.slice(-1000)}`);
    text += value;
    const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text);
    if (match) {
      // Keep draining, so that Chromium never blocks on a full pipe; it ends when Chromium does.
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* discard */ }
      })();
      return Number(match[1]);
    }
  }
}
