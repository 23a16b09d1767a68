// stats.csv: one row per example × site × layer × pooling, one column per statistic. The column
// list is a contract that pandas users and later phases rely on.
import type { MaskStrategy } from '../masks.js';
import type { SiteName } from '../sites.js';
import { activationStatistics, poolings } from '../stats/activationStatistics.js';

/**
 * `site` sits just before `layer` (the two name one tensor, `blocks.{layer}.{site}`), so the
 * statistics stay the trailing block after `token_count`. `token_count`: the span's tokens, the
 * same on every row of an example and mask (the length baseline).
 */
export const statsCsvColumns = ['example', 'site', 'layer', 'mask', 'pooling', 'token_count', ...activationStatistics] as const;

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
