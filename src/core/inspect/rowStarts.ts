// Where each data row of a file starts, by row index — every row, bad ones included, since a bad
// row keeps its index — so an editor position can be mapped to the row it falls in (a CSV record
// or a JSON array element may span lines).
import { datasetFormatOf, readSourceRecords, type DatasetFormat } from '../dataset/datasetFormat.js';
import { defaultMaxLineBytes } from '../dataset/lineReader.js';

/** 1-based start line of each row, by row index. */
export async function readRowStarts(file: string, format: DatasetFormat = datasetFormatOf(file)): Promise<number[]> {
  const starts: number[] = [];
  for await (const record of readSourceRecords(file, format, { maxLineBytes: defaultMaxLineBytes, requiredFields: [] })) starts.push(record.line);
  return starts;
}

/** The index of the row whose lines hold 1-based `line` (from its start up to the next row's), or undefined before the first row. */
export function rowAtLine(starts: readonly number[], line: number): number | undefined {
  let low = 0;
  let high = starts.length - 1;
  let found: number | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (starts[mid]! <= line) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

/** Indices of the rows touching 1-based lines `first`..`last` (an editor selection): the row holding `first` and every row starting up to `last`. */
export function rowsInLines(starts: readonly number[], first: number, last: number): number[] {
  const from = rowAtLine(starts, first) ?? 0;
  const rows: number[] = [];
  for (let index = from; index < starts.length && starts[index]! <= last; index++) rows.push(index);
  return rows;
}
