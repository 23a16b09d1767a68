// The winner's curse: the headline is the largest |ρ| over a grid of thousands of Spearman
// correlations, so its own per-cell interval is too optimistic. Two honest companions:
//   max-aware bootstrap — resample candidates with replacement, recompute every cell's ρ on the
//     resample, take the largest |ρ| over the cells (re-selecting the maximum cell inside each
//     resample); the basic (reverse-percentile) interval of those maxima, 2·observed − q(1−α/2) ..
//     2·observed − q(α/2) (Davison & Hinkley 1997, §5.2), clipped to [0, 1]. The percentile interval
//     of the maxima would be shifted the wrong way: the observed maximum already sits above the true
//     one (it was picked for being large), and a resample's maximum sits above the observed one for
//     the same reason, so the percentile interval can lie wholly above the observed value. The basic
//     interval subtracts that upward shift instead — the bootstrap's estimate of the winner's curse;
//   permutation null — permute quality across candidates (one permutation for every quality
//     measure, keeping their joint structure), take the largest |ρ| over the grid; the family-wise
//     p-value of the observed maximum is (1 + #{null ≥ observed}) / (1 + permutations).
// Seeded and deterministic. Spearman per resample from ranks computed by counting (no sort) when a
// variable has no missing value, so a grid of thousands of cells × 500 resamples takes seconds.
import { SeededRandom } from '../random.js';
import { quantileLinear } from './bootstrap.js';
import { averageRanks, pearson } from './spearman.js';

/** One grid cell: a statistic and a quality measure over the same candidates (NaN: missing). */
export interface MaxCell {
  /** Cells sharing a group (e.g. a mask) get their own maximum, besides the overall one. */
  readonly group: string;
  /** Arrays shared by several cells should be the same object: their ranks are computed once. */
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

export interface MaxAbsRhoOptions {
  /** Bootstrap resamples of the maximum; 0: no interval. */
  readonly resamples: number;
  /** Permutations of quality for the family-wise p-value; 0: none. */
  readonly permutations: number;
  /** Coverage of the interval; default 0.95. */
  readonly confidence?: number;
  readonly seed: number;
}

export interface MaxAbsRho {
  /** The largest |ρ| over the cells on the data as observed. */
  readonly observed: number;
  /** Basic bootstrap interval of the largest |ρ|, clipped to [0, 1] (NaN without resamples). */
  readonly lower: number;
  readonly upper: number;
  /** Mean of the resampled maxima minus `observed`: the upward shift the interval corrects for. */
  readonly bias: number;
  readonly resamples: number;
  /** Family-wise p of `observed` under the permutation null of the maximum (NaN without permutations). */
  readonly familywiseP: number;
  readonly permutations: number;
}

/** The key of the maximum over every cell, beside one key per group. */
export const overallGroup = '*';

interface PreparedArray {
  readonly values: ArrayLike<number>;
  readonly complete: boolean;
  /** Value group of each candidate (equal values share one, ascending); complete arrays only. */
  readonly group: Int32Array;
  readonly groupCount: number;
  readonly perGroup: Float64Array;
  /** Centred ranks of the current draw, and their norm. */
  readonly centred: Float64Array;
  norm: number;
}

export function maxAbsSpearman(cells: readonly MaxCell[], options: MaxAbsRhoOptions): Map<string, MaxAbsRho> {
  const n = cells[0]?.x.length ?? 0;
  const prepared = new Map<ArrayLike<number>, PreparedArray>();
  const prepare = (values: ArrayLike<number>): PreparedArray => {
    if (values.length !== n) throw new RangeError(`maxAbsSpearman: a cell has ${values.length} candidates, another ${n}`);
    let p = prepared.get(values);
    if (!p) prepared.set(values, (p = prepareArray(values)));
    return p;
  };
  const prepCells = cells.map((c) => ({ group: c.group, x: prepare(c.x), y: prepare(c.y) }));
  const xs = [...new Set(prepCells.map((c) => c.x))];
  const ys = [...new Set(prepCells.map((c) => c.y))];
  // x is ranked by one draw and y by another (the permutation): one array cannot be both.
  if (ys.some((a) => xs.includes(a))) throw new RangeError('maxAbsSpearman: the same array is an x of one cell and a y of another');
  const groups = [...new Set(cells.map((c) => c.group)), overallGroup];

  /** Largest |ρ| per group for pairs (x[dx[i]], y[dy[i]]). */
  const maxima = (dx: Int32Array, dy: Int32Array): Map<string, number> => {
    for (const a of xs) rankDraw(a, dx);
    for (const a of ys) rankDraw(a, dy);
    const best = new Map<string, number>(groups.map((g) => [g, NaN]));
    for (const c of prepCells) {
      const rho = c.x.complete && c.y.complete ? centredCorrelation(c.x, c.y) : slowRho(c.x.values, c.y.values, dx, dy);
      if (Number.isNaN(rho)) continue;
      for (const g of [c.group, overallGroup]) {
        const current = best.get(g)!;
        if (Number.isNaN(current) || Math.abs(rho) > current) best.set(g, Math.abs(rho));
      }
    }
    return best;
  };

  const identity = Int32Array.from({ length: n }, (_, i) => i);
  const observed = maxima(identity, identity);
  const random = new SeededRandom(options.seed);
  const bootstrap = new Map<string, number[]>(groups.map((g) => [g, []]));
  const drawn = new Int32Array(n);
  for (let b = 0; b < options.resamples && n > 0; b++) {
    for (let i = 0; i < n; i++) drawn[i] = random.int(n);
    for (const [g, m] of maxima(drawn, drawn)) if (!Number.isNaN(m)) bootstrap.get(g)!.push(m);
  }
  const exceed = new Map<string, number>(groups.map((g) => [g, 0]));
  const permuted = Int32Array.from(identity);
  for (let b = 0; b < options.permutations && n > 0; b++) {
    // Fisher–Yates on a fresh identity, so each permutation depends only on the stream.
    permuted.set(identity);
    for (let i = n - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const t = permuted[i]!;
      permuted[i] = permuted[j]!;
      permuted[j] = t;
    }
    // x keeps its order, quality is permuted.
    for (const [g, m] of maxima(identity, permuted)) if (m >= observed.get(g)! - 1e-12) exceed.set(g, exceed.get(g)! + 1);
  }
  const tail = (1 - (options.confidence ?? 0.95)) / 2;
  return new Map(
    groups.map((g) => {
      const maxes = bootstrap.get(g)!.sort((a, b) => a - b);
      const seen = observed.get(g)!;
      const reflect = (q: number): number => Math.min(1, Math.max(0, 2 * seen - q));
      const any = maxes.length > 0 && !Number.isNaN(seen);
      return [
        g,
        {
          observed: seen,
          lower: any ? reflect(quantileLinear(maxes, 1 - tail)) : NaN,
          upper: any ? reflect(quantileLinear(maxes, tail)) : NaN,
          bias: any ? maxes.reduce((sum, m) => sum + m, 0) / maxes.length - seen : NaN,
          resamples: maxes.length,
          familywiseP: options.permutations > 0 && !Number.isNaN(observed.get(g)!) ? (1 + exceed.get(g)!) / (1 + options.permutations) : NaN,
          permutations: options.permutations,
        },
      ];
    }),
  );
}

function prepareArray(values: ArrayLike<number>): PreparedArray {
  const n = values.length;
  let complete = true;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) complete = false;
  const group = new Int32Array(n);
  let count = 0;
  if (complete) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
    for (let k = 0; k < n; k++) {
      if (k > 0 && values[order[k]!] !== values[order[k - 1]!]) count++;
      group[order[k]!] = count;
    }
    count++;
  }
  return { values, complete, group, groupCount: count, perGroup: new Float64Array(count), centred: new Float64Array(n), norm: 0 };
}

