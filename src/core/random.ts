// Seeded pseudo-random numbers (mulberry32: small, fast, full 2^32 period), so the same seed
// always gives the same choices.

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** k distinct values of [0, n) \ excluded, in draw order (partial Fisher–Yates). */
  sample(n: number, k: number, excluded: ReadonlySet<number> = new Set()): number[] {
    const pool: number[] = [];
    for (let i = 0; i < n; i++) if (!excluded.has(i)) pool.push(i);
    const take = Math.min(k, pool.length);
    for (let i = 0; i < take; i++) {
      const j = i + this.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, take);
  }
}
