/** Helpers for tests that drive p2pnet as real processes (`deno run main.ts ...`). */

import { join } from "node:path";

export const ROOT: string = new URL("..", import.meta.url).pathname;

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

/** Environment for child processes: plain output, no update notice on stderr. */
const CHILD_ENV = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

/**
 * Runs `deno <args>` in the project root to completion. A process still running after
 * `timeoutMs` is killed and the call throws, so nothing hangs and a hang is a failure.
 */
export async function runDeno(
  args: string[],
  { timeoutMs = 120_000, env = {} }: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Output> {
  const started = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { ...CHILD_ENV, ...env },
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  try {
    const result = await child.output();
    const output = {
      code: result.code,
      stdout: new TextDecoder().decode(result.stdout),
      stderr: new TextDecoder().decode(result.stderr),
      ms: Date.now() - started,
    };
    if (timedOut) {
      throw new Error(`deno ${args.join(" ")} still running after ${timeoutMs} ms; stderr: ${output.stderr}`);
    }
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "p2pnet-test-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `p2pnet <args>` (through `deno run main.ts`) to completion. */
export function runP2pnet(
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Output> {
  return runDeno(["run", "-A", join(ROOT, "main.ts"), ...args], options);
}

/** A running `p2pnet` process whose output is collected as it arrives. */
export class Proc {
  stdout = "";
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #pumps: Promise<void>[];

  /**
   * @param via a command that runs deno for us, such as `["ip", "netns", "exec", "ns1"]`
   *   (it must exec deno in its place, so that signals reach deno). @default none
   */
  constructor(
    args: string[],
    { stdin = false, env = {}, via = [] }: { stdin?: boolean; env?: Record<string, string>; via?: string[] } =
      {},
  ) {
    const deno = [Deno.execPath(), "run", "-A", join(ROOT, "main.ts"), ...args];
    const [command, ...rest] = [...via, ...deno];
    this.#child = new Deno.Command(command!, {
      args: rest,
      cwd: ROOT,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { ...CHILD_ENV, ...env },
    }).spawn();
    this.#stdin = stdin ? this.#child.stdin.getWriter() : undefined;
    this.#pumps = [
      this.#pump(this.#child.stdout, (t) => this.stdout += t),
      this.#pump(this.#child.stderr, (t) => this.stderr += t),
    ];
  }

  async #pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) sink(text);
  }

  /** Types a line on the process's stdin. */
  async type(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Waits for exit (killing the process after `timeoutMs`) and returns the exit code. */
  async exit(timeoutMs = 10_000): Promise<number> {
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    try {
      const { code } = await this.#child.status;
      await Promise.all(this.#pumps);
      await this.#stdin?.close().catch(() => {});
      return code;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Ports on 127.0.0.1 that were free a moment ago. */
export function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  listeners.forEach((l) => l.close());
  return ports;
}

/**
 * Runs a shell `command` under a pseudo-terminal made by util-linux `script`, with a clean
 * environment plus `env`; returns what the terminal showed and the exit code, or
 * undefined where there is no `script` command.
 */
export async function runOnTerminal(
  command: string,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string } | undefined> {
  const clean: Record<string, string> = { DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) clean[name] = value;
  }
  try {
    const result = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: { ...clean, ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: result.code, output: new TextDecoder().decode(result.stdout) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
