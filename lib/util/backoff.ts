/**
 * A retry that waits `firstMs`, then twice its last wait each time: the next wait after
 * `lastWaitMs` (0 before the first), or undefined once it would reach `capMs`, where a
 * periodic task takes over.
 */
export function doubledWait(lastWaitMs: number, firstMs: number, capMs: number): number | undefined {
  const wait = Math.max(firstMs, lastWaitMs * 2);
  return wait >= capMs ? undefined : wait;
}
