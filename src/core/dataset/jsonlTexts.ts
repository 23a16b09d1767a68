// Reads one text field from a JSON Lines file, streamed. Blank lines are skipped but still
// counted, so the line numbers in errors match the editor's.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DatasetError } from './datasetError.js';

export interface TextRow {
  /** 0-based index among the file's rows: the `example` key of stats.csv. */
  readonly example: number;
  /** 1-based line in the file. */
  readonly line: number;
  readonly text: string;
}

export async function readJsonlTexts(file: string, field: string): Promise<TextRow[]> {
  const rows: TextRow[] = [];
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(new DatasetError(file, 0, error.code === 'ENOENT' ? 'file not found' : error.message)),
    );
  });
  await opened;
  let line = 0;
  for await (const raw of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DatasetError(file, line, `malformed JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DatasetError(file, line, 'expected a JSON object');
    }
    const fieldValue = (value as Record<string, unknown>)[field];
    if (fieldValue === undefined) throw new DatasetError(file, line, `missing field "${field}"`);
    if (typeof fieldValue !== 'string') throw new DatasetError(file, line, `field "${field}" is not a string`);
    if (fieldValue.trim() === '') throw new DatasetError(file, line, `field "${field}" is empty`);
    rows.push({ example: rows.length, line, text: fieldValue });
  }
  return rows;
}
