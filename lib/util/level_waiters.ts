/**
 * Waiters for a level (such as a queue's bytes) to fall to a threshold: each resolves
 * true once the level is at most its threshold, or false when the waiting is called off.
 */
export class LevelWaiters {
  #waiting: { threshold: number; resolve: (reached: boolean) => void }[] = [];

  /** Resolves true once the level is at most `threshold` (at once if `level` already is). */
  wait(threshold: number, level: number): Promise<boolean> {
    if (level <= threshold) return Promise.resolve(true);
    const waiter = Promise.withResolvers<boolean>();
    this.#waiting.push({ threshold, resolve: waiter.resolve });
    return waiter.promise;
  }

  /** The level changed to `level`: wakes the waiters it satisfies. */
  changed(level: number): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const waiter of waiting) {
      if (level <= waiter.threshold) waiter.resolve(true);
      else this.#waiting.push(waiter);
    }
  }

  /** Resolves every waiter false. */
  cancel(): void {
    for (const waiter of this.#waiting.splice(0)) waiter.resolve(false);
  }
}
