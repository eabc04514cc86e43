/**
 * The largest recent value of a measurement, fading by half every `halfLifeMs`: a
 * slow spell raises it at once, and it falls back gradually once the spell is over.
 */
export class DecayingMax {
  #value = 0;
  #at = 0;

  /** @param halfLifeMs milliseconds over which the maximum fades to half */
  constructor(readonly halfLifeMs: number) {}

  /** The faded maximum at clock time `now` (milliseconds); 0 before any sample. */
  valueAt(now: number): number {
    return this.#value * 0.5 ** ((now - this.#at) / this.halfLifeMs);
  }

  /** Records a sample taken at `now`; it becomes the maximum if larger than the faded one. */
  note(sample: number, now: number): void {
    if (sample <= this.valueAt(now)) return;
    this.#value = sample;
    this.#at = now;
  }
}
