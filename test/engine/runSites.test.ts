// `icl-lab run` with `sites: [mlp_out, resid_post]` on a tiny generated model: each site's rows in
// stats.csv and cells in correlations.csv, selection by the configured site, resume by site, and
// run folders from before sites resuming unchanged.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { runCli, sourceCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;
const readCsv = async (file: string): Promise<Row[]> => parse(await readFile(file, 'utf8'), { columns: true }) as Row[];
const deterministicFiles = ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv'];

describe('icl-lab run with several sites', function () {
  this.timeout(600_000);
  let dir: string;
  let model: string;
  let sitesConfig: string;
  let defaultConfig: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-sites-'));
    model = await testModelPath(tinyQwen2);
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(40, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
    const base = {
      ...demoRunConfig(1),
      model,
      split: { test: 6, probe: 4, pool: 20 },
      masks: ['isolated'],
      correlation: { bootstrap: 20, maxBootstrap: 20, permutations: 20 },
      evaluation: { bootstrap: 20 },
      histogramExamples: 2,
    };
    const selection = { strategies: ['random', 'highest-first'], budgets: [2], rounds: 1, seeds: [0] };
    sitesConfig = path.join(dir, 'sites.run.json');
    await writeFile(
      sitesConfig,
      JSON.stringify({ ...base, sites: ['mlp_out', 'resid_post'], selection: { ...selection, statistic: { site: 'resid_post', layer: 0, statistic: 'max_abs', pooling: 'all' } } }),
    );
    defaultConfig = path.join(dir, 'default.run.json');
    await writeFile(defaultConfig, JSON.stringify({ ...base, selection }));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes stats.csv rows and correlation cells for each site, the residual stream’s values its own, and ranks by the configured site', async () => {
    const out = path.join(dir, 'reference');
    const result = await runCli(['run', sitesConfig, '--out', out, '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /largest \|ρ\| = \d\.\d{3} .* at mask isolated, site (mlp_out|resid_post), layer \d/);

    const stats = await readCsv(path.join(out, 'stats.csv'));
    assert.deepEqual(Object.keys(stats[0]!), ['example', 'site', 'layer', 'mask', 'pooling', 'token_count', ...activationStatistics]);
    assert.equal(stats.length, 2 * 20 * 3 * poolings.length, 'sites × pool × layers × poolings');
    const bySite = (site: string) => stats.filter((r) => r['site'] === site);
    assert.equal(bySite('mlp_out').length, bySite('resid_post').length);
    const value = (site: string, example: string, layer: string, statistic: string) =>
      Number(stats.find((r) => r['site'] === site && r['example'] === example && r['layer'] === layer && r['pooling'] === 'all')![statistic]);
    const examples = [...new Set(stats.map((r) => r['example']!))];
    for (const layer of ['0', '1', '2']) {
      // The residual stream after a block is not the block's MLP output: not at layer 0 either, where it adds the embedding and attention.
      assert.ok(examples.some((e) => value('mlp_out', e, layer, 'mean') !== value('resid_post', e, layer, 'mean')), `layer ${layer} mean`);
      assert.ok(examples.every((e) => value('mlp_out', e, layer, 'variance') !== value('resid_post', e, layer, 'variance')), `layer ${layer} variance`);
    }
    // Span length does not depend on the site.
    for (const e of examples) assert.equal(stats.find((r) => r['site'] === 'mlp_out' && r['example'] === e)!['token_count'], stats.find((r) => r['site'] === 'resid_post' && r['example'] === e)!['token_count']);

    const correlations = await readCsv(path.join(out, 'correlations.csv'));
    const statistics = activationStatistics.filter((s) => s !== 'top_dim').length;
    for (const site of ['mlp_out', 'resid_post']) assert.equal(correlations.filter((r) => r['site'] === site).length, 3 * statistics * poolings.length * 2, `${site}: layers × statistics × poolings × quality metrics`);
    assert.equal(correlations.filter((r) => r['statistic'] === 'token_count' && r['site'] === '').length, 2, 'one length row per mask × quality metric');
    // Each site's grid is its own correlations (in the same cell order), not a copy of the other's.
    const grid = (site: string) => correlations.filter((r) => r['site'] === site).map((r) => r['rho']);
    assert.notDeepEqual(grid('mlp_out'), grid('resid_post'));
    const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.headline.overall.cells, 2 * 3 * statistics * poolings.length * 2, 'the max-aware interval re-selects over both sites');

    // highest-first picks the largest resid_post max_abs at layer 0, as selection.statistic says.
    const residual = examples.map((e) => ({ e, v: value('resid_post', e, '0', 'max_abs') })).sort((a, b) => b.v - a.v);
    const picked = (await readCsv(path.join(out, 'selections.csv'))).filter((r) => r['strategy'] === 'highest-first').map((r) => r['example']);
    assert.deepEqual(new Set(picked), new Set(residual.slice(0, 2).map((r) => r.e)));
  });

  it('resumes a run killed between the sites’ extraction units to the same bytes', async () => {
    const out = path.join(dir, 'killed');
    await runUntil(['run', sitesConfig, '--out', out, '--no-report'], () => existsSync(path.join(out, 'checkpoints', 'extract-resid_post-isolated-0.json')));
    assert.ok(existsSync(path.join(out, 'checkpoints', 'extract-isolated-0.json')), 'the MLP output keeps its unit names');
    const resumed = await runCli(['run', sitesConfig, '--out', out, '--no-report', '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /extract: \d units computed, [1-9]\d* reused/);
    for (const file of deterministicFiles) {
      assert.ok((await readFile(path.join(out, file))).equals(await readFile(path.join(dir, 'reference', file))), `${file} differs after resume`);
    }
  });

  it('reads the MLP output only by default, and resumes a run.json written before sites existed', async () => {
    const out = path.join(dir, 'default');
    const first = await runCli(['run', defaultConfig, '--out', out, '--no-report']);
    assert.equal(first.code, 0, first.stderr);
    const stats = await readCsv(path.join(out, 'stats.csv'));
    assert.deepEqual(new Set(stats.map((r) => r['site'])), new Set(['mlp_out']));
    // The same numbers as the mlp_out rows of the two-site run.
    const both = (await readCsv(path.join(dir, 'reference', 'stats.csv'))).filter((r) => r['site'] === 'mlp_out');
    assert.deepEqual(stats, both);
    const before = await readFile(path.join(out, 'stats.csv'));

    const runJson = path.join(out, 'run.json');
    const record = JSON.parse(await readFile(runJson, 'utf8'));
    delete record.config.sites;
    delete record.config.selection.statistic.site;
    await writeFile(runJson, JSON.stringify(record, null, 2));
    // Its extraction units as they were then: no site, stats rows without the site column.
    const checkpoints = path.join(out, 'checkpoints');
    for (const name of (await readdir(checkpoints)).filter((n) => /^extract-isolated-\d+\.json$/.test(n))) {
      const unit = JSON.parse(await readFile(path.join(checkpoints, name), 'utf8')) as { site?: string; stats: string };
      assert.equal(unit.site, 'mlp_out');
      delete unit.site;
      unit.stats = unit.stats.replace(/^(\d+),mlp_out,/gm, '$1,');
      await writeFile(path.join(checkpoints, name), JSON.stringify(unit) + '\n');
    }
    await rm(path.join(out, 'stats.csv'));
    const resumed = await runCli(['run', defaultConfig, '--out', out, '--no-report', '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /extract: 0 units computed/);
    assert.ok((await readFile(path.join(out, 'stats.csv'))).equals(before));
  });
});

/** Starts the CLI and kills it once `ready()` holds. */
function runUntil(args: readonly string[], ready: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...sourceCli, ...args], { cwd: packageRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) reject(new Error(`the run finished before it could be stopped:\n${stderr}`));
      else resolve();
    });
  });
}
