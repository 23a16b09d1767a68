// The words a model answers for each label (the verbalizers: 0 → negative): pre-filled from a
// `labels.json` beside the data (the shared datasets' format, see core/dataset/labelSet.ts), written
// and read as one line `0=negative,1=positive`. No vscode import: tested with mocha.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ClassLabel } from '../../core/dataset/datasetSpec.js';
import { parseLabelList, readLabelsFile } from '../../core/dataset/labelSet.js';

/** `labels.json` beside the data file, when there is one and it reads; undefined otherwise. */
export async function labelsBeside(dataFile: string): Promise<{ file: string; labels: ClassLabel[] } | undefined> {
  const file = path.join(path.dirname(dataFile), 'labels.json');
  if (!existsSync(file)) return undefined;
  const labels = await readLabelsFile(file).catch(() => undefined);
  return labels ? { file, labels } : undefined;
}

/** The one-line form: `0=negative,1=positive`; a label that is its own word is written alone. */
export function labelWordsText(labels: readonly ClassLabel[]): string {
  return labels.map((l) => (l.value === l.verbalizer ? l.value : `${l.value}=${l.verbalizer}`)).join(',');
}

/** The words for `values` (the labels the data holds): from `known` where it names them, else the value itself. */
export function defaultLabelWords(values: readonly string[], known: readonly ClassLabel[] | undefined): ClassLabel[] {
  return values.map((value) => ({ value, verbalizer: known?.find((l) => l.value === value)?.verbalizer ?? value }));
}

/**
 * Parses the user's answer and checks it names every label the data holds (and no other): the
 * message says what is wrong, for an input box's validation.
 */
export function parseLabelWords(text: string, values: readonly string[]): { labels: ClassLabel[] } | { problem: string } {
  let labels: ClassLabel[];
  try {
    labels = parseLabelList(text);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const missing = values.filter((v) => !labels.some((l) => l.value === v));
  if (missing.length > 0) return { problem: `give a word for ${missing.map((m) => `"${m}"`).join(', ')} too (the data holds ${missing.length === 1 ? 'it' : 'them'})` };
  const unknown = labels.filter((l) => !values.includes(l.value));
  if (unknown.length > 0) return { problem: `the data holds no label ${unknown.map((l) => `"${l.value}"`).join(', ')}` };
  const words = labels.map((l) => l.verbalizer);
  const twice = words.find((w, i) => words.indexOf(w) !== i);
  if (twice !== undefined) return { problem: `"${twice}" is the word of two labels: the model's answer would not tell them apart` };
  return { labels };
}
