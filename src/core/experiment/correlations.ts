// The study's question in numbers: for every mask × layer × statistic × pooling, how well does the
// activation statistic rank the candidates by example quality (each estimator × metric)?
// Spearman's ρ with scipy's p-value, a seeded bootstrap interval, and Benjamini–Hochberg q-values
// across the whole grid.
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { formatNumber } from '../format/statsCsv.js';
import { activationStatistics } from '../stats/activationStatistics.js';
import { benjaminiHochberg } from '../stats/benjaminiHochberg.js';
import { bootstrapSpearmanInterval } from '../stats/bootstrap.js';
import { spearman } from '../stats/spearman.js';

export const correlationsCsvColumns = [
  'mask', 'layer', 'statistic', 'pooling', 'estimator', 'metric', 'rho', 'p_value', 'q_value', 'ci_low', 'ci_high', 'n',
] as const;

/** Where a correlation sits in the grid: mask × layer × statistic × pooling × estimator × metric. */
export type CorrelationCell = Pick<CorrelationRow, 'mask' | 'layer' | 'statistic' | 'pooling' | 'estimator' | 'metric'>;

export interface CorrelationRow {
  readonly mask: string;
  readonly layer: number;
  readonly statistic: string;
  readonly pooling: string;
  readonly estimator: string;
  readonly metric: string;
  readonly rho: number;
  readonly pValue: number;
  readonly qValue: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly n: number;
}

/** Every statistic but top_dim, which names a dimension: ranking by it means nothing. */
export const correlatedStatistics = activationStatistics.filter((s) => s !== 'top_dim');



/** statistic value by `mask|layer|pooling|statistic`, then example. */
export async function readStatsCsv(files: readonly string[]): Promise<Map<string, Map<number, number>>> {
  const cells = new Map<string, Map<number, number>>();
  for (const file of files) {
    for (const row of await readCsvTable(file)) {
      for (const statistic of correlatedStatistics) {
        const key = `${row['mask']}|${row['layer']}|${row['pooling']}|${statistic}`;
        let byExample = cells.get(key);
        if (!byExample) cells.set(key, (byExample = new Map()));
        byExample.set(Number(row['example']), numberCell(row[statistic]!));
      }
    }
  }
  return cells;
}

/** quality value by `estimator|metric`, then example. */
export async function readQualityCsv(file: string): Promise<Map<string, Map<number, number>>> {
  return qualityByCell((await readCsvTable(file)).map((row) => ({ example: Number(row['example']), estimator: row['estimator']!, metric: row['metric']!, value: numberCell(row['value']!) })));
}

/** Quality rows by `estimator|metric`, then example: what `correlate` takes. */
export function qualityByCell(rows: readonly { readonly example: number; readonly estimator: string; readonly metric: string; readonly value: number }[]): Map<string, Map<number, number>> {
  const cells = new Map<string, Map<number, number>>();
  for (const row of rows) {
    const key = `${row.estimator}|${row.metric}`;
    let byExample = cells.get(key);
    if (!byExample) cells.set(key, (byExample = new Map()));
    byExample.set(row.example, row.value);
  }
  return cells;
}

export interface CorrelationOptions {
  readonly bootstrapResamples: number;
  readonly seed: number;
  /** Called after each grid cell (the bootstrap makes the whole grid take a while). */
  readonly onProgress?: (done: number, total: number) => void;
}

export function correlate(
  stats: ReadonlyMap<string, ReadonlyMap<number, number>>,
  quality: ReadonlyMap<string, ReadonlyMap<number, number>>,
  options: CorrelationOptions,
): CorrelationRow[] {
  const partial: Omit<CorrelationRow, 'qValue'>[] = [];
  const total = stats.size * quality.size;
  for (const [statKey, statByExample] of stats) {
    const [mask, layer, pooling, statistic] = statKey.split('|') as [string, string, string, string];
    for (const [qualityKey, qualityByExample] of quality) {
      const [estimator, metric] = qualityKey.split('|') as [string, string];
      const x: number[] = [];
      const y: number[] = [];
      for (const [example, value] of statByExample) {
        const q = qualityByExample.get(example);
        if (q !== undefined && Number.isFinite(value) && Number.isFinite(q)) {
          x.push(value);
          y.push(q);
        }
      }
      const { rho, p, n } = spearman(x, y);
      const interval = options.bootstrapResamples > 0 && Number.isFinite(rho)
        ? bootstrapSpearmanInterval(x, y, { resamples: options.bootstrapResamples, seed: options.seed })
        : { lower: NaN, upper: NaN };
      partial.push({ mask, layer: Number(layer), statistic, pooling, estimator, metric, rho, pValue: p, ciLow: interval.lower, ciHigh: interval.upper, n });
      options.onProgress?.(partial.length, total);
    }
  }
  const q = benjaminiHochberg(partial.map((row) => row.pValue));
  return partial.map((row, i) => ({ ...row, qValue: q[i]! }));
}

export function correlationsCsv(rows: readonly CorrelationRow[]): string {
  const lines = rows.map((r) =>
    [r.mask, r.layer, r.statistic, r.pooling, r.estimator, r.metric, formatNumber(r.rho), formatNumber(r.pValue), formatNumber(r.qValue), formatNumber(r.ciLow), formatNumber(r.ciHigh), r.n].join(','),
  );
  return [correlationsCsvColumns.join(','), ...lines].join('\n') + '\n';
}

/** The headline, as in the paper: the largest |ρ| in the grid, with its place. */
export function strongestCorrelation(rows: readonly CorrelationRow[]): CorrelationRow | undefined {
  let best: CorrelationRow | undefined;
  for (const row of rows) if (Number.isFinite(row.rho) && (!best || Math.abs(row.rho) > Math.abs(best.rho))) best = row;
  return best;
}

export function describeCorrelation(row: CorrelationRow): string {
  return (
    `largest |ρ| = ${Math.abs(row.rho).toFixed(3)} (ρ = ${row.rho.toFixed(3)}, 95% CI ${row.ciLow.toFixed(2)}..${row.ciHigh.toFixed(2)}, ` +
    `p = ${row.pValue.toPrecision(3)}, q = ${row.qValue.toPrecision(3)}, n = ${row.n}) at mask ${row.mask}, layer ${row.layer}, ` +
    `${row.statistic} (${row.pooling}) vs ${row.estimator} ${row.metric}`
  );
}
