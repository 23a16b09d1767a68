// Seeded percentile bootstrap for Spearman's ρ: resample (x, y) pairs with replacement.
import { SeededRandom } from '../random.js';
import { dropNaNPairs, pearson } from './spearman.js';

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
  // Ranks of a resample without sorting it: equal values form one group, and a resampled value's
  // average rank is the count of resampled values in lower groups plus (its group's count + 1) / 2
  // — the ranks averageRanks gives, in O(n) per resample instead of O(n log n).
  const xGroups = valueGroups(pairs.x);
  const yGroups = valueGroups(pairs.y);
  const drawn = new Int32Array(n);
  const rx = new Float64Array(n);
  const ry = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) drawn[i] = random.int(n);
    resampledRanks(drawn, xGroups, rx);
    resampledRanks(drawn, yGroups, ry);
    const rho = pearson(rx, ry);
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

interface ValueGroups {
  /** Group of each original index: equal values share one, groups ascend with the value. */
  readonly group: Int32Array;
  readonly count: number;
  /** Scratch: resampled values per group, then the group's average rank. */
  readonly perGroup: Float64Array;
}

function valueGroups(values: ArrayLike<number>): ValueGroups {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const group = new Int32Array(n);
  let count = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0 && values[order[k]!] !== values[order[k - 1]!]) count++;
    group[order[k]!] = count;
  }
  return { group, count: count + 1, perGroup: new Float64Array(count + 1) };
}

function resampledRanks(drawn: Int32Array, groups: ValueGroups, out: Float64Array): void {
  const { group, perGroup } = groups;
  perGroup.fill(0);
  for (let i = 0; i < drawn.length; i++) perGroup[group[drawn[i]!]!]!++;
  let below = 0;
  for (let g = 0; g < groups.count; g++) {
    const size = perGroup[g]!;
    // Positions below..below+size-1 hold ranks below+1..below+size; their mean, as averageRanks computes it.
    perGroup[g] = (below + 1 + (below + size)) / 2;
    below += size;
  }
  for (let i = 0; i < drawn.length; i++) out[i] = perGroup[group[drawn[i]!]!]!;
}
