// What a run's checkpoints were computed from, besides its config and model: the files it read (by
// sha256) and every example it resolved into pool, probe and test (row index, id and a digest of
// the row's content). run.json records them; --resume and merge compare them with the inputs of
// now and refuse any difference that would mix two computations in one folder.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DatasetRow } from '../dataset/datasetSpec.js';
import { sha256File } from '../format/fileDigest.js';

/** One file the run read. */
export interface InputFile {
  readonly file: string;
  readonly sha256: string;
}

/** One resolved example: [row index (the `example` key of every CSV), id, sha256 of its content (16 hex)]. */
export type ExampleDigest = readonly [index: number, id: string, digest: string];

export interface RunInputs {
  readonly data: InputFile;
  /** The human-labels sidecar (data.humanLabels), where the run reads one. */
  readonly humanLabels?: InputFile;
  /** The label → verbalizer map (data.verbalizers), where the run reads one. */
  readonly verbalizers?: InputFile;
  /** The template file; absent when the run uses the built-in template. */
  readonly template?: InputFile;
  readonly splits: { readonly pool: readonly ExampleDigest[]; readonly probe: readonly ExampleDigest[]; readonly test: readonly ExampleDigest[] };
}

/** sha256 (16 hex) of what the study reads of a row: its inputs, label and references. */
export function rowDigest(row: DatasetRow): string {
  const inputs = Object.keys(row.inputs)
    .sort()
    .map((key) => [key, row.inputs[key]]);
  return createHash('sha256')
    .update(JSON.stringify([inputs, row.label ?? null, row.references ?? null]))
    .digest('hex')
    .slice(0, 16);
}

export function exampleDigests(rows: readonly DatasetRow[]): ExampleDigest[] {
  return rows.map((row) => [row.index, row.id, rowDigest(row)]);
}

/**
 * Throws, naming the checkpoint, when a unit records other examples than the run expects in it
 * (rows edited, inserted or relabelled since it was written). Units written before units recorded
 * their examples (`recorded` undefined) pass: run.json's inputs are their only check.
 */
export function checkUnitExamples(recorded: readonly ExampleDigest[] | undefined, rows: readonly DatasetRow[], file: string): void {
  if (recorded === undefined) return;
  const expected = exampleDigests(rows);
  const bad = expected.findIndex((e, i) => recorded[i]?.[0] !== e[0] || recorded[i]?.[1] !== e[1] || recorded[i]?.[2] !== e[2]);
  if (bad === -1 && recorded.length === expected.length) return;
  const at = bad === -1 ? expected.length : bad;
  const was = recorded[at];
  const is = expected[at];
  throw new Error(
    `${file} was computed for other examples than this run's (at position ${at}: ${was ? `row ${was[0]} id ${JSON.stringify(was[1])}` : 'nothing'} then, ${is ? `row ${is[0]} id ${JSON.stringify(is[1])}` : 'nothing'} now${was && is && was[0] === is[0] && was[1] === is[1] ? ', its content changed' : ''}): ` +
      'the inputs changed under the run folder; start a new run folder',
  );
}

/** Each resolved example's file line by row index: what compareRunInputs names a changed row with. */
export function rowLinesOf(splits: RunInputSources['splits']): Map<number, number> {
  return new Map([...splits.pool, ...splits.probe, ...splits.test].map((row) => [row.index, row.line]));
}

export interface RunInputSources {
  readonly dataFile: string;
  readonly humanLabelsFile?: string | undefined;
  readonly verbalizersFile?: string | undefined;
  readonly templateFile?: string | undefined;
  readonly splits: { readonly pool: readonly DatasetRow[]; readonly probe: readonly DatasetRow[]; readonly test: readonly DatasetRow[] };
}

