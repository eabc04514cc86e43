/** Catch-up's decisions, as pure functions: what goes into one page of history. */

/** How much one page of catch-up holds. */
export interface PageLimits {
  /** Most messages (catchUpLimit). */
  count: number;
  /** Most frame bytes (maxQueuedBytes × TUNING.catchUpPageShare); the first message goes whatever its size. */
  bytes: number;
}

/**
 * Whether a message whose frame takes `frameBytes` joins a page that holds `count`
 * messages of `bytes` so far: within both limits, and the first one always, so that
 * every page moves the catch-up on.
 */
export function joinsPage(count: number, bytes: number, frameBytes: number, limits: PageLimits): boolean {
  if (count >= limits.count) return false;
  return count === 0 || bytes + frameBytes <= limits.bytes;
}

/**
 * Where the one page of the most recent of `length` messages starts, for an asker that
 * does not page: walking back from the newest while they join the page. `sizeAt(i)` is
 * the frame bytes of message i, 0 for one no longer stored (skipped, not counted).
 */
export function recentPageStart(length: number, sizeAt: (i: number) => number, limits: PageLimits): number {
  let count = 0;
  let bytes = 0;
  let start = length;
  for (; start > 0; start--) {
    const size = sizeAt(start - 1);
    if (size === 0) continue;
    if (!joinsPage(count, bytes, size, limits)) break;
    count++;
    bytes += size;
  }
  return start;
}
