/** Durations as people write them: `250ms`, `13s`, `2m`, `1h`, or a bare number of milliseconds. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * Parses a duration into milliseconds. Returns `undefined` when the text is not a
 * duration, so that callers can word the error for their own context.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[match[2] ?? "ms"]!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Formats milliseconds compactly for help texts and logs: `250ms`, `13s`, `2m`, `24h`. */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
