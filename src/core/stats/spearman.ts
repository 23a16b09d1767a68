// Spearman's rank correlation, defined as scipy.stats.spearmanr defines it (Pearson's r of the
// average ranks; two-sided p-value from Student's t with n − 2 degrees of freedom).
import tCdf from '@stdlib/stats-base-dists-t-cdf';

export interface SpearmanResult {
  /** ρ; NaN when fewer than 3 pairs remain or either input is constant (scipy gives nan too). */
  readonly rho: number;
  /** Two-sided p-value; NaN when ρ is NaN, 0 when |ρ| = 1. */
  readonly p: number;
  /** Pairs used, after dropping pairs with a NaN. */
  readonly n: number;
}

/** 1-based ranks; tied values share the average of the ranks they span (scipy's 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]!] === values[order[start]!]) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson's r; NaN when either input has zero variance. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1 for perfectly monotone data.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** ρ of paired values already free of NaN (shared with the bootstrap, which resamples pairs). */
export function spearmanRho(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length < 3) return NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

/** scipy's p: t = ρ·sqrt((n−2)/(1−ρ²)), p = 2·(1 − T_{n−2}(|t|)). */
export function spearmanPValue(rho: number, n: number): number {
  if (Number.isNaN(rho) || n < 3) return NaN;
  if (Math.abs(rho) === 1) return 0;
  const dof = n - 2;
  const t = rho * Math.sqrt(dof / ((1 + rho) * (1 - rho)));
  // 2·T(−|t|) equals 2·(1 − T(|t|)) but keeps precision for tiny p-values.
  return Math.min(1, 2 * tCdf(-Math.abs(t), dof));
}

/** Pairs where either value is NaN are dropped, not propagated (scipy's nan_policy='omit'). */
export function dropNaNPairs(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { x: number[]; y: number[] } {
  if (x.length !== y.length) {
    throw new RangeError(`spearman: arrays differ in length (${x.length} vs ${y.length})`);
  }
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!) || Number.isNaN(y[i]!)) continue;
    keptX.push(x[i]!);
    keptY.push(y[i]!);
  }
  return { x: keptX, y: keptY };
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): SpearmanResult {
  const pairs = dropNaNPairs(x, y);
  const n = pairs.x.length;
  const rho = spearmanRho(pairs.x, pairs.y);
  return { rho, p: spearmanPValue(rho, n), n };
}
