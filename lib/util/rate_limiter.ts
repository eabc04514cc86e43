/**
 * A token bucket: `rate` tokens a second, holding up to `burst`. Time comes in
 * from the caller (milliseconds), so tests can drive it.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  /**
   * @param rate Tokens added per second.
   * @param burst Most tokens held; a burst up to this passes at once.
   */
  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes `cost` tokens if there are enough; returns false (taking none) otherwise. */
  take(cost: number, now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    this.#updatedAt = now;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}
