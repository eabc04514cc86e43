/**
 * Message ids a peer has seen, bounded by count and by age: the oldest go first
 * when either bound is passed, so memory never grows without limit.
 */
export class SeenSet {
  readonly #firstSeen = new Map<string, number>();

  /**
   * @param limit Most ids kept (setting `seenLimit`).
   * @param ttlMs Milliseconds an id is kept (setting `seenTtl`).
   */
  constructor(readonly limit: number, readonly ttlMs: number) {}

  get size(): number {
    return this.#firstSeen.size;
  }

  has(id: string): boolean {
    return this.#firstSeen.has(id);
  }

  /** Records `id` as seen at `now` (milliseconds), evicting past either bound. */
  add(id: string, now: number): void {
    this.#firstSeen.set(id, now);
    if (this.#firstSeen.size > this.limit) {
      const oldest = this.#firstSeen.keys().next().value;
      if (oldest !== undefined) this.#firstSeen.delete(oldest);
    }
  }

  /** Drops ids older than the time-to-live. Maps keep insertion order, so the oldest come first. */
  prune(now: number): void {
    for (const [id, at] of this.#firstSeen) {
      if (now - at < this.ttlMs) break;
      this.#firstSeen.delete(id);
    }
  }
}
