// The headline of a run: per mask and overall, the largest |ρ| of an activation statistic over the
// grid, with what it takes to read it — the length baseline of the same cell (token count vs the
// same quality measure under the same mask) and the partial ρ controlling for length, the noise
// ceiling of the quality measure (split-half reliability), and the winner's-curse-aware interval
// of the maximum (bootstrap re-selecting the maximum cell) with its family-wise p (permutation null).
import { maxAbsSpearman, overallGroup, type MaxCell } from '../stats/maxStatisticBootstrap.js';
import { splitHalfReliability, type SplitHalfReliability } from '../stats/reliability.js';
import { lengthCorrelation, parseStatsCellKey, strongestCorrelation, type CorrelationRow } from './correlations.js';

/** A headline cell: its correlations.csv row and what it is read against (absent in older run.json files). */
export interface HeadlineRow extends CorrelationRow {
  /** ρ of token count with the same quality measure under the same mask (the length baseline). */
  readonly lengthRho?: number;
  /** Split-half reliability (Spearman–Brown) of the quality measure, and the ceiling sqrt(R) on |ρ|. */
  readonly reliability?: number;
  readonly ceiling?: number;
  /** Percentile interval of the largest |ρ| over bootstrap resamples, the maximum re-selected in each. */
  readonly maxCiLow?: number;
  readonly maxCiHigh?: number;
  /** Family-wise p of the largest |ρ| under the permutation null of the maximum. */
  readonly familywiseP?: number;
  /** Grid cells the maximum is taken over. */
  readonly cells?: number;
}

export interface Headline {
  byMask: HeadlineRow[];
  overall?: HeadlineRow;
}

export interface HeadlineOptions {
  /** Bootstrap resamples of the maximum (0: no interval). */
  readonly maxResamples: number;
  /** Permutations for the family-wise p (0: none). */
  readonly permutations: number;
  readonly seed: number;
}

/** Split-half reliability of every quality measure (`estimator|metric`) from its per-half values. */
export function qualityReliability(rows: readonly { readonly estimator: string; readonly metric: string; readonly halfA: number; readonly halfB: number }[]): Map<string, SplitHalfReliability> {
  const halves = new Map<string, { a: number[]; b: number[] }>();
  for (const r of rows) {
    const key = `${r.estimator}|${r.metric}`;
    let h = halves.get(key);
    if (!h) halves.set(key, (h = { a: [], b: [] }));
    h.a.push(r.halfA);
    h.b.push(r.halfB);
  }
  return new Map([...halves].map(([key, { a, b }]) => [key, splitHalfReliability(a, b)]));
}

/**
 * The headline per mask (in `masks` order) and overall. `stats` and `quality` are the grid's inputs
 * as correlate took them (statsCellKey and `estimator|metric`, then example): the maximum is taken
 * over every mask × site × layer × pooling × statistic × quality cell.
 */
