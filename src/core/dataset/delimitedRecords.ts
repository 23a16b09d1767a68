// CSV and TSV with a header line, parsed by csv-parse (quoted delimiters, doubled quotes, newlines
// inside quotes). The file comes through readLines, which checks UTF-8 and line length and turns
// CRLF into LF (also inside quoted fields), so every "\n" the parser sees ends a line and each
// record's raw text says exactly which lines it spans. Records are taken in csv-parse's on_record
// hook, which runs synchronously inside write(): a later syntax error cannot lose them.
import { parse, type CsvError } from 'csv-parse';
import { DatasetError } from './datasetError.js';
import { describeByteSize, readLines, type LineReadOptions } from './lineReader.js';
import type { FieldLocation, SourceRecord } from './sourceRecord.js';

export interface DelimitedReadOptions extends LineReadOptions {
  /** Columns the header must have; a missing one is an error at line 1, not one per row. */
  readonly requiredColumns?: readonly string[];
}

interface ParsedRecord {
  readonly record: string[];
  readonly raw: string;
}

export async function* delimitedRecords(file: string, delimiter: ',' | '\t', options: DelimitedReadOptions): AsyncGenerator<SourceRecord> {
  const parsed: ParsedRecord[] = [];
  let failure: CsvError | undefined;
  const parser = parse({
    delimiter,
    record_delimiter: '\n',
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: options.maxLineBytes,
    // With `raw`, the hook is given { record, raw }, which csv-parse's types do not express.
    on_record: (record) => {
      parsed.push(record as unknown as ParsedRecord);
      return null;
    },
  });
  parser.on('error', (error: CsvError) => (failure ??= error));
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('error', () => resolve());
  });
  parser.resume();

  let nextLine = 1; // where the next record starts
  let header: string[] | undefined;
  let columnOf = new Map<string, number>();

  function* take(): Generator<SourceRecord> {
    for (const { record, raw } of parsed.splice(0)) {
      const line = nextLine;
      nextLine += countNewlines(raw);
      if (raw.trim() === '') continue;
      if (!header) {
        header = readHeader(record, raw, line);
        columnOf = new Map(header.map((name, k) => [name, k]));
        continue;
      }
      if (record.length !== header.length) {
        yield { line, problem: `expected ${header.length} fields as in the header, found ${record.length}` };
        continue;
      }
      const fields: Record<string, string> = {};
      for (let k = 0; k < header.length; k++) fields[header[k]!] = record[k]!;
      yield { line, fields, locate: (field) => fieldStarts(raw, delimiter, line)[columnOf.get(field) ?? 0] ?? { line } };
    }
  }

  function readHeader(record: string[], raw: string, line: number): string[] {
    // Stray spaces around names are invisible in a spreadsheet and would make "text" unfindable.
    const names = record.map((name) => name.trim());
    const seen = new Set<string>();
    for (const [k, name] of names.entries()) {
      if (seen.has(name)) throw new DatasetError(file, line, `column "${name}" appears twice in the header`, fieldStarts(raw, delimiter, line)[k]?.column);
      seen.add(name);
    }
    const missing = (options.requiredColumns ?? []).filter((name) => !seen.has(name));
    if (missing.length > 0) {
      throw new DatasetError(file, line, `no column ${missing.map((m) => `"${m}"`).join(', ')} in the header (it has ${names.join(', ')})`);
    }
    return names;
  }

  try {
    for await (const item of readLines(file, options)) {
      if ('problem' in item) throw new DatasetError(file, item.line, item.problem, item.column);
      parser.write(item.text.endsWith('\r') ? `${item.text.slice(0, -1)}\n` : `${item.text}\n`);
      yield* take();
      if (failure) break;
    }
    if (!failure) {
      parser.end();
      await ended;
    }
    yield* take();
    if (failure) throw csvProblem(file, failure, nextLine, delimiter, options.maxLineBytes);
    if (!header) throw new DatasetError(file, 0, 'empty file (expected a header line)');
  } finally {
    parser.destroy();
  }
}

function csvProblem(file: string, error: CsvError, recordLine: number, delimiter: string, maxLineBytes: number): DatasetError {
  const raw = typeof error.raw === 'string' ? error.raw : '';
  const field = typeof error.index === 'number' ? fieldStarts(raw, delimiter, recordLine)[error.index] : undefined;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new DatasetError(file, field?.line ?? recordLine, 'quoted field never closed (a missing \'"\'?)', field?.column);
    case 'CSV_MAX_RECORD_SIZE':
      return new DatasetError(file, recordLine, `record is longer than the ${describeByteSize(maxLineBytes)} limit (an unclosed quote?)`);
    default:
      return new DatasetError(file, typeof error.lines === 'number' ? error.lines : recordLine, error.message.replace(/ at line \d+/, ''), field?.column);
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** Where each field of a record's raw text starts (1-based line and column), for messages. */
function fieldStarts(raw: string, delimiter: string, firstLine: number): FieldLocation[] {
  const starts: FieldLocation[] = [{ line: firstLine, column: 1 }];
  let line = firstLine;
  let column = 1;
  let quoted = false;
  let atFieldStart = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quoted) {
      if (c === '"') {
        if (raw[i + 1] === '"') {
          i++;
          column++;
        } else quoted = false;
      }
    } else if (c === delimiter) {
      starts.push({ line, column: column + 1 });
      atFieldStart = true;
      column++;
      continue;
    } else if (c === '\n') {
      break;
    } else if (c === '"' && atFieldStart) {
      quoted = true;
    }
    atFieldStart = false;
    if (c === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return starts;
}
