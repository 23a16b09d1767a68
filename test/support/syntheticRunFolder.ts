// A small finished run folder written from scratch (no model): a data file of made-up rows, a
// template, run.json with a resolved config, stats.csv, quality.csv, selections.csv and the
// checkpoints holding pooled vectors, with values chosen so tests can say what each should be.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRow } from '../../src/core/dataset/datasetSpec.js';
import { parseRunConfig, runConfigToJson, type RunConfig } from '../../src/core/experiment/runConfig.js';
import { prepareRun, type RunRecord } from '../../src/core/experiment/runExperiment.js';
import type { DatasetSplits } from '../../src/core/dataset/splits.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';

export const syntheticTemplate = ['@instruction', 'Sort the notes.', '', '@demonstration', 'Note: {{text}}', 'Kind: {{answer}}', '', '@separator', '\\n---\\n', '', '@query', 'Note: {{text}}', '', '@answer-prefix', '\\nKind:', ''].join('\n');

export const syntheticLabels = { '0': 'low', '1': 'high' } as const;

export interface SyntheticRun {
  readonly dir: string;
  readonly dataFile: string;
  readonly config: RunConfig;
  readonly splits: DatasetSplits;
  /** The value written for `statistic` of `example` at `layer` under the isolated mask, site mlp_out, pooling all. */
  readonly statValue: (example: number, layer: number, statistic: string) => number;
  /** Pool positions each selection holds, in order, with rounds. */
  readonly selections: readonly { strategy: string; seed: number; budget: number; picks: readonly { position: number; round: number }[] }[];
}

export const syntheticLayers = 4;

/** `rows` made-up rows `{"id": "r<i>", "text": "note <i> …", "label": 0|1}`. */
export function syntheticRows(rows: number): string {
  return Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, text: `note ${i} with ${'x'.repeat(i % 3)} marks`, label: i % 2 })).join('\n') + '\n';
}

/** Pool position p's vector: the unit vector at p × 20°; test position q's: at 45° + q × 90°. */
export const poolAngle = (p: number): number => p * 20;
export const testAngle = (q: number): number => 45 + q * 90;
const unit = (degrees: number): number[] => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];

export async function writeSyntheticRun(root: string, name = 'run-a', options: { rows?: number } = {}): Promise<SyntheticRun> {
  const work = path.join(root, name + '-data');
  await mkdir(work, { recursive: true });
  const dataFile = path.join(work, 'notes.jsonl');
  await writeFile(dataFile, syntheticRows(options.rows ?? 12));
  await writeFile(path.join(work, 'notes.icl.tmpl'), syntheticTemplate);
  const config = parseRunConfig(
    [
      'model: tiny.gguf',
      'data: { file: notes.jsonl, inputs: [text], id: id, target: label, labels: { "0": low, "1": high } }',
      'template: notes.icl.tmpl',
      'split: { test: 3, probe: 2 }',
      'sites: [mlp_out, resid_post]',
      'selection:',
      '  strategies: [random, highest-first, kate]',
      '  budgets: [2]',
      '  rounds: 2',
      '  seeds: [0, 1]',
      '  statistic: { mask: isolated, layer: middle, statistic: kurtosis, pooling: all }',
    ].join('\n'),
    path.join(work, 'study.run.yaml'),
  );
  const { splits } = await prepareRun(config);
  const dir = path.join(root, name);
  await mkdir(path.join(dir, 'checkpoints'), { recursive: true });

  const statValue = (example: number, layer: number, statistic: string): number => example * 10 + layer + activationStatistics.indexOf(statistic as never) / 100;
  // Every other mask, pooling and site holds other values: a reader mixing them up reads wrong numbers.
  let stats = ['example', 'site', 'layer', 'mask', 'pooling', ...activationStatistics].join(',') + '\n';
  for (const site of ['mlp_out', 'resid_post']) {
    for (const mask of ['isolated', 'shared-prefix']) {
      for (const row of splits.pool) {
        for (let layer = 0; layer < syntheticLayers; layer++) {
          for (const pooling of poolings) {
            const offset = (mask === 'isolated' && pooling === 'all' ? 0 : 1000) + (site === 'mlp_out' ? 0 : 5000);
            stats += `${row.index},${site},${layer},${mask},${pooling},${activationStatistics.map((s) => statValue(row.index, layer, s) + offset).join(',')}\n`;
          }
        }
      }
    }
  }
  await writeFile(path.join(dir, 'stats.csv'), stats);

  let quality = 'example,id,estimator,metric,value,stderr,n_prompts\n';
  for (const row of splits.pool) quality += `${row.index},${row.id},one-shot,accuracy,0.5,0.1,2\n${row.index},${row.id},one-shot,gold_logprob,${row.index / 100},0.01,2\n`;
  await writeFile(path.join(dir, 'quality.csv'), quality);

  const selections = [
    { strategy: 'random', seed: 0, budget: 2, picks: [{ position: 3, round: 1 }, { position: 0, round: 2 }] },
    { strategy: 'random', seed: 1, budget: 2, picks: [{ position: 1, round: 1 }, { position: 3, round: 2 }] },
    { strategy: 'highest-first', seed: 0, budget: 2, picks: [{ position: splits.pool.length - 1, round: 1 }, { position: splits.pool.length - 2, round: 2 }] },
    { strategy: 'highest-first', seed: 1, budget: 2, picks: [{ position: splits.pool.length - 1, round: 1 }, { position: splits.pool.length - 2, round: 2 }] },
  ];
  let csv = 'strategy,seed,budget,round,example,id,score\n';
  for (const s of selections) for (const p of s.picks) csv += `${s.strategy},${s.seed},${s.budget},${p.round},${splits.pool[p.position]!.index},${splits.pool[p.position]!.id},${p.position / 10}\n`;
  await writeFile(path.join(dir, 'selections.csv'), csv);

  // Vectors in chunks of 16, as the run writes them.
  // Where today's default embedding (selection.vectorSite resid_post) keeps the pool's vectors.
  await writeFile(path.join(dir, 'checkpoints', 'extract-resid_post-isolated-0.json'), JSON.stringify({ site: 'resid_post', stats: '', vectors: splits.pool.map((_, p) => unit(poolAngle(p))) }) + '\n');
  await writeFile(path.join(dir, 'checkpoints', 'extract-test-0.json'), JSON.stringify({ stats: '', vectors: splits.test.map((_, q) => unit(testAngle(q))) }) + '\n');

  // Started "after" the template was written, so the preview has no changed-template warning.
  const record: RunRecord = {
    format: 'icl-lab-run/1',
    status: 'complete',
    startedAt: new Date(Date.now() + 60_000).toISOString(),
    finishedAt: new Date(Date.now() + 60_000).toISOString(),
    pid: 1,
    seed: 0,
    config: runConfigToJson(config),
    model: { path: config.model, architecture: 'llama', layers: syntheticLayers, embeddingLength: 2, quantization: 'f32', fileBytes: 0, sha256: '' },
    data: { file: dataFile, pool: splits.pool.length, probe: splits.probe.length, test: splits.test.length },
    versions: {},
    phases: {},
  };
  await writeFile(path.join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
  return { dir, dataFile, config, splits, statValue, selections };
}

/** The text the template gives a demonstration of `row`. */
export function demonstrationText(row: DatasetRow): string {
  return `Note: ${row.inputs['text']}\nKind: ${syntheticLabels[row.label as '0' | '1']}`;
}
