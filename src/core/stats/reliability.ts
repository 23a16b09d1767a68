// Reliability of a noisy per-candidate measure (example quality) and the ceiling it puts on any
// correlation with it.
//
// Split-half: the measure is computed twice per candidate, each time on one half of its data
// (alternate probe queries for one-shot gain, alternate influence prompts for influence). r is
// Spearman's ρ across candidates between the two halves (rank-based like the correlations it
// bounds, and robust to heavy-tailed log-probability gains); the Spearman–Brown formula
// r_sb = 2r / (1 + r) steps it up to the reliability of the full-length measure. By the
// attenuation formula, a measure with reliability R correlates at most sqrt(R) with anything, the
// activation statistic being taken as perfectly reliable (it is a deterministic function of the
// example): ceiling = sqrt(max(0, R)).
import { dropNaNPairs, spearmanRho } from './spearman.js';

export interface SplitHalfReliability {
  /** Spearman's ρ between the two halves across candidates. */
  readonly halfCorrelation: number;
  /** Spearman–Brown: 2r / (1 + r); NaN when r is. */
  readonly reliability: number;
  /** sqrt(max(0, reliability)): the largest |ρ| the measure can show with a perfectly reliable statistic. */
  readonly ceiling: number;
  /** Candidates with both halves defined. */
  readonly n: number;
}

export function spearmanBrown(r: number): number {
  if (Number.isNaN(r)) return NaN;
  if (r <= -1) return -Infinity;
  return (2 * r) / (1 + r);
}

export function splitHalfReliability(halfA: ArrayLike<number>, halfB: ArrayLike<number>): SplitHalfReliability {
  const finite = dropNaNPairs(Array.from(halfA, nanIfInfinite), Array.from(halfB, nanIfInfinite));
  const r = spearmanRho(finite.x, finite.y);
  const reliability = spearmanBrown(r);
  return { halfCorrelation: r, reliability, ceiling: Number.isNaN(reliability) ? NaN : Math.sqrt(Math.max(0, reliability)), n: finite.x.length };
}

function nanIfInfinite(v: number): number {
  return Number.isFinite(v) ? v : NaN;
}
