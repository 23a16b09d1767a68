// `icl-lab demo`: the embedded default. Generates the demo model and a demo dataset the project
// writes itself, writes a run configuration next to them, and runs the whole study on it: the
// same `icl-lab run` a user runs on their own model and data. Needs nothing but this package.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { demoRows } from '../core/demo/demoDataset.js';
import { generateModel, type ModelOptions } from '../engine/gguf/modelGenerator.js';
import { nonNegativeInteger } from './optionParsers.js';
import { runRunCommand } from './run.js';

/** Qwen2-shaped and small enough for two CPU cores; Q8_0 as real users' models usually are. */
export const demoModelOptions: Omit<ModelOptions, 'out'> = {
  arch: 'qwen2', layers: 4, embd: 128, ff: 384, heads: 4, kvHeads: 2, vocab: 'qwen2', type: 'q8_0', seed: 2026,
};
const demoSeed = 7;
const demoSplit = { test: 32, probe: 16, pool: 48 };

/** The demo's run configuration: every mask, strategy and statistic, at a size two CPU cores finish in minutes. */
export function demoRunConfig(threads: number): Record<string, unknown> {
  return {
    model: 'demo-model.gguf',
    data: { file: 'demo.jsonl', inputs: ['text'], id: 'id', target: 'label', task: 'classification', labels: { positive: 'positive', negative: 'negative' } },
    split: demoSplit,
    instruction: 'Decide whether each product review is positive or negative.',
    masks: ['isolated', 'shared-prefix', 'in-context'],
    inContextShots: 2,
    quality: { estimator: 'one-shot' },
    selection: {
      strategies: ['random', 'label-balanced-random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'adaicl', 'kate', 'bm25', 'top-quality'],
      budgets: [2, 4, 8, 16],
      rounds: 2,
      seeds: [0, 1, 2],
    },
    correlation: { bootstrap: 200 },
    seed: demoSeed,
    engine: { threads },
  };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('generate the demo model and dataset and run the whole study on them (icl-lab run), printing the headline table')
    .option('--out <dir>', 'folder for the demo files; the run folder is <dir>/run', 'icl-lab-demo')
    .option('--threads <n>', 'CPU threads (0: llama.cpp decides)', nonNegativeInteger, 0)
    .option('--no-report', 'skip report.html and figures/')
    .option('--no-run', 'only write the model, the dataset and demo.run.yaml (the extension runs it itself)')
    .action(async (options: { out: string; threads: number; report: boolean; run: boolean }) => {
      process.exitCode = await runDemo(path.resolve(options.out), options.threads, options.report, options.run);
    });
}

export async function runDemo(out: string, threads: number, report = true, run = true): Promise<number> {
  await mkdir(out, { recursive: true });
  const modelFile = path.join(out, 'demo-model.gguf');
  if (!existsSync(modelFile)) {
    console.error(`generating the demo model → ${modelFile}`);
    await generateModel({ ...demoModelOptions, out: `${modelFile}.partial` });
    await rename(`${modelFile}.partial`, modelFile);
  }
  const rows = demoSplit.test + demoSplit.probe + demoSplit.pool;
  await writeFile(path.join(out, 'demo.jsonl'), demoRows(rows, demoSeed).map((row) => JSON.stringify(row)).join('\n') + '\n');
  const configFile = path.join(out, 'demo.run.yaml');
  await writeFile(configFile, `# The demo study; edit and re-run with: icl-lab run ${configFile} --out DIR\n${stringify(demoRunConfig(threads))}`);
  if (!run) {
    console.log(configFile);
    return 0;
  }
  const runDir = path.join(out, 'run');
  // A second demo reuses every finished unit (and finishes an interrupted one).
  const resume = existsSync(path.join(runDir, 'run.json'));
  return runRunCommand(configFile, { out: runDir, resume, report });
}
