// Reading the lab's own CSV files back (stats.csv, quality.csv, correlations.csv, curves.csv, …):
// rows as objects, checked for the columns a reader needs, numbers as formatNumber wrote them.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** A CSV file's rows as objects; an error naming the file when it does not parse or lacks a column. */
export async function readCsvTable(file: string, columns: readonly string[] = []): Promise<Record<string, string>[]> {
  const text = await readFile(file, 'utf8');
  try {
    return parse(text, {
      skip_empty_lines: true,
      columns: (header: string[]) => {
        const missing = columns.filter((c) => !header.includes(c));
        if (missing.length > 0) throw new Error(`missing column(s) ${missing.join(', ')}`);
        return header;
      },
    }) as Record<string, string>[];
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** A numeric cell: nan, inf and -inf as formatNumber writes them (and pandas reads them); empty is NaN. */
export function numberCell(text: string | undefined): number {
  if (text === undefined || text.trim() === '' || text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}
