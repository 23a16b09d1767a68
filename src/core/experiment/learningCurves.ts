// Evaluation results: each strategy's k-shot performance on the test set per seed and budget, with
// a bootstrap interval over test items (curves.csv), their mean and spread over seeds, each
// strategy's paired difference from random (strategy_vs_random.csv), and how well a strategy's own
// acquisition scores predicted the performance of the prompts it built.
import { formatNumber } from '../format/statsCsv.js';
import { SeededRandom } from '../random.js';
import { quantileLinear } from '../stats/bootstrap.js';
import { mean, sampleVariance } from '../stats/descriptive.js';
import { spearman } from '../stats/spearman.js';
import type { SelectionRow } from './acquisition.js';

/**
 * One row of curves.csv: the mean of `metric` over the test items for one strategy, seed and
 * budget, and its 95% percentile bootstrap interval over test items (NaN where not computed).
 */
export interface CurveRow {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  readonly metric: string;
  readonly value: number;
  readonly ciLow?: number;
  readonly ciHigh?: number;
}

/** The columns every curves.csv has (older run folders lack the interval). */
export const curvesCsvColumns = ['strategy', 'seed', 'budget', 'metric', 'value'] as const;
export const curvesCsvIntervalColumns = ['ci_low', 'ci_high'] as const;

export function curvesCsv(rows: readonly CurveRow[]): string {
  const header = [...curvesCsvColumns, ...curvesCsvIntervalColumns].join(',');
  const lines = rows.map((r) => [r.strategy, r.seed, r.budget, r.metric, formatNumber(r.value), formatNumber(r.ciLow ?? NaN), formatNumber(r.ciHigh ?? NaN)].join(','));
  return [header, ...lines].join('\n') + '\n';
}

/** One strategy × seed × budget × metric: the metric of each test item (same items, same order, for every strategy). */
export interface ItemScores {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  readonly metric: string;
  readonly values: Float64Array;
}

export interface BootstrapSettings {
  /** Resamples; 0 gives NaN intervals. */
  readonly resamples: number;
  readonly seed: number;
  /** Coverage; default 0.95. */
  readonly confidence?: number;
}

/**
 * Percentile bootstrap over test items (and, with several rows, over seeds) of
 * mean over seeds of (mean over items of values[seed][item]). Items are paired across the rows:
 * a resample draws n_items item indices once and n_seeds row indices, and every drawn row reads the
 * same drawn items (the test set is the same for every seed). One row: the plain item bootstrap of
 * a mean. Quantiles as numpy.percentile's default (linear).
 */
export function pairedBootstrapInterval(rows: readonly Float64Array[], settings: BootstrapSettings): { low: number; high: number } {
  const nSeeds = rows.length;
  const nItems = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== nItems)) throw new RangeError(`pairedBootstrapInterval: rows differ in length (${rows.map((r) => r.length).join(', ')})`);
  if (settings.resamples === 0 || nItems === 0) return { low: NaN, high: NaN };
  const random = new SeededRandom(settings.seed);
  const items = new Int32Array(nItems);
  const stats = new Float64Array(settings.resamples);
  for (let b = 0; b < settings.resamples; b++) {
    for (let i = 0; i < nItems; i++) items[i] = random.int(nItems);
    let total = 0;
    for (let s = 0; s < nSeeds; s++) {
      // One seed is always itself: resampling a single row only reorders nothing.
      const row = rows[nSeeds === 1 ? 0 : random.int(nSeeds)]!;
      let sum = 0;
      for (let i = 0; i < nItems; i++) sum += row[items[i]!]!;
      total += sum / nItems;
    }
    stats[b] = total / nSeeds;
  }
  stats.sort();
  const tail = (1 - (settings.confidence ?? 0.95)) / 2;
  return { low: quantileLinear(stats, tail), high: quantileLinear(stats, 1 - tail) };
}

/** curves.csv's rows: each one's mean over items and its bootstrap interval over items, in input order. */
export function curveRows(scores: readonly ItemScores[], settings: BootstrapSettings): CurveRow[] {
  return scores.map(({ strategy, seed, budget, metric, values }) => {
    const { low, high } = pairedBootstrapInterval([values], settings);
    return { strategy, seed, budget, metric, value: mean(values), ciLow: low, ciHigh: high };
  });
}

/** One row of strategy_vs_random.csv. */
export interface RandomDifference {
  readonly strategy: string;
  readonly budget: number;
  readonly metric: string;
  /** Mean over seeds and test items of (strategy − random), paired by seed and item. */
  readonly diff: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly nItems: number;
  readonly nSeeds: number;
}

export const strategyVsRandomCsvColumns = ['strategy', 'budget', 'metric', 'diff', 'ci_low', 'ci_high', 'n_items', 'n_seeds'] as const;

/**
 * Each strategy's difference from `random` per budget and metric: per seed both have, the item-wise
 * difference of their metric, averaged over items and seeds, with the paired bootstrap interval
 * over test items and seeds (`pairedBootstrapInterval`). Sorted by strategy, budget, metric.
 */
