// Sparse-autoencoder features as an acquisition signal, on the real catalogue models (issue 13):
// `icl-lab run` with `sae:` on SST-2 and GSM8K from ../shared/datasets, then, per run, what the SAE
// is (variance explained, L0, dead latents, loss recovered, training time and tokens/s) and what it
// gives the study (the largest |ρ| of an SAE signal beside the raw MLP statistics' and the length
// baseline's, the strongest partial ρ given length, and sae-coverage / sae-diverse against random
// with their paired intervals). Each run folder is kept and resumed, so an interrupted bench
// continues where it stopped.
//
// Usage: npm run bench:sae [-- --model smollm2-135m|gemma3-270m|all] [--dataset sst2,gsm8k]
//        [--out DIR] [--sae-tokens N] [--epochs N]
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { runRunCommand } from '../src/cli/run.js';
import { lengthStatistic } from '../src/core/experiment/correlations.js';
import type { RunRecord } from '../src/core/experiment/runExperiment.js';
import type { SaeRecord } from '../src/core/experiment/saePhase.js';
import { readCsvTable } from '../src/core/format/csvTable.js';
import { cpuSmallPreset, sharedDatasets, type ReproduceDataset } from '../src/core/reproduce/presets.js';
import { cellRunConfig, mergeStudy, readLabelsJson } from '../src/core/reproduce/reproducePlan.js';
import { cachedCatalogModel } from '../src/engine/modelCache.js';
import { packageRoot } from '../src/engine/packageRoot.js';
import { describeCpu, printTable, sharedDatasetsDir } from './benchSupport.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m' },
    dataset: { type: 'string', default: 'sst2,gsm8k' },
    out: { type: 'string', default: path.join(packageRoot(), '.icl-lab', 'bench-sae') },
    'sae-tokens': { type: 'string', default: '20000' },
    epochs: { type: 'string', default: '3' },
  },
});
const models = args.model === 'all' ? ['smollm2-135m', 'gemma3-270m'] : args.model!.split(',');
const datasets = args.dataset!.split(',').map((name) => {
  const d = sharedDatasets.find((s) => s.name === name);
  if (!d) throw new Error(`--dataset ${name}: not one of ${sharedDatasets.map((s) => s.name).join(', ')}`);
  return d;
});
const saeTokens = Number(args['sae-tokens']);
const epochs = Number(args.epochs);

// The unlabelled text the SAE also trains on: rows of another split of the same dataset (never
// the rows the run draws from), one text per line, as many as make about `saeTokens` tokens.
const extraTextSource: Readonly<Record<string, { file: string; field: string }>> = {
  sst2: { file: 'sst2/train.jsonl', field: 'text' },
  gsm8k: { file: 'gsm8k/test.jsonl', field: 'question' },
  nq_open: { file: 'nq_open/train.jsonl', field: 'question' },
  ag_news: { file: 'ag_news/train.jsonl', field: 'text' },
};