export function buildHeadline(
  rows: readonly CorrelationRow[],
  stats: ReadonlyMap<string, ReadonlyMap<number, number>>,
  quality: ReadonlyMap<string, ReadonlyMap<number, number>>,
  reliability: ReadonlyMap<string, SplitHalfReliability>,
  masks: readonly string[],
  options: HeadlineOptions,
): Headline {
  // Candidates: every example with a quality value; missing statistic values are NaN.
  const examples = [...new Set([...quality.values()].flatMap((byExample) => [...byExample.keys()]))].sort((a, b) => a - b);
  const aligned = (byExample: ReadonlyMap<number, number>): Float64Array => Float64Array.from(examples, (e) => byExample.get(e) ?? NaN);
  const qualityArrays = new Map([...quality].map(([key, byExample]) => [key, aligned(byExample)]));
  const cells: MaxCell[] = [];
  const cellsPerGroup = new Map<string, number>();
  for (const [key, byExample] of stats) {
    const { mask } = parseStatsCellKey(key);
    const x = aligned(byExample);
    for (const y of qualityArrays.values()) cells.push({ group: mask, x, y });
    cellsPerGroup.set(mask, (cellsPerGroup.get(mask) ?? 0) + qualityArrays.size);
  }
  const maxima = maxAbsSpearman(cells, { resamples: options.maxResamples, permutations: options.permutations, seed: options.seed });
  const annotate = (row: CorrelationRow | undefined, group: string): HeadlineRow | undefined => {
    if (!row) return undefined;
    const length = lengthCorrelation(rows, row);
    const measure = reliability.get(`${row.estimator}|${row.metric}`);
    const max = maxima.get(group);
    return {
      ...row,
      ...(length ? { lengthRho: length.rho } : {}),
      ...(measure ? { reliability: measure.reliability, ceiling: measure.ceiling } : {}),
      ...(max ? { maxCiLow: max.lower, maxCiHigh: max.upper, familywiseP: max.familywiseP } : {}),
      cells: group === overallGroup ? cells.length : (cellsPerGroup.get(group) ?? 0),
    };
  };
  const byMask = masks.map((mask) => annotate(strongestCorrelation(rows.filter((r) => r.mask === mask)), mask)).filter((r): r is HeadlineRow => r !== undefined);
  const overall = annotate(strongestCorrelation(rows), overallGroup);
  return { byMask, ...(overall ? { overall } : {}) };
}

/** Whether |ρ| exceeds the length baseline's |ρ|; undefined without a baseline. */
export function beatsLength(row: HeadlineRow): boolean | undefined {
  if (typeof row.lengthRho !== 'number' || Number.isNaN(row.lengthRho)) return undefined;
  return Math.abs(row.rho) > Math.abs(row.lengthRho);
}

/** `site resid_post, ` (headlines in run.json files from before sites have none). */
const siteClause = (row: { readonly site?: string }): string => (row.site ? `site ${row.site}, ` : '');

// run.json stores NaN and ±Infinity as null (JSON has neither): a headline read back may hold null.
const fixed = (v: number | null | undefined, digits: number): string => (typeof v !== 'number' || Number.isNaN(v) ? 'nan' : v.toFixed(digits));
const precise = (v: number | null | undefined): string => (typeof v !== 'number' || Number.isNaN(v) ? 'nan' : v.toPrecision(3));

/** The headline in one line: the cell, its intervals, the length baseline, the partial ρ and the noise ceiling. */
export function describeCorrelation(row: HeadlineRow): string {
  const parts = [
    `largest |ρ| = ${fixed(Math.abs(row.rho), 3)} (ρ = ${fixed(row.rho, 3)}, 95% CI ${fixed(row.ciLow, 2)}..${fixed(row.ciHigh, 2)}, ` +
      `p = ${precise(row.pValue)}, q = ${precise(row.qValue)}, n = ${row.n}) at mask ${row.mask}, ${siteClause(row)}layer ${row.layer}, ` +
      `${row.statistic} (${row.pooling}) vs ${row.estimator} ${row.metric}`,
  ];
  if (row.maxCiLow !== undefined) {
    parts.push(`max-aware 95% CI of the largest |ρ| (basic bootstrap, corrected for selection) ${fixed(row.maxCiLow, 2)}..${fixed(row.maxCiHigh, 2)} over ${row.cells} cells, family-wise p = ${precise(row.familywiseP)}`);
  }
  const beats = beatsLength(row);
  if (beats !== undefined) parts.push(`length ρ = ${fixed(row.lengthRho, 3)} (${beats ? 'beats length' : 'does not beat length'})`);
  if (typeof row.partialRho === 'number' && !Number.isNaN(row.partialRho)) {
    parts.push(`partial ρ given length = ${fixed(row.partialRho, 3)} (p = ${precise(row.partialPValue)}, q = ${precise(row.partialQValue)})`);
  }
  if (row.ceiling !== undefined) parts.push(`noise ceiling |ρ| ≤ ${fixed(row.ceiling, 2)} (split-half reliability ${fixed(row.reliability, 2)})`);
  return parts.join('; ');
}
