// The file formats a dataset can come in, told apart by extension unless named.
import path from 'node:path';
import { DatasetError } from './datasetError.js';
import { delimitedRecords } from './delimitedRecords.js';
import { jsonArrayRecords } from './jsonArrayRecords.js';
import { jsonlRecords } from './jsonlRecords.js';
import type { LineReadOptions } from './lineReader.js';
import type { SourceRecord } from './sourceRecord.js';

export const datasetFormats = ['jsonl', 'json', 'csv', 'tsv'] as const;
export type DatasetFormat = (typeof datasetFormats)[number];

const formatOfExtension: Readonly<Record<string, DatasetFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

/** The format `file`'s extension names; a DatasetError when it names none. */
export function datasetFormatOf(file: string): DatasetFormat {
  const format = formatOfExtension[path.extname(file).toLowerCase()];
  if (!format) {
    throw new DatasetError(file, 0, `cannot tell the format from the extension (use .jsonl, .json, .csv or .tsv, or name the format: ${datasetFormats.join(', ')})`);
  }
  return format;
}

export interface SourceReadOptions extends LineReadOptions {
  /** Fields every row needs; CSV and TSV check their header for them once. */
  readonly requiredFields?: readonly string[];
}

/** The file's data rows in order, each an object of fields or a problem spoiling that row alone. */
export function readSourceRecords(file: string, format: DatasetFormat, options: SourceReadOptions): AsyncGenerator<SourceRecord> {
  switch (format) {
    case 'jsonl':
      return jsonlRecords(file, options);
    case 'json':
      return jsonArrayRecords(file, options);
    case 'csv':
    case 'tsv':
      return delimitedRecords(file, format === 'csv' ? ',' : '\t', { maxLineBytes: options.maxLineBytes, requiredColumns: options.requiredFields ?? [] });
  }
}