export async function runInputsOf(sources: RunInputSources): Promise<RunInputs> {
  const file = async (name: string): Promise<InputFile> => ({ file: name, sha256: await sha256File(name) });
  return {
    data: await file(sources.dataFile),
    ...(sources.humanLabelsFile ? { humanLabels: await file(sources.humanLabelsFile) } : {}),
    ...(sources.verbalizersFile ? { verbalizers: await file(sources.verbalizersFile) } : {}),
    ...(sources.templateFile ? { template: await file(sources.templateFile) } : {}),
    splits: { pool: exampleDigests(sources.splits.pool), probe: exampleDigests(sources.splits.probe), test: exampleDigests(sources.splits.test) },
  };
}

const short = (sha256: string): string => `${sha256.slice(0, 12)}…`;

function listed(items: readonly string[], most = 6): string {
  const shown = items.slice(0, most);
  const text = shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
  return items.length > most ? `${shown.join(', ')} and ${items.length - most} more` : text;
}

/**
 * What differs between the inputs a run recorded and those of now, one sentence each; empty when
 * the computation is the same. A data file whose bytes changed while every example the run uses
 * is unchanged (a row appended that no split takes) is not a difference: it is in `notes`.
 */
export function compareRunInputs(before: RunInputs, now: RunInputs, rowLines?: ReadonlyMap<number, number>): { differences: string[]; notes: string[] } {
  const differences: string[] = [];
  const notes: string[] = [];
  const name = (f: InputFile): string => path.basename(f.file);
  const files: [string, InputFile | undefined, InputFile | undefined][] = [
    ['data', before.data, now.data],
    ['human labels', before.humanLabels, now.humanLabels],
    ['verbalizers', before.verbalizers, now.verbalizers],
    ['template', before.template, now.template],
  ];
  const splitsDiffer: string[] = [];
  for (const split of ['pool', 'probe', 'test'] as const) {
    const was = before.splits[split];
    const is = now.splits[split];
    const wasByIndex = new Map(was.map((e) => [e[0], e]));
    const isByIndex = new Map(is.map((e) => [e[0], e]));
    const label = (e: ExampleDigest): string => {
      const line = rowLines?.get(e[0]);
      return `row ${e[0]} (id ${JSON.stringify(e[1])}${line === undefined ? '' : `, line ${line}`})`;
    };
    const changed = is.filter((e) => {
      const old = wasByIndex.get(e[0]);
      return old !== undefined && (old[1] !== e[1] || old[2] !== e[2]);
    });
    const added = is.filter((e) => !wasByIndex.has(e[0]));
    const removed = was.filter((e) => !isByIndex.has(e[0]));
    if (changed.length > 0) splitsDiffer.push(`${split}: ${listed(changed.map(label))} differ${changed.length === 1 ? 's' : ''}`);
    if (added.length > 0) splitsDiffer.push(`${split} now takes ${listed(added.map(label))}`);
    if (removed.length > 0) splitsDiffer.push(`${split} no longer takes ${listed(removed.map(label))}`);
    if (changed.length === 0 && added.length === 0 && removed.length === 0 && was.some((e, i) => is[i]?.[0] !== e[0])) splitsDiffer.push(`${split}: the same examples in another order`);
  }
  for (const [what, was, is] of files) {
    if (!was && !is) continue;
    if (!was || !is) {
      differences.push(`the run ${was ? `read ${what} from ${was.file}` : `read no ${what} file`}, now ${is ? `${is.file} is given` : 'none is'}`);
      continue;
    }
    if (was.sha256 === is.sha256) continue;
    const sentence = `${name(is)} changed since the run started (sha256 ${short(was.sha256)} → ${short(is.sha256)})`;
    // Data and labels only matter through the examples they resolve to.
    if ((what === 'data' || what === 'human labels') && splitsDiffer.length === 0) notes.push(`${sentence}, but none of the run's examples did`);
    else differences.push(sentence);
  }
  if (splitsDiffer.length > 0) differences.push(`the run's examples changed: ${splitsDiffer.join('; ')}`);
  return { differences, notes };
}
