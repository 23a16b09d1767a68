// Spearman partial correlation of x and y controlling for z, as
// pingouin.partial_corr(data, x, y, covar=z, method='spearman') computes it: rank each variable
// (average ranks for ties), take the Pearson correlations of the ranks, and
//   r_xy.z = (r_xy − r_xz·r_yz) / sqrt((1 − r_xz²)(1 − r_yz²)),
// two-sided p-value from Student's t with n − 3 degrees of freedom (one covariate):
//   t = r·sqrt((n − 3)/(1 − r²)).
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { averageRanks, pearson } from './spearman.js';

export interface PartialCorrelation {
  /** NaN when fewer than 4 triples remain, any variable is constant, or z explains x or y fully. */
  readonly rho: number;
  readonly p: number;
  /** Triples used, after dropping those with a NaN. */
  readonly n: number;
}

export function partialSpearman(x: ArrayLike<number>, y: ArrayLike<number>, z: ArrayLike<number>): PartialCorrelation {
  if (x.length !== y.length || x.length !== z.length) throw new RangeError(`partialSpearman: arrays differ in length (${x.length}, ${y.length}, ${z.length})`);
  const kept: number[] = [];
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i]!) && !Number.isNaN(y[i]!) && !Number.isNaN(z[i]!)) kept.push(i);
  const n = kept.length;
  if (n < 4) return { rho: NaN, p: NaN, n };
  const rx = averageRanks(kept.map((i) => x[i]!));
  const ry = averageRanks(kept.map((i) => y[i]!));
  const rz = averageRanks(kept.map((i) => z[i]!));
  const rho = partialFromCorrelations(pearson(rx, ry), pearson(rx, rz), pearson(ry, rz));
  return { rho, p: partialPValue(rho, n), n };
}

/** r_xy.z from the three pairwise correlations; NaN where the formula is undefined. */
export function partialFromCorrelations(rxy: number, rxz: number, ryz: number): number {
  const denominator = Math.sqrt((1 - rxz * rxz) * (1 - ryz * ryz));
  if (!(denominator > 0)) return NaN;
  return Math.max(-1, Math.min(1, (rxy - rxz * ryz) / denominator));
}

/** Two-sided p from Student's t with n − 3 degrees of freedom (pingouin's, one covariate). */
export function partialPValue(rho: number, n: number): number {
  if (Number.isNaN(rho) || n < 4) return NaN;
  if (Math.abs(rho) === 1) return 0;
  const dof = n - 3;
  const t = rho * Math.sqrt(dof / ((1 + rho) * (1 - rho)));
  return Math.min(1, 2 * tCdf(-Math.abs(t), dof));
}
