// A chart's data as CSV: the export every panel offers next to SVG and PNG. Numbers as the run
// folder's own CSVs write them (formatNumber: nan, inf), text quoted by RFC 4180 as csvCell in
// src/core/format/csvTable.ts quotes it (that module reads files, so the webviews cannot bundle it).
import { formatNumber } from '../../src/core/format/statsCsv.js';

export type CsvValue = string | number | boolean | null | undefined;

export function csvValue(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line of `columns`, then one line per row (columns a row lacks are empty). */
export function toCsv(columns: readonly string[], rows: readonly Readonly<Record<string, CsvValue>>[]): string {
  return [columns.map(csvValue).join(','), ...rows.map((row) => columns.map((c) => csvValue(row[c])).join(','))].join('\n') + '\n';
}
