/** A histogram of observations in fixed buckets, as Prometheus reads one: counts, sum and total. */

/** What a {@link Histogram} holds at one moment; `counts[i]` observations were <= `bounds[i]`. */
export interface HistogramSnapshot {
  /** Upper bounds of the buckets, ascending; the `+Inf` bucket is `count`. */
  readonly bounds: readonly number[];
  /** Cumulative counts, one per bound. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class Histogram {
  readonly #bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot is above every bound. */
  readonly #buckets: Float64Array;
  #sum = 0;
  #count = 0;

  /** @param bounds upper bounds of the buckets, strictly ascending */
  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) {
        throw new RangeError(`Histogram bounds must ascend: current values ${bounds[i - 1]} >= ${bounds[i]}`);
      }
    }
    this.#bounds = [...bounds];
    this.#buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]!) i++;
    this.#buckets[i]!++;
    this.#sum += value;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    const counts: number[] = [];
    let total = 0;
    for (let i = 0; i < this.#bounds.length; i++) counts.push(total += this.#buckets[i]!);
    return { bounds: this.#bounds, counts, sum: this.#sum, count: this.#count };
  }
}
