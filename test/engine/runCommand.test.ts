import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'yaml';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { correlationsCsvColumns } from '../../src/core/experiment/correlations.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { runCli, sourceCli } from '../support/runCli.js';
import { relabelledModelPath, testModelPath, tinyLlama, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;
const readCsv = async (file: string): Promise<Row[]> => parse(await readFile(file, 'utf8'), { columns: true }) as Row[];

/** The files a finished run must have, and which of them must be byte-identical for the same seed. */
const deterministicFiles = ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'predictions.csv', 'strategy_vs_random.csv', 'acquisition_correlations.csv'];

describe('icl-lab run', function () {
  this.timeout(600_000);
  let dir: string;
  let model: string;
  let demoConfig: string;
  let smallConfig: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-'));
    model = await testModelPath(tinyQwen2);
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(96, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
    // The demo's own configuration, on a tiny generated model.
    demoConfig = path.join(dir, 'demo.run.yaml');
    await writeFile(demoConfig, stringify({ ...demoRunConfig(2), model }));
    // A smaller study for the runs that are killed, resumed and sharded.
    const small = demoRunConfig(2) as { selection: Record<string, unknown> };
    smallConfig = path.join(dir, 'small.run.json');
    await writeFile(
      smallConfig,
      JSON.stringify({ ...small, model, split: { test: 12, probe: 6, pool: 20 }, selection: { ...small.selection, budgets: [2, 4], seeds: [0, 1] }, correlation: { bootstrap: 50 } }),
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('runs the demo config end to end and writes every file with sane content', async () => {
    const out = path.join(dir, 'demo-a');
    const result = await runCli(['run', demoConfig, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /mask +largest \|ρ\|/);
    assert.match(result.stdout, /largest \|ρ\| = \d\.\d{3} .* at mask (isolated|shared-prefix|in-context), site mlp_out, layer \d/);
    assert.match(result.stdout, /; max-aware 95% CI of the largest \|ρ\| \(basic bootstrap, corrected for selection\) \d\.\d\d\.\.\d\.\d\d over \d+ cells, family-wise p = [\d.e-]+; length ρ = -?\d\.\d{3} \((beats|does not beat) length\); partial ρ given length = -?\d\.\d{3} .*; noise ceiling \|ρ\| ≤ \d\.\d\d \(split-half reliability -?\d\.\d\d\)/);

    const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.status, 'complete');
    assert.equal(run.model.architecture, 'qwen2');
    assert.equal(run.model.layers, 3);
    assert.equal(run.model.embeddingLength, 64);
    assert.match(run.model.sha256, /^[0-9a-f]{64}$/);
    assert.ok(run.model.fileBytes > 0 && typeof run.model.quantization === 'string');
    // The site check ran before extracting, and run.json records it.
    assert.match(result.stderr, /site check passed for .*\.gguf \(architecture "qwen2", l_out-<layer> = ffn_inp-<layer> \+ ffn_out-<layer>\)/);
    assert.equal(run.model.siteCheck.passed, true);
    assert.equal(run.model.siteCheck.layers.length, 3);
    assert.ok(run.model.siteCheck.layers.every((l: { relative: number }) => l.relative <= run.model.siteCheck.tolerance));
    assert.ok(run.versions.nodeLlamaCpp && run.versions.iclLab && run.versions.llamaCpp);
    assert.equal(run.seed, 7);
    assert.equal(run.config.split.pool, 48);
    for (const phase of ['extract', 'quality', 'correlate', 'select', 'evaluate', 'report']) {
      assert.equal(run.phases[phase].status, 'complete', phase);
      assert.ok(run.phases[phase].wallMs >= 0, phase);
    }

    const stats = await readCsv(path.join(out, 'stats.csv'));
    assert.equal(stats.length, 3 * 48 * 3 * poolings.length, 'masks × pool × layers × poolings');
    assert.deepEqual(Object.keys(stats[0]!), ['example', 'site', 'layer', 'mask', 'pooling', 'token_count', ...activationStatistics]);
    assert.ok(stats.every((r) => Number.isInteger(Number(r['token_count'])) && Number(r['token_count']) > 0));
    assert.ok(stats.every((r) => Number(r['massive']) <= Math.min(Number(r['abs_over_100']), Number(r['abs_over_1000x_median'])) || r['pooling'] !== 'last'), 'massive needs both conditions');
    assert.deepEqual(new Set(stats.map((r) => r['mask'])), new Set(['isolated', 'shared-prefix', 'in-context']));
    assert.ok(stats.every((r) => Number(r['variance']) >= 0 && Number(r['max_abs']) >= Number(r['median_abs'])));

    const quality = await readCsv(path.join(out, 'quality.csv'));
    assert.equal(quality.length, 48 * 2, 'pool × (gold_logprob, accuracy)');
    assert.deepEqual(new Set(quality.map((r) => r['metric'])), new Set(['gold_logprob', 'accuracy']));
    assert.ok(quality.every((r) => r['quality_half_a'] !== undefined && r['quality_half_b'] !== undefined));
    assert.ok(quality.filter((r) => r['metric'] === 'gold_logprob').every((r) => Number.isFinite(Number(r['quality_half_a'])) && Number.isFinite(Number(r['quality_half_b']))));

    const correlationsText = await readFile(path.join(out, 'correlations.csv'), 'utf8');
    assert.equal(correlationsText.split('\n')[0], correlationsCsvColumns.join(','));
    const correlations = await readCsv(path.join(out, 'correlations.csv'));
    const statistics = activationStatistics.filter((s) => s !== 'top_dim').length;
    assert.equal(correlations.length, 3 * (3 * statistics * poolings.length + 1) * 2, 'masks × (layers × statistics × poolings + the length row) × quality metrics');
    assert.equal(correlations.filter((r) => r['statistic'] === 'token_count' && r['layer'] === '' && r['pooling'] === '').length, 3 * 2);
    assert.ok(correlations.some((r) => Number.isFinite(Number(r['partial_rho']))));
    const overall = run.headline.overall;
    assert.ok(overall.statistic !== 'token_count' && Number.isFinite(overall.lengthRho) && Number.isFinite(overall.ceiling) && overall.maxCiLow <= overall.maxCiHigh);
    for (const r of correlations) {
      const rho = Number(r['rho']);
      if (Number.isNaN(rho)) continue;
      assert.ok(Math.abs(rho) <= 1);
      assert.ok(Number(r['q_value']) >= Number(r['p_value']) - 1e-12, 'BH q ≥ p');
      assert.equal(r['n'], '48');
    }

    const selections = await readCsv(path.join(out, 'selections.csv'));
    const strategies = ['random', 'label-balanced-random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'adaicl', 'top-quality'];
    assert.equal(selections.length, strategies.length * 3 * (2 + 4 + 8 + 16), 'strategies × seeds × Σ budgets');
    for (const strategy of strategies) {
      for (const budget of ['2', '4', '8', '16']) {
        const picked = selections.filter((r) => r['strategy'] === strategy && r['seed'] === '1' && r['budget'] === budget);
        assert.equal(picked.length, Number(budget), `${strategy} ${budget}`);
        assert.equal(new Set(picked.map((r) => r['example'])).size, picked.length, 'no example twice');
        assert.deepEqual([...new Set(picked.map((r) => r['round']))].sort(), ['1', '2'], 'two rounds');
      }
    }
    // top-quality's first pick is the best measured example.
    const best = quality.filter((r) => r['metric'] === 'gold_logprob').sort((a, b) => Number(b['value']) - Number(a['value']))[0]!;
    assert.equal(selections.find((r) => r['strategy'] === 'top-quality')!['example'], best['example']);

    const curves = await readCsv(path.join(out, 'curves.csv'));
    assert.equal(curves.length, (strategies.length + 2) * 3 * 4 * 2, '(strategies + kate + bm25) × seeds × budgets × metrics');
    for (const r of curves.filter((c) => c['metric'] === 'accuracy')) {
      assert.ok(Number(r['value']) >= 0 && Number(r['value']) <= 1);
      assert.ok(Number(r['ci_low']) <= Number(r['value']) && Number(r['value']) <= Number(r['ci_high']), `interval over test items around ${r['strategy']} ${r['seed']} ${r['budget']}`);
    }
    // KATE and BM25 retrieve per seed from random's budget: no value copied across seeds.
    for (const strategy of ['kate', 'bm25']) assert.deepEqual(new Set(curves.filter((r) => r['strategy'] === strategy).map((r) => r['seed'])), new Set(['0', '1', '2']));
    const versusRandom = await readCsv(path.join(out, 'strategy_vs_random.csv'));
    assert.equal(versusRandom.length, (strategies.length + 1) * 4 * 2, '(strategies − random + kate + bm25) × budgets × metrics');
    for (const r of versusRandom) {
      assert.deepEqual([r['n_items'], r['n_seeds']], ['32', '3']);
      assert.ok(Number(r['ci_low']) <= Number(r['diff']) && Number(r['diff']) <= Number(r['ci_high']), `${r['strategy']} ${r['budget']} ${r['metric']}`);
    }
    const acquisition = await readCsv(path.join(out, 'acquisition_correlations.csv'));
    // Per strategy × budget over the 3 seeds; only seeded strategies' scores vary across seeds.
    assert.ok(acquisition.length > 0);
    for (const r of acquisition) {
      assert.equal(r['n'], '3', 'one prompt per seed');
      assert.ok(['2', '4', '8', '16'].includes(r['budget']!), r['budget']);
      assert.ok(strategies.includes(r['strategy']!) && r['strategy'] !== 'random', r['strategy']);
      // nan only where the metric was the same for every seed (scipy's constant-input nan).
      assert.ok(!/inf/.test(r['rho']! + r['p_value']!), `never Infinity: ${JSON.stringify(r)}`);
    }
    assert.ok(acquisition.some((r) => r['strategy'] === 'k-center-greedy' && Number.isFinite(Number(r['rho']))), 'k-center greedy gets a finite ρ');

    const report = await readFile(path.join(out, 'report.html'), 'utf8');
    assert.match(report, /<svg/);
    const figures = await readdir(path.join(out, 'figures'));
    assert.ok(figures.some((f) => f.includes('heatmap')) && figures.some((f) => f.includes('curve')), figures.join(', '));
  });

  it('gives byte-identical results for the same config and seed', async () => {
    const out = path.join(dir, 'demo-b');
    const result = await runCli(['run', demoConfig, '--out', out, '--no-report', '--progress', 'json']);
    assert.equal(result.code, 0, result.stderr);
    // Progress for programs (the VS Code extension): one JSON object per line, every phase finishing.
    const events = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as { event: string; phase?: string; done?: number; total?: number });
    for (const phase of ['extract', 'quality', 'select', 'evaluate']) {
      assert.ok(events.some((e) => e.event === 'progress' && e.phase === phase && e.done === e.total), `${phase} reaches its total`);
    }
    assert.ok(events.some((e) => e.event === 'log'));
    for (const file of deterministicFiles) {
      assert.ok((await readFile(path.join(out, file))).equals(await readFile(path.join(dir, 'demo-a', file))), `${file} differs`);
    }
  });

  it('resumes a killed run to the same result without recomputing finished units', async () => {
    const reference = path.join(dir, 'small-reference');
    const full = await runCli(['run', smallConfig, '--out', reference, '--no-report']);
    assert.equal(full.code, 0, full.stderr);

    const out = path.join(dir, 'small-killed');
    // Killed (as a crash or an OOM kill would) once the quality phase has written its first unit.
    await runUntil(['run', smallConfig, '--out', out, '--no-report'], () => existsSync(path.join(out, 'checkpoints', 'quality-0.json')));
    const killed = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(killed.status, 'running', 'the run was killed before it finished');
    assert.equal(existsSync(path.join(out, 'curves.csv')), false);
    // Units only: not the folder's .manifest.json.
    const finishedBefore = (await readdir(path.join(out, 'checkpoints'))).filter((f) => f.endsWith('.json') && !f.startsWith('.'));

    const refused = await runCli(['run', smallConfig, '--out', out, '--no-report']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already holds a run \(running\); pass --resume/);

    const resumed = await runCli(['run', smallConfig, '--out', out, '--no-report', '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming .*: ${finishedBefore.length} finished units are reused`));
    assert.match(resumed.stderr, /extract: 0 units computed, \d+ reused/);
    // The killed run recorded a passed site check of the same file: not checked again.
    assert.match(full.stderr, /site check passed/);
    assert.doesNotMatch(resumed.stderr, /site check/);
    const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.status, 'complete');
    // Each phase's record covers both invocations: the killed one computed the extract units, the resume reused them all.
    assert.equal(run.phases.extract.computed, killed.phases.extract.computed);
    assert.equal(run.phases.extract.invocations, 2);
    assert.ok(run.phases.extract.reused > 0 && run.phases.extract.wallMs >= killed.phases.extract.wallMs);
    for (const file of deterministicFiles) {
      assert.ok((await readFile(path.join(out, file))).equals(await readFile(path.join(reference, file))), `${file} differs after resume`);
    }
  });

  it('cancels on SIGINT keeping finished units, and refuses to resume with a changed config', async () => {
    const out = path.join(dir, 'small-cancelled');
    const code = await runUntil(['run', smallConfig, '--out', out, '--no-report'], () => existsSync(path.join(out, 'checkpoints', 'extract-isolated-0.json')), 'SIGINT');
    assert.equal(code, 130);
    const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.status, 'cancelled');
    assert.match(run.error, /cancelled during extract/);
    assert.ok(existsSync(path.join(out, 'checkpoints', 'extract-isolated-0.json')));
    // The cancelled phase records the units it finished, as the folder holds them.
    const onDisk = (await readdir(path.join(out, 'checkpoints'))).filter((f) => f.startsWith('extract-') && f.endsWith('.json')).length;
    assert.equal(run.phases.extract.status, 'cancelled');
    assert.equal(run.phases.extract.computed, onDisk);
    assert.ok(run.phases.extract.wallMs > 0);

    const changed = path.join(dir, 'changed.run.json');
    const config = JSON.parse(await readFile(smallConfig, 'utf8'));
    await writeFile(changed, JSON.stringify({ ...config, seed: 8, masks: ['isolated'] }));
    const refused = await runCli(['run', changed, '--out', out, '--resume']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /differs from the run in .* in `masks`, `seed`/);
  });

  it('shards the extract and quality work; merged and finished, the folder equals an unsharded run', async () => {
    const shards = [1, 2, 3].map((i) => path.join(dir, `shard-${i}`));
    for (const [i, shard] of shards.entries()) {
      const result = await runCli(['run', smallConfig, '--out', shard, '--shard', `${i + 1}/3`]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`shard ${i + 1}/3 complete`));
    }
    const partial = await runCli(['merge', shards[0]!, shards[2]!, '--out', path.join(dir, 'merged-partial')]);
    assert.equal(partial.code, 1);
    assert.match(partial.stderr, /shard 2\/3 missing/);

    const merged = path.join(dir, 'merged');
    const merge = await runCli(['merge', ...shards, '--out', merged]);
    assert.equal(merge.code, 0, merge.stderr);
    const finish = await runCli(['run', smallConfig, '--out', merged, '--resume', '--no-report']);
    assert.equal(finish.code, 0, finish.stderr);
    assert.match(finish.stderr, /extract: 0 units computed/);
    assert.match(finish.stderr, /quality: 0 units computed/);
    // The merged run's extract and quality times and units are the three shards' together.
    const shardRecords = await Promise.all(shards.map(async (shard) => JSON.parse(await readFile(path.join(shard, 'run.json'), 'utf8'))));
    const finished = JSON.parse(await readFile(path.join(merged, 'run.json'), 'utf8'));
    for (const name of ['extract', 'quality']) {
      const sum = (key: string): number => shardRecords.reduce((total, r) => total + r.phases[name][key], 0);
      assert.equal(finished.phases[name].computed, sum('computed'), name);
      assert.ok(finished.phases[name].wallMs >= sum('wallMs'), name);
      assert.equal(finished.phases[name].invocations, 4, `${name}: three shards and the finishing run`);
    }
    for (const file of deterministicFiles) {
      assert.ok((await readFile(path.join(merged, file))).equals(await readFile(path.join(dir, 'small-reference', file))), `${file} differs from the unsharded run`);
    }
  });

  it('stops before any work, naming the architecture, when the site table does not list the model\'s', async () => {
    const config = path.join(dir, 'xverse.run.yaml');
    await writeFile(config, stringify({ ...demoRunConfig(1), model: await relabelledModelPath(tinyLlama, 'xverse') }));
    const out = path.join(dir, 'xverse');
    const result = await runCli(['run', config, '--out', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the site check cannot run: architecture "xverse" is not in the site table .*; nothing was extracted/);
    // Nothing extracted; run.json says why (status failed, no model), so the Runs view lists the run.
    const record = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(record.status, 'failed');
    assert.match(record.error, /site check/);
    assert.equal(record.model, undefined);
    assert.equal(existsSync(path.join(out, 'checkpoints')), false, 'nothing extracted');
  });

  it('names the key of a bad config and the file of a missing model, before any work', async () => {
    const bad = path.join(dir, 'bad.run.yaml');
    await writeFile(bad, stringify({ ...demoRunConfig(1), model, selection: { budgets: [4, 0], strategy: ['random'] } }));
    const result = await runCli(['run', bad, '--out', path.join(dir, 'bad')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /selection\.budgets\[1\]/);
    assert.match(result.stderr, /selection\.strategy: unknown key \(did you mean "strategies"\?\)/);
    assert.equal(existsSync(path.join(dir, 'bad')), false, 'nothing written');
  });
});

/** Starts the CLI and sends `signal` once `ready()` holds; resolves with the exit code. */
function runUntil(args: readonly string[], ready: () => boolean, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...sourceCli, ...args], { cwd: packageRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 10);
    child.on('error', reject);
    child.on('close', (code, killedBy) => {
      clearInterval(timer);
      if (code === 0) reject(new Error(`the run finished before it could be stopped:\n${stderr}`));
      else resolve(killedBy === 'SIGKILL' ? null : code);
    });
  });
}
