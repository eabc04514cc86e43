/**
 * One timer per node. Periodic and one-shot tasks share a single timer of the node's
 * {@link Clock}, armed for the earliest due task, so a node with any number of
 * neighbours keeps exactly one timer, and `stop()` leaves none behind.
 */

import { type Clock, systemClock, type TimerHandle } from "./clock.ts";

interface Task {
  due: number;
  readonly interval: number | undefined;
  readonly run: () => void;
  cancelled: boolean;
}

export interface SchedulerOptions {
  /** Where time and the timer come from. @default systemClock */
  clock?: Clock;
  /** Called with an error a task threw; the scheduler goes on. @default rethrows asynchronously */
  onError?: (error: unknown) => void;
}

export class Scheduler {
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  #tasks: Task[] = [];
  #timer: TimerHandle | undefined;
  #armedFor = Infinity;
  #stopped = false;

  constructor(options: SchedulerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#onError = options.onError ?? ((error) =>
      queueMicrotask(() => {
        throw error;
      }));
  }

  /** Runs `run` every `intervalMs`, first after `firstAfterMs` (default one interval). Returns a cancel function. */
  every(intervalMs: number, run: () => void, firstAfterMs = intervalMs): () => void {
    return this.#add({
      due: this.#clock.now() + firstAfterMs,
      interval: Math.max(1, intervalMs),
      run,
      cancelled: false,
    });
  }

  /** Runs `run` once after `delayMs`. Returns a cancel function. */
  after(delayMs: number, run: () => void): () => void {
    return this.#add({ due: this.#clock.now() + delayMs, interval: undefined, run, cancelled: false });
  }

  /** Cancels every task and the timer. The scheduler accepts no tasks afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#tasks = [];
    this.#disarm();
  }

  #add(task: Task): () => void {
    if (this.#stopped) return () => {};
    this.#tasks.push(task);
    if (task.due < this.#armedFor) this.#arm(task.due);
    return () => {
      task.cancelled = true;
    };
  }

  #arm(due: number): void {
    this.#disarm();
    this.#armedFor = due;
    this.#timer = this.#clock.setTimer(() => this.#fire(), Math.max(0, due - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#clock.now();
    // Earliest first: when the timer fires late, tasks still run in the order they were due.
    const due = this.#tasks.filter((t) => !t.cancelled && t.due <= now).sort((a, b) => a.due - b.due);
    for (const task of due) {
      if (task.interval === undefined) task.cancelled = true;
      else task.due = task.due + task.interval > now ? task.due + task.interval : now + task.interval;
    }
    for (const task of due) {
      if (this.#stopped) return;
      try {
        task.run();
      } catch (error) {
        this.#onError(error);
      }
    }
    if (this.#stopped) return;
    this.#tasks = this.#tasks.filter((t) => !t.cancelled);
    let next = Infinity;
    for (const task of this.#tasks) next = Math.min(next, task.due);
    if (next < this.#armedFor) this.#arm(next);
  }
}
