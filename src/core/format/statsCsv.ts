// stats.csv: one row per example × layer × pooling, one column per statistic. The column list is
// a contract that pandas users and later phases rely on.
import type { MaskStrategy } from '../masks.js';
import { activationStatistics, poolings } from '../stats/activationStatistics.js';

/** `token_count`: the span's tokens, the same on every row of an example and mask (the length baseline). */
export const statsCsvColumns = ['example', 'layer', 'mask', 'pooling', 'token_count', ...activationStatistics] as const;

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

/** The rows of one example: values is [layer][pooling][statistic]; tokenCount is its span's length in tokens. */
export function statsCsvRows(example: number, mask: MaskStrategy, tokenCount: number, values: Float64Array): string {
  const perPooling = activationStatistics.length;
  const layers = values.length / (poolings.length * perPooling);
  let out = '';
  for (let layer = 0; layer < layers; layer++) {
    poolings.forEach((pooling, p) => {
      const base = (layer * poolings.length + p) * perPooling;
      const cells = Array.from(values.subarray(base, base + perPooling), formatNumber);
      out += `${example},${layer},${mask},${pooling},${tokenCount},${cells.join(',')}\n`;
    });
  }
  return out;
}
