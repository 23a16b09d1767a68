// A chart's data as CSV: the export every panel offers next to SVG and PNG, written as the run
// folder's own CSVs are (formatNumber: nan, inf; csvCell: RFC 4180 quoting).
import { csvCell, formatNumber } from '../../src/core/format/statsCsv.js';

export type CsvValue = string | number | boolean | null | undefined;

export function csvValue(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  return csvCell(String(value));
}

/** A header line of `columns`, then one line per row (columns a row lacks are empty). */
export function toCsv(columns: readonly string[], rows: readonly Readonly<Record<string, CsvValue>>[]): string {
  return [columns.map(csvValue).join(','), ...rows.map((row) => columns.map((c) => csvValue(row[c])).join(','))].join('\n') + '\n';
}
