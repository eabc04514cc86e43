/**
 * Strikes against remote hosts and the bans they earn: a host that sends invalid
 * frames or false reports `threshold` times within `banTimeMs` is refused for
 * `banTimeMs`. Memory is bounded by `maxHosts`; the oldest entries go first.
 */
export class BanList {
  readonly #strikes = new Map<string, { count: number; since: number }>();
  readonly #bannedUntil = new Map<string, number>();

  /**
   * @param threshold Strikes that earn a ban; 0 disables banning (setting `banThreshold`).
   * @param banTimeMs Milliseconds a ban lasts, and the window in which strikes add up (setting `banTime`).
   * @param maxHosts Most hosts remembered. @default 10000
   */
  constructor(readonly threshold: number, readonly banTimeMs: number, readonly maxHosts = 10_000) {}

  /** Records a strike; returns true when it earned `host` a ban. */
  strike(host: string, now: number): boolean {
    // A banned host earns no second ban: its ban runs out as it was set.
    if (this.threshold <= 0 || this.isBanned(host, now)) return false;
    let entry = this.#strikes.get(host);
    if (entry === undefined || now - entry.since > this.banTimeMs) {
      entry = { count: 0, since: now };
      this.#strikes.delete(host);
      this.#strikes.set(host, entry);
      this.#trim(this.#strikes);
    }
    entry.count++;
    if (entry.count < this.threshold) return false;
    this.#strikes.delete(host);
    this.#bannedUntil.delete(host);
    this.#bannedUntil.set(host, now + this.banTimeMs);
    this.#trim(this.#bannedUntil);
    return true;
  }

  /** True while `host` is banned. */
  isBanned(host: string, now: number): boolean {
    const until = this.#bannedUntil.get(host);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#bannedUntil.delete(host);
    return false;
  }

  #trim(map: Map<string, unknown>): void {
    while (map.size > this.maxHosts) map.delete(map.keys().next().value!);
  }
}
