// The wizard's look at a dataset before its first question: every row the file's format cannot
// read (`bad.jsonl:3:84: malformed JSON …`), found in one pass, and — when the user chooses to skip
// them — a copy of the file without them. No vscode import: tested with mocha.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { datasetFormatOf, readSourceRecords } from '../../core/dataset/datasetFormat.js';
import { defaultMaxLineBytes } from '../../core/dataset/lineReader.js';

export interface BadRow {
  /** 1-based, as editors and error messages count. */
  readonly line: number;
  readonly column?: number;
  readonly problem: string;
}

export interface DatasetCheck {
  readonly rows: number;
  readonly badRows: readonly BadRow[];
  /** A problem that spoils the whole file (unreadable, a broken header): nothing can be skipped. */
  readonly fatal?: string;
}

/** Reads every row of `file` once, keeping the rows its format cannot read. */
export async function checkDataset(file: string): Promise<DatasetCheck> {
  const badRows: BadRow[] = [];
  let rows = 0;
  try {
    for await (const record of readSourceRecords(file, datasetFormatOf(file), { maxLineBytes: defaultMaxLineBytes })) {
      if ('problem' in record) badRows.push({ line: record.line, ...(record.column !== undefined ? { column: record.column } : {}), problem: record.problem });
      else rows++;
    }
  } catch (error) {
    return { rows, badRows, fatal: (error as Error).message };
  }
  return { rows, badRows };
}

/** `file:line[:column]: problem`, as the CLI prints a DatasetError. */
export function describeBadRow(file: string, row: BadRow): string {
  return `${file}:${row.line}${row.column !== undefined ? `:${row.column}` : ''}: ${row.problem}`;
}

/** Where the copy without bad rows goes: `<stem>.good-rows.jsonl` beside the file. */
export function goodRowsFile(file: string): string {
  return path.join(path.dirname(file), `${path.basename(file).replace(/\.[^.]+$/, '')}.good-rows.jsonl`);
}

/**
 * Writes the rows `file` can read, one JSON object a line, to `out` (the original stays as it is).
 * Returns how many rows were written and left out.
 */
export async function writeGoodRows(file: string, out: string): Promise<{ written: number; leftOut: number }> {
  const stream = createWriteStream(out);
  let written = 0;
  let leftOut = 0;
  try {
    for await (const record of readSourceRecords(file, datasetFormatOf(file), { maxLineBytes: defaultMaxLineBytes })) {
      if ('problem' in record) {
        leftOut++;
        continue;
      }
      if (!stream.write(JSON.stringify(record.fields) + '\n')) await once(stream, 'drain');
      written++;
    }
  } finally {
    stream.end();
    await once(stream, 'finish');
  }
  return { written, leftOut };
}
