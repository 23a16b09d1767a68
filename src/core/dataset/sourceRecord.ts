// One data row as a file format reads it, before the dataset spec picks fields out of it. Problems
// that spoil only this row are values, so that skipping bad rows can go on past them; problems
// that spoil the rest of the file are thrown as DatasetError by the readers.
import { jsonSyntaxError } from './jsonSyntax.js';

export interface FieldLocation {
  readonly line: number;
  readonly column?: number;
}

export type SourceRecord =
  | {
      /** 1-based line where the row starts. */
      readonly line: number;
      readonly fields: Readonly<Record<string, unknown>>;
      /** Where a field's value is written, when the format can say. */
      readonly locate?: (field: string) => FieldLocation;
    }
  | { readonly line: number; readonly column?: number; readonly problem: string };

/**
 * A JSON value written at `line` (it may span lines) as a row: it must be an object. `column`, where
 * the value starts, is given when the line may hold more than this value (a JSON array).
 */
export function jsonRecord(text: string, line: number, column?: number): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const syntax = jsonSyntaxError(text);
    if (!syntax) return { line, problem: `malformed JSON (${(error as Error).message})` };
    const before = text.slice(0, syntax.offset);
    const newlines = before.split('\n').length - 1;
    const at = newlines === 0 ? { line, column: (column ?? 1) + syntax.offset } : { line: line + newlines, column: syntax.offset - before.lastIndexOf('\n') };
    return { ...at, problem: `malformed JSON: ${syntax.problem}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const problem = `expected a JSON object, found ${describeJsonValue(value)}`;
    return column === undefined ? { line, problem } : { line, column, problem };
  }
  const fields = value as Record<string, unknown>;
  return column === undefined ? { line, fields } : { line, fields, locate: () => ({ line, column }) };
}

/** "a string", "an array", "null"… for messages about a value of the wrong kind. */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}
