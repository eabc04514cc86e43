/** Random choices, with the source of randomness passed in so tests can fix it. */

/** A function returning a float in [0, 1), like `Math.random`. */
export type Random = () => number;

/** A shuffled copy of `items` (Fisher-Yates). */
export function shuffled<T>(items: Iterable<T>, random: Random = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Up to `count` distinct items of `items`, chosen uniformly at random. */
export function sample<T>(items: Iterable<T>, count: number, random: Random = Math.random): T[] {
  const all = [...items];
  if (count >= all.length) return shuffled(all, random);
  // Partial Fisher-Yates: only the first `count` positions are settled.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (all.length - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}