async function extraTextFile(dataset: ReproduceDataset, out: string): Promise<string | undefined> {
  const source = extraTextSource[dataset.name];
  if (!source || !existsSync(path.join(sharedDatasetsDir(), source.file))) return undefined;
  const lines: string[] = [];
  let words = 0;
  for (const line of (await readFile(path.join(sharedDatasetsDir(), source.file), 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const text = String((JSON.parse(line) as Record<string, unknown>)[source.field] ?? '').replace(/\s+/g, ' ').trim();
    if (text === '') continue;
    lines.push(text);
    // ~1.3 tokens a word for these tokenizers; the run's sae.maxTokens caps the exact count.
    words += text.split(' ').length;
    if (words * 1.3 >= saeTokens) break;
  }
  const file = path.join(out, `${dataset.name}-unlabelled.txt`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

type Row = Readonly<Record<string, string>>;

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

/** The cell with the largest |ρ| among rows passing `keep`. */
function strongest(rows: readonly Row[], keep: (r: Row) => boolean, column = 'rho'): Row | undefined {
  let best: Row | undefined;
  for (const r of rows) {
    if (!keep(r)) continue;
    const v = Math.abs(Number(r[column]));
    if (Number.isFinite(v) && (!best || v > Math.abs(Number(best[column])))) best = r;
  }
  return best;
}

const describe = (r: Row | undefined, column = 'rho'): string =>
  r ? `${fmt(Math.abs(Number(r[column])))} (L${r['layer']} ${r['statistic']} ${r['pooling']}${column === 'partial_rho' ? `, q ${fmt(Number(r['partial_q_value']), 3)}` : `, q ${fmt(Number(r['q_value']), 3)}`})` : '—';

async function main(): Promise<void> {
  if (!existsSync(sharedDatasetsDir())) {
    console.log(`skipped: ${sharedDatasetsDir()} is absent`);
    return;
  }
  const out = path.resolve(args.out!);
  await mkdir(out, { recursive: true });
  console.log(`bench:sae on ${describeCpu()}; SAE data: the pool's spans + ~${saeTokens} tokens of unlabelled text, ${epochs} epochs`);
  const summaries: { model: string; dataset: string; dir: string }[] = [];
  for (const modelId of models) {
    const modelFile = await cachedCatalogModel(modelId);
    for (const dataset of datasets) {
      const dir = path.join(out, modelId, dataset.name);
      await mkdir(path.dirname(dir), { recursive: true });
      const text = await extraTextFile(dataset, path.dirname(dir));
      const labels = dataset.labelsJson ? await readLabelsJson(path.join(sharedDatasetsDir(), dataset.labelsJson)) : undefined;
      const preset = {
        ...cpuSmallPreset,
        study: mergeStudy(cpuSmallPreset.study, {
          split: { test: 20, probe: 12, pool: 80 },
          masks: ['isolated'],
          selection: { strategies: ['random', 'highest-first', 'k-center-greedy', 'sae-coverage', 'sae-diverse', 'top-quality'], budgets: [4, 8], rounds: 1, seeds: [0, 1, 2] },
          sae: { epochs, maxTokens: saeTokens, ...(text ? { text } : {}) },
        }),
      };
      const config = cellRunConfig(preset, { key: `${modelId}/${dataset.name}`, model: { id: modelId }, dataset, index: 0 }, { modelFile, datasetsDir: sharedDatasetsDir(), ...(labels ? { labels } : {}) });
      const configFile = `${dir}.run.yaml`;
      await writeFile(configFile, `# bench:sae, ${modelId} × ${dataset.name}\n${stringify(config)}`);
      console.log(`\n=== ${modelId} × ${dataset.name} (${dir})`);
      const code = await runRunCommand(configFile, { out: dir, resume: existsSync(path.join(dir, 'run.json')), report: false });
      if (code !== 0) {
        console.error(`${modelId} × ${dataset.name}: icl-lab run exited ${code}`);
        process.exitCode = code;
        continue;
      }
      summaries.push({ model: modelId, dataset: dataset.name, dir });
    }
  }

  console.log('\nThe autoencoders (mlp_out, middle layer; held-out tokens; training on this machine):');
  const saeRows: string[][] = [];
  const studyRows: string[][] = [];
  const strategyRows: string[][] = [];
  let allZero = 0;
  for (const { model, dataset, dir } of summaries) {
    const sae = JSON.parse(await readFile(path.join(dir, 'sae', 'sae.json'), 'utf8')) as SaeRecord;
    const e = sae.evaluation;
    const loss = e.nextTokenLoss;
    saeRows.push([
      `${model} × ${dataset}`,
      `L${sae.layer} ${sae.settings.latents}/${sae.settings.k}`,
      String(e.trainTokens),
      fmt(e.varianceExplained),
      fmt(e.l0, 1),
      String(e.deadLatents),
      `${fmt(e.lossRecovered)} (${fmt(loss.clean, 2)}/${fmt(loss.reconstructed, 2)}/${fmt(loss.zeroAblated, 2)})`,
      `${fmt(e.trainingMs / 1000, 1)} s`,
      fmt(e.tokensPerSecond, 0),
    ]);
    const correlations = await readCsvTable(path.join(dir, 'correlations.csv'), ['site', 'statistic', 'rho', 'partial_rho']);
    const isLength = (r: Row): boolean => r['statistic'] === lengthStatistic;
    const saeBest = strongest(correlations, (r) => r['site'] === 'sae');
    const rawBest = strongest(correlations, (r) => r['site'] !== 'sae' && !isLength(r));
    const lengthBest = strongest(correlations, isLength);
    const saePartial = strongest(correlations, (r) => r['site'] === 'sae' && !isLength(r), 'partial_rho');
    const run = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
    const ceiling = run.headline?.byMask[0]?.ceiling ?? NaN;
    studyRows.push([`${model} × ${dataset}`, describe(saeBest), describe(rawBest), lengthBest ? fmt(Math.abs(Number(lengthBest['rho']))) : '—', describe(saePartial, 'partial_rho'), fmt(ceiling, 2)]);
    for (const r of await readCsvTable(path.join(dir, 'strategy_vs_random.csv'), ['strategy', 'budget', 'metric', 'diff', 'ci_low', 'ci_high'])) {
      if (!['sae-coverage', 'sae-diverse', 'k-center-greedy', 'highest-first'].includes(r['strategy']!)) continue;
      // A metric every strategy scores 0 on (GSM8K's exact match for a 135M model) says nothing.
      if ([r['diff'], r['ci_low'], r['ci_high']].every((v) => Number(v) === 0)) {
        allZero++;
        continue;
      }
      const excludesZero = Number(r['ci_low']) > 0 || Number(r['ci_high']) < 0;
      strategyRows.push([`${model} × ${dataset}`, r['strategy']!, r['budget']!, r['metric']!, `${Number(r['diff']) >= 0 ? '+' : ''}${fmt(Number(r['diff']))} [${fmt(Number(r['ci_low']))}, ${fmt(Number(r['ci_high']))}]${excludesZero ? ' *' : ''}`]);
    }
  }
  printTable(['run', 'SAE', 'train tokens', 'var. explained', 'L0', 'dead', 'loss recovered (clean/SAE/zero)', 'training', 'tok/s'], saeRows);
  console.log('\nThe correlation grid (isolated mask): largest |ρ| by kind of signal, BH q over the whole grid');
  printTable(['run', 'best SAE signal', 'best raw MLP statistic', 'length |ρ|', 'best SAE partial ρ | length', 'ceiling'], studyRows);
  console.log('\nStrategies against random (paired 95% interval over test items and seeds; * excludes zero):');
  printTable(['run', 'strategy', 'budget', 'metric', 'difference from random'], strategyRows);
  if (allZero > 0) console.log(`(${allZero} rows left out: difference and interval exactly 0, a metric no strategy moved)`);
}

await main();
