// Human labels kept beside a data file, never in it: `<data file>.labels.jsonl`, one line per
// labelling act, `{"id": "17", "label": "1", "round": 2, "labelledAt": "2026-…"}`. The file only
// ever grows: a label is one appended line (a new line for the same id relabels it, `"label": null`
// takes the label back), so no write can lose an earlier label. Each line goes out in one write
// call and is flushed to disk before the promise settles; a line torn by a crash is not JSON, is
// skipped (and reported) when read, and the next append starts on a fresh line.
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';

/** One line of the sidecar. `label` is the label's value (as the data writes it, e.g. "1"), null: unlabelled again. */
export interface LabelEntry {
  readonly id: string;
  readonly label: string | null;
  /** The labelling round it was given in (0: outside any proposed round). */
  readonly round: number;
  /** ISO 8601 time. */
  readonly labelledAt: string;
}

/** A sidecar line as read back, with where it is. */
export interface LabelRecord extends LabelEntry {
  /** 1-based line in the sidecar. */
  readonly line: number;
}

/** A label in force: the last line of its id, not taken back. */
export type HumanLabel = LabelRecord & { readonly label: string };

export interface LabelSidecar {
  readonly file: string;
  /** Every valid line, in file order. */
  readonly entries: readonly LabelRecord[];
  /** The current label of each id: its last line (labels taken back are left out). */
  readonly labels: ReadonlyMap<string, HumanLabel>;
  /** Lines left out: `torn` (not JSON: a write cut short by a crash), or `invalid` (JSON, but not a label entry). */
  readonly problems: readonly { readonly line: number; readonly kind: 'torn' | 'invalid'; readonly problem: string }[];
}

/** The sidecar of a data file: the data file's own name with `.labels.jsonl` after it. */
export function labelSidecarPath(dataFile: string): string {
  return `${dataFile}.labels.jsonl`;
}

/** The sidecar's lines, checked; an absent file holds no labels. */
export async function readLabelSidecar(file: string): Promise<LabelSidecar> {
  if (!existsSync(file)) return { file, entries: [], labels: new Map(), problems: [] };
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  const entries: LabelRecord[] = [];
  const problems: { line: number; kind: 'torn' | 'invalid'; problem: string }[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const body = raw.replace(/\r$/, '');
    if (body.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      // Only the last line, unterminated, can be a write a crash cut short; any other is not a label record.
      const cutShort = i === lines.length - 1;
      problems.push(
        cutShort
          ? { line, kind: 'torn', problem: 'not a JSON line (a write cut short by a crash?)' }
          : { line, kind: 'invalid', problem: 'not a label record: each line must be one JSON object {"id": …, "label": …}' },
      );
      return;
    }
    const entry = labelEntryOf(value);
    if (typeof entry === 'string') problems.push({ line, kind: 'invalid', problem: entry });
    else entries.push({ ...entry, line });
  });
  const labels = new Map<string, HumanLabel>();
  for (const entry of entries) {
    if (entry.label === null) labels.delete(entry.id);
    else labels.set(entry.id, { ...entry, label: entry.label });
  }
  return { file, entries, labels, problems };
}

/** A parsed line as an entry, or what is wrong with it. */
function labelEntryOf(value: unknown): LabelEntry | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const fields = value as Record<string, unknown>;
  const id = fields['id'];
  if (!((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)))) return '"id" must be a non-empty string or a number';
  const label = fields['label'];
  if (!(label === null || (typeof label === 'string' && label.trim() !== '') || (typeof label === 'number' && Number.isFinite(label)) || typeof label === 'boolean')) {
    return `"label" must be a non-empty string, a number or null (id ${JSON.stringify(String(id))})`;
  }
  const round = fields['round'] ?? 0;
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 0) return `"round" must be a whole number ≥ 0 (id ${JSON.stringify(String(id))})`;
  const labelledAt = fields['labelledAt'] ?? '';
  if (typeof labelledAt !== 'string') return `"labelledAt" must be a string (id ${JSON.stringify(String(id))})`;
  return { id: String(id), label: label === null ? null : String(label), round, labelledAt };
}

/**
 * Appends one label (or a take-back, `label: null`) to the sidecar, creating it if need be. The
 * line is written with one call in append mode and synced to disk before this settles; a line cut
 * short by an earlier crash is fenced off with a line break first, so it cannot spoil this one.
 */
export async function appendLabel(file: string, entry: LabelEntry): Promise<void> {
  const checked = labelEntryOf(entry);
  if (typeof checked === 'string') throw new Error(`${file}: cannot write this label: ${checked}`);
  const line = JSON.stringify({ id: checked.id, label: checked.label, round: checked.round, labelledAt: checked.labelledAt }) + '\n';
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let fence = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) fence = '\n';
    }
    await handle.write(fence + line);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
