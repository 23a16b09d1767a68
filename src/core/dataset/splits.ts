// The three sets an experiment uses: the candidate pool demonstrations are chosen from, the probe
// (dev) set the choice is tuned on, and the test set it is judged on. They come from separate
// files, or from one file by a seeded split; either way the same seed gives the same rows.
import path from 'node:path';
import { SeededRandom } from '../random.js';
import type { DatasetRow, DatasetSpec, SkippedRow } from './datasetSpec.js';
import { loadDataset, type LoadOptions } from './loadDataset.js';

export const splitNames = ['pool', 'probe', 'test'] as const;
export type SplitName = (typeof splitNames)[number];

/** Row counts. `pool` absent: every row the probe and test sets leave. */
export interface SplitSizes {
  readonly pool?: number;
  readonly probe: number;
  readonly test: number;
}

/** Each set in file order (ascending row index). */
export type DatasetSplits = Readonly<Record<SplitName, DatasetRow[]>>;

export type SplitPlan =
  | { readonly from: 'one-file'; readonly data: DatasetSpec; readonly sizes: SplitSizes; readonly seed: number }
  | {
      readonly from: 'files';
      readonly pool: DatasetSpec;
      readonly probe: DatasetSpec;
      readonly test: DatasetSpec;
      /** Optional counts to sample from each file (default: all its rows). */
      readonly sizes?: Partial<Record<SplitName, number>>;
      readonly seed?: number;
    };

export interface LoadedSplits {
  readonly splits: DatasetSplits;
  /** Rows left out under `badRows: 'skip'`, with the file each came from. */
  readonly skipped: (SkippedRow & { readonly file: string })[];
}

/**
 * Disjoint pool, probe and test sets of `rows`, drawn from one seeded shuffle: the test set first,
 * then the probe set, then the pool, so a different pool or probe size never changes the test set.
 */
export function seededSplit(rows: readonly DatasetRow[], sizes: SplitSizes, seed: number): DatasetSplits {
  for (const name of splitNames) {
    const size = sizes[name];
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) throw new RangeError(`${name} size must be a whole number of rows, not ${size}`);
  }
  const pool = sizes.pool ?? rows.length - sizes.test - sizes.probe;
  const needed = sizes.test + sizes.probe + pool;
  if (pool < 0 || needed > rows.length) {
    throw new RangeError(`the split needs ${sizes.test} test + ${sizes.probe} probe + ${sizes.pool ?? 0} pool rows, but there are only ${rows.length}`);
  }
  const order = new SeededRandom(seed).sample(rows.length, needed);
  const pick = (from: number, count: number): DatasetRow[] =>
    order
      .slice(from, from + count)
      .sort((a, b) => a - b)
      .map((i) => rows[i]!);
  return { test: pick(0, sizes.test), probe: pick(sizes.test, sizes.probe), pool: pick(sizes.test + sizes.probe, pool) };
}

/** `count` rows of `rows` chosen by `seed`, in file order. */
export function seededSample(rows: readonly DatasetRow[], count: number, seed: number): DatasetRow[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`a sample size must be a whole number of rows, not ${count}`);
  if (count > rows.length) throw new RangeError(`cannot sample ${count} rows from ${rows.length}`);
  return new SeededRandom(seed)
    .sample(rows.length, count)
    .sort((a, b) => a - b)
    .map((i) => rows[i]!);
}

export async function loadSplits(plan: SplitPlan, options: LoadOptions = {}): Promise<LoadedSplits> {
  if (plan.from === 'one-file') {
    const { rows, skipped } = await loadDataset(plan.data, options);
    return { splits: seededSplit(rows, plan.sizes, plan.seed), skipped: skipped.map((s) => ({ ...s, file: plan.data.file })) };
  }
  const files = splitNames.map((name) => path.resolve(plan[name].file));
  for (const [i, a] of splitNames.entries()) {
    for (const b of splitNames.slice(i + 1)) {
      if (files[i] === path.resolve(plan[b].file)) {
        throw new Error(`the ${a} and ${b} sets name the same file (${plan[a].file}): they would overlap; split one file with a seed instead`);
      }
    }
  }
  const loaded = await Promise.all(splitNames.map((name) => loadDataset(plan[name], options)));
  const splits = Object.fromEntries(
    splitNames.map((name, i) => {
      const size = plan.sizes?.[name];
      const rows = loaded[i]!.rows;
      if (size !== undefined && size > rows.length) throw new RangeError(`cannot take ${size} ${name} rows from ${plan[name].file}: it has ${rows.length}`);
      return [name, size === undefined ? rows : seededSample(rows, size, plan.seed ?? 0)];
    }),
  ) as Record<SplitName, DatasetRow[]>;
  const skipped = splitNames.flatMap((name, i) => loaded[i]!.skipped.map((s) => ({ ...s, file: plan[name].file })));
  return { splits, skipped };
}
