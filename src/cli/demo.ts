// `icl-lab demo`: the embedded default. Generates the demo model and dataset, then extracts MLP
// statistics under every mask and prints a headline table. Needs nothing but this package.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { demoRows } from '../core/demo/demoDataset.js';
import { maskStrategies, type MaskStrategy } from '../core/masks.js';
import { generateModel, type ModelOptions } from '../engine/gguf/modelGenerator.js';
import { runCorrelate } from './correlate.js';
import { runExtract } from './extract.js';
import { runQuality } from './quality.js';

/** Qwen2-shaped and small enough for two CPU cores; Q8_0 as real users' models usually are. */
export const demoModelOptions: Omit<ModelOptions, 'out'> = {
  arch: 'qwen2', layers: 4, embd: 128, ff: 384, heads: 4, kvHeads: 2, vocab: 'qwen2', type: 'q8_0', seed: 2026,
};
const demoExamples = 48;
const demoSeed = 7;
const demoPrefix = 'Decide whether each product review is positive or negative.';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('generate the demo model and dataset, extract activations under every mask, print a summary')
    .option('--out <dir>', 'folder for the demo files', 'icl-lab-demo')
    .option('--threads <n>', 'CPU threads (0: llama.cpp decides)', '0')
    .action(async (options: { out: string; threads: string }) => {
      process.exitCode = await runDemo(path.resolve(options.out), Number(options.threads));
    });
}

async function runDemo(out: string, threads: number): Promise<number> {
  await mkdir(out, { recursive: true });
  const modelFile = path.join(out, 'demo-model.gguf');
  if (!existsSync(modelFile)) {
    console.error(`generating the demo model → ${modelFile}`);
    await generateModel({ ...demoModelOptions, out: `${modelFile}.partial` });
    await rename(`${modelFile}.partial`, modelFile);
  }
  const dataFile = path.join(out, 'demo.jsonl');
  await writeFile(dataFile, demoRows(demoExamples, demoSeed).map((row) => JSON.stringify(row)).join('\n') + '\n');

  const summary: string[] = [];
  for (const mask of maskStrategies) {
    const statsFile = path.join(out, `stats-${mask}.csv`);
    const code = await runExtract({
      model: modelFile, data: dataFile, field: 'text', mask, prefix: demoPrefix, shots: 2, seed: demoSeed, exact: false,
      gpu: 'auto', out: statsFile, contextSize: 4096, batchSize: 512, maxSequences: 64, threads,
    });
    if (code !== 0) return code;
    summary.push(await headline(statsFile, mask));
  }
  // Example quality on the same rows: the ground truth the statistics are studied against.
  const qualityFile = path.join(out, 'quality.csv');
  const qualityCode = await runQuality({
    model: modelFile, data: dataFile, input: ['text'], target: 'label', task: 'classification',
    labels: [{ value: 'positive', verbalizer: 'positive' }, { value: 'negative', verbalizer: 'negative' }],
    probe: 8, test: 8, seed: demoSeed, lengthNormalize: false, maxTokens: 16, stop: ['\n'], skipBadRows: false,
    estimator: 'one-shot', shots: 2, out: qualityFile,
    gpu: 'auto', exact: false, contextSize: 4096, batchSize: 512, maxSequences: 64, threads,
  });
  if (qualityCode !== 0) return qualityCode;

  console.log('\nmask           layer with largest mean max_abs   mean max_abs   rows with massive_100 > 0');
  for (const line of summary) console.log(line);
  console.log(`\n${await qualityHeadline(qualityFile)}\n`);
  // The headline of the study: how well any activation statistic ranks the candidates by quality.
  const correlationsFile = path.join(out, 'correlations.csv');
  const correlateCode = await runCorrelate({
    stats: maskStrategies.map((mask) => path.join(out, `stats-${mask}.csv`)),
    quality: qualityFile,
    out: correlationsFile,
    bootstrap: 200,
    seed: demoSeed,
  });
  if (correlateCode !== 0) return correlateCode;

  console.log(`\nfiles in ${out}`);
  return 0;
}

/** One line per mask: where the largest activations are, from the pooled-over-all rows. */
async function headline(statsFile: string, mask: MaskStrategy): Promise<string> {
  const [header, ...rows] = (await readFile(statsFile, 'utf8')).trimEnd().split('\n');
  const columns = header!.split(',');
  const layerColumn = columns.indexOf('layer');
  const poolingColumn = columns.indexOf('pooling');
  const maxAbsColumn = columns.indexOf('max_abs');
  const massiveColumn = columns.indexOf('massive_100');
  const byLayer = new Map<number, { sum: number; n: number }>();
  let massiveRows = 0;
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[poolingColumn] !== 'all') continue;
    const layer = Number(cells[layerColumn]);
    const entry = byLayer.get(layer) ?? { sum: 0, n: 0 };
    entry.sum += Number(cells[maxAbsColumn]);
    entry.n++;
    byLayer.set(layer, entry);
    if (Number(cells[massiveColumn]) > 0) massiveRows++;
  }
  let best = { layer: -1, mean: -Infinity };
  for (const [layer, { sum, n }] of byLayer) if (sum / n > best.mean) best = { layer, mean: sum / n };
  return `${mask.padEnd(15)}${String(best.layer).padEnd(34)}${best.mean.toFixed(2).padEnd(15)}${massiveRows}`;
}

/** The spread of one-shot gains: how differently the candidates help. */
async function qualityHeadline(qualityFile: string): Promise<string> {
  const rows = (await readFile(qualityFile, 'utf8')).trimEnd().split('\n').slice(1).map((line) => line.split(','));
  const gains = rows.filter((cells) => cells[3] === 'gold_logprob').map((cells) => ({ example: cells[0]!, value: Number(cells[4]) }));
  gains.sort((a, b) => b.value - a.value);
  const best = gains[0]!;
  const worst = gains[gains.length - 1]!;
  return `one-shot gain in gold-label log-probability over ${gains.length} candidates: best example ${best.example} (${best.value.toFixed(3)}), worst example ${worst.example} (${worst.value.toFixed(3)})`;
}
