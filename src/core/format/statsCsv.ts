// stats.csv: one row per example × site × layer × pooling, one column per statistic. The column
// list is a contract that pandas users and later phases rely on.
import type { MaskStrategy } from '../masks.js';
import type { DerivedSiteName, SiteName } from '../sites.js';
import { activationStatistics, poolings } from '../stats/activationStatistics.js';

/**
 * `site` sits just before `layer` (the two name one tensor, `blocks.{layer}.{site}`), so the
 * statistics stay the trailing block after `token_count`. `token_count`: the span's tokens, the
 * same on every row of an example and mask (the length baseline).
 */
export const statsCsvColumns = ['example', 'site', 'layer', 'mask', 'pooling', 'token_count', ...activationStatistics] as const;

/** The columns that say where a row's values come from; every later column is a statistic. */
export const statsIndexColumns = ['example', 'site', 'layer', 'mask', 'pooling', 'token_count'] as const;

/** The site of stats.csv and correlations.csv rows written before the `site` column existed: every one read the MLP output. */
export const siteOfUnlabelledRows: SiteName = 'mlp_out';

/** A stats.csv row's site: its `site` cell, or the MLP output in files from before the column. */
export function statsRowSite(row: Readonly<Record<string, string | undefined>>): string {
  return row['site'] ?? siteOfUnlabelledRows;
}

export function statsCsvHeader(): string {
  return statsCsvColumns.join(',') + '\n';
}

/** Shortest round-trip decimal; nan/inf/-inf as pandas and numpy read them. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** RFC 4180 quoting for a free-text cell (ids, names); no file access, so the webviews bundle it too. */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows of one example at one site: values is [layer][pooling][statistic]; tokenCount is its span's length in tokens. */
export function statsCsvRows(example: number, site: SiteName, mask: MaskStrategy, tokenCount: number, values: Float64Array): string {
  const perPooling = activationStatistics.length;
  const layers = values.length / (poolings.length * perPooling);
  let out = '';
  for (let layer = 0; layer < layers; layer++) {
    poolings.forEach((pooling, p) => {
      const base = (layer * poolings.length + p) * perPooling;
      const cells = Array.from(values.subarray(base, base + perPooling), formatNumber);
      out += `${example},${site},${layer},${mask},${pooling},${tokenCount},${cells.join(',')}\n`;
    });
  }
  return out;
}

/** One row of a derived site (src/core/sites.ts: statistics computed from a tensor site's activations, e.g. `sae`). */
export interface DerivedStatsRow {
  readonly example: number;
  readonly layer: number;
  readonly mask: MaskStrategy;
  readonly pooling: string;
  readonly tokenCount: number;
  /** One value per column of `columns`, in order. */
  readonly values: readonly number[];
}

/**
 * stats.csv with a derived site's rows: its statistics are columns appended after the activation
 * statistics, empty on every other row, and its rows leave the activation statistics empty (an
 * empty cell: the statistic does not apply; `nan`: it applies and is undefined). Any earlier rows
 * and columns of derived sites are replaced, so writing it again gives the same bytes.
 */
export function statsCsvWithDerivedSite(csv: string, site: DerivedSiteName, columns: readonly string[], rows: readonly DerivedStatsRow[]): string {
  const lines = csv.split('\n').filter((line) => line !== '');
  const header = lines[0]?.split(',') ?? [];
  if (statsCsvColumns.some((column, i) => header[i] !== column)) throw new Error(`stats.csv: its header (${lines[0] ?? 'none'}) does not start with ${statsCsvColumns.join(',')}; rebuild it with \`icl-lab run --resume\``);
  const kept = statsCsvColumns.length;
  const clash = columns.find((c) => (statsCsvColumns as readonly string[]).includes(c));
  if (clash) throw new Error(`stats.csv: the ${site} statistic ${clash} has the name of a column it already has`);
  const empty = ','.repeat(columns.length);
  let out = [...statsCsvColumns, ...columns].join(',') + '\n';
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[1] === site) continue;
    out += cells.slice(0, kept).join(',') + empty + '\n';
  }
  const noActivationStatistics = ','.repeat(activationStatistics.length);
  for (const r of rows) {
    if (r.values.length !== columns.length) throw new Error(`stats.csv: a ${site} row has ${r.values.length} values for ${columns.length} columns`);
    out += `${r.example},${site},${r.layer},${r.mask},${r.pooling},${r.tokenCount}${noActivationStatistics},${r.values.map(formatNumber).join(',')}\n`;
  }
  return out;
}
