// Label sets with their verbalizers, written on a command line (`0=negative,1=positive`, or
// `yes,no` where each label is its own verbalizer) or in a labels file: a JSON object mapping each
// label value to its readable name, as the shared datasets' labels.json files do.
import { readFile } from 'node:fs/promises';
import { DatasetError } from './datasetError.js';
import type { ClassLabel } from './datasetSpec.js';
import { describeJsonValue } from './sourceRecord.js';

/**
 * `0=negative,1=positive` or `a,b,c`. Entries are trimmed; a verbalizer holding a comma, or
 * leading or trailing spaces, needs a labels file. Throws an Error saying what is wrong.
 */
export function parseLabelList(text: string): ClassLabel[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error('empty label in the list (write labels as 0=negative,1=positive or a,b,c)');
  const withVerbalizer = entries.filter((entry) => entry.includes('='));
  if (withVerbalizer.length > 0 && withVerbalizer.length < entries.length) {
    throw new Error('give a verbalizer for every label (0=negative,1=positive) or for none (a,b,c)');
  }
  return entries.map((entry) => {
    const equals = entry.indexOf('=');
    if (equals === -1) return { value: entry, verbalizer: entry };
    const value = entry.slice(0, equals).trim();
    const verbalizer = entry.slice(equals + 1).trim();
    if (value === '' || verbalizer === '') throw new Error(`"${entry}" needs a label and a verbalizer on either side of "="`);
    return { value, verbalizer };
  });
}

/** A labels file: `{"0": "negative", "1": "positive"}`, in JavaScript's key order (integer-like labels ascending, then as written). */
export async function readLabelsFile(file: string): Promise<ClassLabel[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(file, 0, code === 'ENOENT' ? 'file not found' : (error as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new DatasetError(file, 0, `malformed JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DatasetError(file, 0, `expected a JSON object mapping each label to its name, found ${describeJsonValue(value)}`);
  }
  const labels = Object.entries(value as Record<string, unknown>).map(([label, name]) => {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new DatasetError(file, 0, `label "${label}" needs a non-empty name, found ${describeJsonValue(name)}`);
    }
    return { value: label, verbalizer: name };
  });
  if (labels.length === 0) throw new DatasetError(file, 0, 'no labels in the file');
  return labels;
}
