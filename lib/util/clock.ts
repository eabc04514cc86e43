/**
 * Time for the nodes: a monotonic clock for timers and durations, the wall clock for
 * timestamps people read or that go into messages, and timers. Nodes take a
 * {@link Clock}; tests pass a {@link FakeClock} and drive time themselves.
 */

import { setImmediate } from "node:timers";

/** An armed timer, as {@link Clock.setTimer} returns it. */
export type TimerHandle = { readonly __timer: unique symbol } | number;

export interface Clock {
  /** Monotonic milliseconds: never jumps back with the system time. For timers and durations. */
  now(): number;
  /** Milliseconds since the Unix epoch, for timestamps shown to people and put in messages. */
  wallNow(): number;
  /** Calls `run` once, `ms` milliseconds from now (at least 0). */
  setTimer(run: () => void, ms: number): TimerHandle;
  /** Cancels a timer; cancelling one that fired or was cancelled does nothing. */
  clearTimer(timer: TimerHandle): void;
}

/** The real clock: `performance.now()`, `Date.now()` and `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (run: () => void, ms: number) => setTimeout(run, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimer: (timer: TimerHandle) => clearTimeout(timer as number),
});

/** Resolves after `ms` milliseconds of `clock` time, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimer(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly run: () => void;
}

/**
 * A clock that moves only when told to. {@link advance} runs the timers that fall due in
 * order, letting the promises each one starts settle before the next, so code that mixes
 * timers and awaits (sockets of an in-memory transport, say) runs as it would in real
 * time, only reproducibly and at once.
 */
export class FakeClock implements Clock {
  #now: number;
  #wallOffset: number;
  #nextId = 1;
  #timers: FakeTimer[] = [];

  /**
   * @param start monotonic milliseconds at the start. @default 0
   * @param wallStart wall-clock milliseconds at the start. @default 1_700_000_000_000
   */
  constructor(start = 0, wallStart = 1_700_000_000_000) {
    this.#now = start;
    this.#wallOffset = wallStart - start;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  /** Moves the wall clock alone, as a system time change does; timers are not affected. */
  jumpWall(ms: number): void {
    this.#wallOffset += ms;
  }

  setTimer(run: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), run };
    this.#timers.push(timer);
    return timer.id as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers armed and not yet run. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, running every timer due on the way in order of due time
   * (then of arming), each at its own time, and lets pending promises settle after each.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.due);
      next.run();
      await settle();
    }
    this.#now = target;
  }

  /**
   * Advances in steps of `stepMs` until `condition` holds; throws naming `what` once
   * `timeoutMs` of fake time passed without it.
   */
  async until(
    condition: () => boolean,
    { timeoutMs = 60_000, stepMs = 10, what = "condition" }: {
      timeoutMs?: number;
      stepMs?: number;
      what?: string;
    } = {},
  ): Promise<void> {
    const deadline = this.#now + timeoutMs;
    await settle();
    while (!condition()) {
      if (this.#now >= deadline) throw new Error(`timed out after ${timeoutMs} fake ms waiting for ${what}`);
      await this.advance(stepMs);
    }
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) if (best === undefined || t.due < best.due) best = t;
    return best;
  }
}

/**
 * Lets every promise chain that can make progress without real time do so: the event
 * loop runs every queued microtask, however long the chain, before the next macrotask.
 * setImmediate is that macrotask without the minimum delay of nested timeouts.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