export function differencesFromRandom(scores: readonly ItemScores[], settings: BootstrapSettings): RandomDifference[] {
  const key = (s: { strategy: string; seed: number; budget: number; metric: string }): string => `${s.strategy}\u0000${s.seed}\u0000${s.budget}\u0000${s.metric}`;
  const byKey = new Map(scores.map((s) => [key(s), s.values]));
  const groups = new Map<string, { strategy: string; budget: number; metric: string; rows: Float64Array[] }>();
  for (const s of scores) {
    if (s.strategy === 'random') continue;
    const random = byKey.get(key({ ...s, strategy: 'random' }));
    if (!random) continue;
    if (random.length !== s.values.length) throw new RangeError(`${s.strategy} and random were scored on ${s.values.length} and ${random.length} test items (seed ${s.seed}, budget ${s.budget})`);
    const groupKey = `${s.strategy}\u0000${s.budget}\u0000${s.metric}`;
    const group = groups.get(groupKey) ?? { strategy: s.strategy, budget: s.budget, metric: s.metric, rows: [] };
    group.rows.push(Float64Array.from(s.values, (v, i) => v - random[i]!));
    groups.set(groupKey, group);
  }
  return [...groups.values()]
    .map(({ strategy, budget, metric, rows }) => {
      const { low, high } = pairedBootstrapInterval(rows, settings);
      return { strategy, budget, metric, diff: mean(rows.map((r) => mean(r))), ciLow: low, ciHigh: high, nItems: rows[0]!.length, nSeeds: rows.length };
    })
    .sort((a, b) => a.strategy.localeCompare(b.strategy) || a.budget - b.budget || a.metric.localeCompare(b.metric));
}

export function strategyVsRandomCsv(rows: readonly RandomDifference[]): string {
  const lines = rows.map((r) => [r.strategy, r.budget, r.metric, formatNumber(r.diff), formatNumber(r.ciLow), formatNumber(r.ciHigh), r.nItems, r.nSeeds].join(','));
  return [strategyVsRandomCsvColumns.join(','), ...lines].join('\n') + '\n';
}

export interface CurvePoint {
  readonly strategy: string;
  readonly budget: number;
  readonly mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  readonly sd: number;
  readonly min: number;
  readonly max: number;
  readonly seeds: number;
}

/** Per strategy and budget: mean, sd, min and max over seeds of one metric (finite values only), by strategy then budget. */
export function summarizeCurves(rows: readonly CurveRow[], metric: string): CurvePoint[] {
  const groups = new Map<string, { strategy: string; budget: number; values: number[] }>();
  for (const r of rows) {
    if (r.metric !== metric || !Number.isFinite(r.value) || !Number.isFinite(r.budget)) continue;
    const key = `${r.strategy}\u0000${r.budget}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { strategy: r.strategy, budget: r.budget, values: [] }));
    group.values.push(r.value);
  }
  return [...groups.values()]
    .map(({ strategy, budget, values }) => {
      return { strategy, budget, mean: mean(values), sd: Math.sqrt(sampleVariance(values)), min: Math.min(...values), max: Math.max(...values), seeds: values.length };
    })
    .sort((a, b) => a.strategy.localeCompare(b.strategy) || a.budget - b.budget);
}

/** One row of acquisition_correlations.csv. */
export interface AcquisitionCorrelation {
  readonly strategy: string;
  readonly budget: number;
  readonly metric: string;
  readonly rho: number;
  readonly pValue: number;
  readonly n: number;
}

export const acquisitionCorrelationsCsvColumns = ['strategy', 'budget', 'metric', 'rho', 'p_value', 'n'] as const;

/**
 * Per strategy and budget: Spearman, over seeds, between the mean acquisition score of each
 * prompt's examples and that prompt's test performance. Per budget because scores and performance
 * both move with the budget (k-center's distances shrink as it grows), which would make a pooled ρ
 * a budget effect. A strategy × budget whose mean score is the same for every seed (random's 0, a
 * seed-free ranking's identical prompts) has nothing to correlate and gets no row, nor does one with
 * fewer than 3 seeds. A prompt with a non-finite score (a NaN statistic ranked by highest-first)
 * is left out of its cell rather than making its mean NaN.
 */
export function acquisitionCorrelations(selections: readonly SelectionRow[], curves: readonly CurveRow[], metric: string): AcquisitionCorrelation[] {
  const scores = new Map<string, number[]>();
  for (const s of selections) {
    const key = `${s.strategy}\u0000${s.seed}\u0000${s.budget}`;
    const list = scores.get(key);
    if (list) list.push(s.score);
    else scores.set(key, [s.score]);
  }
  const byCell = new Map<string, { strategy: string; budget: number; x: number[]; y: number[] }>();
  for (const c of curves) {
    if (c.metric !== metric) continue;
    const picked = scores.get(`${c.strategy}\u0000${c.seed}\u0000${c.budget}`);
    if (!picked || !picked.every(Number.isFinite)) continue;
    const key = `${c.strategy}\u0000${c.budget}`;
    let entry = byCell.get(key);
    if (!entry) byCell.set(key, (entry = { strategy: c.strategy, budget: c.budget, x: [], y: [] }));
    entry.x.push(mean(picked));
    entry.y.push(c.value);
  }
  return [...byCell.values()]
    .filter(({ x }) => x.length >= 3 && x.some((v) => v !== x[0]))
    .map(({ strategy, budget, x, y }) => {
      const { rho, p, n } = spearman(x, y);
      return { strategy, budget, metric, rho, pValue: p, n };
    });
}

export function acquisitionCorrelationsCsv(rows: readonly AcquisitionCorrelation[]): string {
  return [acquisitionCorrelationsCsvColumns.join(','), ...rows.map((r) => [r.strategy, r.budget, r.metric, formatNumber(r.rho), formatNumber(r.pValue), r.n].join(','))].join('\n') + '\n';
}