/** Average ranks of values[draw[i]] (ties averaged, as averageRanks), centred, by counting value groups. */
function rankDraw(a: PreparedArray, draw: Int32Array): void {
  if (!a.complete) return;
  const { group, perGroup, centred } = a;
  const n = draw.length;
  perGroup.fill(0);
  for (let i = 0; i < n; i++) perGroup[group[draw[i]!]!]!++;
  let below = 0;
  for (let g = 0; g < a.groupCount; g++) {
    const size = perGroup[g]!;
    perGroup[g] = (below + 1 + (below + size)) / 2 - (n + 1) / 2;
    below += size;
  }
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const r = perGroup[group[draw[i]!]!]!;
    centred[i] = r;
    norm += r * r;
  }
  a.norm = Math.sqrt(norm);
}

function centredCorrelation(x: PreparedArray, y: PreparedArray): number {
  if (x.norm === 0 || y.norm === 0 || x.centred.length < 3) return NaN;
  let dot = 0;
  for (let i = 0; i < x.centred.length; i++) dot += x.centred[i]! * y.centred[i]!;
  return Math.max(-1, Math.min(1, dot / (x.norm * y.norm)));
}

/** Spearman of the pairs of the draw with both values finite (a cell with missing values). */
function slowRho(x: ArrayLike<number>, y: ArrayLike<number>, dx: Int32Array, dy: Int32Array): number {
  const kx: number[] = [];
  const ky: number[] = [];
  for (let i = 0; i < dx.length; i++) {
    const a = x[dx[i]!]!;
    const b = y[dy[i]!]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      kx.push(a);
      ky.push(b);
    }
  }
  if (kx.length < 3) return NaN;
  return pearson(averageRanks(kx), averageRanks(ky));
}
