// Seeded percentile bootstrap for Spearman's ρ: resample (x, y) pairs with replacement.
import { SeededRandom } from '../random.js';
import { dropNaNPairs, spearmanRho } from './spearman.js';

export interface BootstrapInterval {
  readonly lower: number;
  readonly upper: number;
  /** Resamples whose ρ was defined (a resample can be constant in x or y; those are skipped). */
  readonly resamples: number;
}

export interface BootstrapOptions {
  /** Number of resamples; default 1000. */
  readonly resamples?: number;
  /** Coverage of the interval; default 0.95. */
  readonly confidence?: number;
  readonly seed: number;
}

/**
 * q-th quantile (0 ≤ q ≤ 1) of ascending `sorted`, by linear interpolation between closest ranks:
 * numpy.percentile's default ('linear', Hyndman & Fan type 7).
 */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const position = q * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (position - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Percentile interval of ρ over bootstrap resamples; NaN pairs are dropped first, as in
 * `spearman`. Both bounds NaN when fewer than 3 pairs remain or no resample gives a defined ρ.
 */
export function bootstrapSpearmanInterval(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: BootstrapOptions,
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const pairs = dropNaNPairs(x, y);
  const n = pairs.x.length;
  if (n < 3) return { lower: NaN, upper: NaN, resamples: 0 };
  const random = new SeededRandom(options.seed);
  const rhos: number[] = [];
  const bx = new Float64Array(n);
  const by = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const j = random.int(n);
      bx[i] = pairs.x[j]!;
      by[i] = pairs.y[j]!;
    }
    const rho = spearmanRho(bx, by);
    if (!Number.isNaN(rho)) rhos.push(rho);
  }
  if (rhos.length === 0) return { lower: NaN, upper: NaN, resamples: 0 };
  rhos.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return {
    lower: quantileLinear(rhos, tail),
    upper: quantileLinear(rhos, 1 - tail),
    resamples: rhos.length,
  };
}
