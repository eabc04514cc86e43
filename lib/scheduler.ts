/**
 * One timer per node. Periodic and one-shot tasks share a single `setTimeout`
 * armed for the earliest due task, so a node with any number of neighbours keeps
 * exactly one timer, and `stop()` leaves none behind.
 */

interface Task {
  due: number;
  readonly interval: number | undefined;
  readonly run: () => void;
  cancelled: boolean;
}

export interface SchedulerOptions {
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
  /** Called with an error a task threw; the scheduler goes on. @default rethrows asynchronously */
  onError?: (error: unknown) => void;
}

export class Scheduler {
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  #tasks: Task[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;
  #stopped = false;

  constructor(options: SchedulerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((error) =>
      queueMicrotask(() => {
        throw error;
      }));
  }

  /** Runs `run` every `intervalMs`, first after `firstAfterMs` (default one interval). Returns a cancel function. */
  every(intervalMs: number, run: () => void, firstAfterMs = intervalMs): () => void {
    return this.#add({
      due: this.#now() + firstAfterMs,
      interval: Math.max(1, intervalMs),
      run,
      cancelled: false,
    });
  }

  /** Runs `run` once after `delayMs`. Returns a cancel function. */
  after(delayMs: number, run: () => void): () => void {
    return this.#add({ due: this.#now() + delayMs, interval: undefined, run, cancelled: false });
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
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
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
