// The study on real data: `icl-lab run` on SST-2 and AG News from ../shared/datasets with a
// generated model, each in a fresh run folder, then the wall time of every phase and the headline
// table side by side. Usage: npm run bench:study [-- CONFIG...] (default: bench/studies/*.run.yaml).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runRunCommand } from '../src/cli/run.js';
import { loadRunConfig } from '../src/core/experiment/runConfig.js';
import type { RunRecord } from '../src/core/experiment/runExperiment.js';
import { summarizeCurves } from '../src/core/experiment/learningCurves.js';
import { readCurvesCsv } from '../src/core/report/runFolderFiles.js';
import { generateModel, MODEL_GENERATOR_VERSION, type ModelOptions } from '../src/engine/gguf/modelGenerator.js';
import { packageRoot } from '../src/engine/packageRoot.js';
import { sharedDatasetsDir } from './benchSupport.js';

/** Qwen2-shaped, 8 layers of width 256: small enough for the whole grid on two CPU cores. */
const studyModel: Omit<ModelOptions, 'out'> = { arch: 'qwen2', layers: 8, embd: 256, ff: 768, heads: 4, kvHeads: 2, vocab: 'qwen2', type: 'q8_0', seed: 1 };

/** The config's model, generated when missing or made by another generator version. */
async function ensureModel(file: string): Promise<void> {
  const stamp = `${file}.generator`;
  const wanted = JSON.stringify({ version: MODEL_GENERATOR_VERSION, ...studyModel });
  if (existsSync(file) && existsSync(stamp) && (await readFile(stamp, 'utf8')) === wanted) return;
  await mkdir(path.dirname(file), { recursive: true });
  console.log(`generating ${file}…`);
  await generateModel({ ...studyModel, out: `${file}.partial` });
  await rename(`${file}.partial`, file);
  await writeFile(stamp, wanted);
}

const studiesDir = path.join(packageRoot(), 'bench', 'studies');
const configs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : (await readdir(studiesDir)).filter((f) => f.endsWith('.run.yaml')).sort().map((f) => path.join(studiesDir, f));
if (!existsSync(sharedDatasetsDir())) {
  console.log(`skipped: ${sharedDatasetsDir()} is absent (the studies read SST-2 and AG News from it)`);
  process.exit(0);
}

const results: { name: string; record: RunRecord; wallMs: number; out: string }[] = [];
for (const configFile of configs) {
  const config = await loadRunConfig(configFile);
  await ensureModel(config.model);
  const name = path.basename(configFile, '.run.yaml');
  const out = path.join(packageRoot(), '.icl-lab', 'studies', name);
  await rm(out, { recursive: true, force: true });
  console.log(`\n=== ${name}: ${config.data.file}`);
  const started = performance.now();
  const code = await runRunCommand(configFile, { out, resume: false, report: true });
  if (code !== 0) process.exit(code);
  results.push({ name, out, record: JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as RunRecord, wallMs: performance.now() - started });
}

const phases = ['extract', 'quality', 'correlate', 'select', 'evaluate', 'report'] as const;
console.log(`\nwall time per phase (s)  ${results.map((r) => r.name.padStart(10)).join('')}`);
for (const phase of phases) console.log(`${phase.padEnd(25)}${results.map((r) => ((r.record.phases[phase]?.wallMs ?? NaN) / 1000).toFixed(1).padStart(10)).join('')}`);
console.log(`${'total (with model load)'.padEnd(25)}${results.map((r) => (r.wallMs / 1000).toFixed(1).padStart(10)).join('')}`);
// Where the extract phase's time goes: each pass (site/mask; +vectors: the pooled vectors of the
// similarity strategies ride on it; +raw: histogram dumps) and the assembly of stats.csv.
for (const { name, record } of results) {
  const extract = record.phases.extract;
  if (!extract?.breakdown) continue;
  console.log(`\nextract breakdown, ${name} (${(extract.wallMs / 1000).toFixed(1)} s in all)`);
  console.log('pass                                     units  examples    tokens   wall s  tokens/s  share');
  for (const [pass, b] of Object.entries(extract.breakdown)) {
    console.log(
      `${pass.padEnd(41)}${String(b.units).padStart(5)}${String(b.examples).padStart(10)}${String(b.tokens).padStart(10)}${(b.ms / 1000).toFixed(1).padStart(9)}` +
        `${(b.tokens > 0 ? (b.tokens / (b.ms / 1000)).toFixed(0) : '').padStart(10)}${`${((100 * b.ms) / extract.wallMs).toFixed(0)}%`.padStart(7)}`,
    );
  }
}

console.log('\nheadline: largest |ρ| per dataset × mask');
console.log('dataset   mask           |ρ|     ρ        95% CI          q         layer statistic        pooling     quality');
for (const { name, record } of results) {
  for (const row of record.headline?.byMask ?? []) {
    console.log(
      `${name.padEnd(10)}${row.mask.padEnd(15)}${Math.abs(row.rho).toFixed(3).padEnd(8)}${row.rho.toFixed(3).padEnd(9)}${`${row.ciLow.toFixed(2)}..${row.ciHigh.toFixed(2)}`.padEnd(16)}` +
        `${row.qValue.toPrecision(3).padEnd(10)}${String(row.layer).padEnd(6)}${row.statistic.padEnd(17)}${row.pooling.padEnd(12)}${row.estimator} ${row.metric}`,
    );
  }
}

for (const { name, out } of results) {
  const curves = await readCurvesCsv(path.join(out, 'curves.csv'));
  for (const metric of [...new Set(curves.map((c) => c.metric))]) {
    const points = summarizeCurves(curves, metric);
    const budgets = [...new Set(points.map((p) => p.budget))].sort((a, b) => a - b);
    console.log(`\n${name}: test ${metric}, mean ± sd over seeds`);
    console.log(`${'strategy'.padEnd(17)}${budgets.map((b) => `k=${b}`.padStart(17)).join('')}`);
    for (const strategy of [...new Set(points.map((p) => p.strategy))]) {
      const cells = budgets.map((b) => {
        const p = points.find((q) => q.strategy === strategy && q.budget === b);
        return (p ? `${p.mean.toFixed(3)} ± ${p.sd.toFixed(3)}` : '–').padStart(17);
      });
      console.log(`${strategy.padEnd(17)}${cells.join('')}`);
    }
  }
}
