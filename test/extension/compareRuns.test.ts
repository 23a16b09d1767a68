import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { generatedModelBanner } from '../../src/core/experiment/modelLabel.js';
import { readRunComparison, runsComparisonHtml, runsComparisonTable, type RunComparisonEntry } from '../../src/core/report/runsComparison.js';
import type { TableRow } from '../../src/core/reproduce/reproduceTable.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// "Compare Runs…" (issue 11 item 13): runs' headlines and curves side by side. The table's data
// builder is pure; the command runs against the stand-in `vscode` (test/support/fakeVscode.ts).

const tableRow = (mask: string, rho: number, budgets: TableRow['budgets']): TableRow => ({
  model: 'm', dataset: 'd', task: 'classification', mask, n: 40, rho, layer: 3, statistic: 'kurtosis', pooling: 'all', quality: 'one-shot gold_logprob', qValue: 0.01,
  maxCiLow: 0.2, maxCiHigh: 0.6, familywiseP: 0.02, lengthRho: 0.15, partialRho: NaN, partialCell: '', partialQValue: NaN, ceiling: 0.8, metric: 'accuracy', budgets,
});

const entry = (name: string, over: Partial<RunComparisonEntry>): RunComparisonEntry => ({ name, dir: `/runs/${name}`, model: 'model.gguf', generated: false, dataset: 'sst2.jsonl', status: 'complete', rows: [], ...over });

/** A complete run folder as `icl-lab run` leaves it, reduced to what the comparison reads. */
async function writeRun(dir: string, options: { generated: boolean; rho: number; gain: number }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const headline = { mask: 'isolated', site: 'blocks.3.mlp_out', layer: 3, statistic: 'kurtosis', pooling: 'all', estimator: 'one-shot', metric: 'gold_logprob', rho: options.rho, pValue: 0.001, qValue: 0.01, ciLow: 0.1, ciHigh: 0.5, n: 40, partialRho: NaN, partialPValue: NaN, partialQValue: NaN, lengthRho: 0.12, ceiling: 0.9, maxCiLow: 0.21, maxCiHigh: 0.55 };
  await writeFile(
    path.join(dir, 'run.json'),
    JSON.stringify({
      format: 'icl-lab-run/1', status: 'complete', startedAt: '2026-01-01T00:00:00Z', pid: 1, seed: 0,
      config: { data: { task: 'classification' }, evaluation: { metric: 'accuracy' } },
      model: { path: '/models/tiny <b>.gguf', architecture: 'qwen2', layers: 4, ...(options.generated ? { generated: true } : {}) },
      data: { file: '/data/sst2.jsonl', pool: 40, probe: 10, test: 20 }, versions: {}, phases: {}, headline: { byMask: [headline], overall: headline },
    }),
  );
  await writeFile(path.join(dir, 'correlations.csv'), 'mask,layer,statistic,pooling,estimator,metric,rho,partial_rho,partial_q_value\nisolated,3,kurtosis,all,one-shot,gold_logprob,0.4,0.3,0.04\n');
  await writeFile(path.join(dir, 'strategy_vs_random.csv'), `strategy,budget,metric,diff,ci_low,ci_high\nk-center-greedy,4,accuracy,${options.gain},0.01,0.2\nhighest-first,4,accuracy,-0.05,-0.2,0.1\n`);
  await writeFile(path.join(dir, 'curves.csv'), 'strategy,seed,budget,metric,value\nrandom,0,4,accuracy,0.5\nrandom,1,4,accuracy,0.6\nk-center-greedy,0,4,accuracy,0.6\n');
}

describe('comparing runs', () => {
  describe('the table (pure)', () => {
    it('puts each run in a column: model, dataset, per mask |ρ| with its max-aware interval, length ρ and ceiling, per budget random and the best gain', () => {
      const a = entry('run-a', { generated: true, rows: [tableRow('isolated', -0.42, [{ budget: 4, random: 0.55, best: { strategy: 'k-center-greedy', gain: 0.1, ciLow: 0.01, ciHigh: 0.2 }, aboveRandom: ['k-center-greedy'] }])] });
      const b = entry('run-b', { model: 'other.gguf', dataset: 'agnews.jsonl', rows: [tableRow('in-context', 0.3, [{ budget: 8, random: 0.4, aboveRandom: [] }])] });
      const table = runsComparisonTable([a, b]);
      assert.deepEqual(table.runs.map((r) => [r.name, r.banner]), [['run-a', generatedModelBanner], ['run-b', undefined]]);
      const lines = new Map(table.sections.flatMap((s) => s.lines.map((l) => [l.label, l.cells] as const)));
      assert.deepEqual(lines.get('model'), ['model.gguf', 'other.gguf']);
      assert.deepEqual(lines.get('dataset'), ['sst2.jsonl', 'agnews.jsonl']);
      assert.deepEqual(lines.get('|ρ| isolated'), ['0.420 [0.200, 0.600] · L3 kurtosis (all) vs one-shot gold_logprob', '']);
      assert.deepEqual(lines.get('|ρ| in-context'), ['', '0.300 [0.200, 0.600] · L3 kurtosis (all) vs one-shot gold_logprob']);
      assert.deepEqual(lines.get('length ρ isolated'), ['0.150', '']);
      assert.deepEqual(lines.get('ceiling in-context'), ['', '0.800']);
      assert.deepEqual(lines.get('random @ 4'), ['0.550 accuracy', '']);
      assert.deepEqual(lines.get('best gain @ 4'), ['+0.100 k-center-greedy [+0.010, +0.200]', '']);
      assert.deepEqual(lines.get('best gain @ 8'), ['', 'no strategy compared']);
    });

    it('says why a run has no figures (failed before its model loaded)', () => {
      const table = runsComparisonTable([entry('bad', { model: '', status: 'failed', problem: 'the run is failed: bad.jsonl:3:34: malformed JSON' }), entry('ok', {})]);
      const lines = new Map(table.sections.flatMap((s) => s.lines.map((l) => [l.label, l.cells] as const)));
      assert.match(lines.get('model')![0]!, /failed before its model loaded/);
      assert.match(lines.get('status')![0]!, /malformed JSON/);
    });

    it('escapes every name and cell in the HTML and runs no script', () => {
      const html = runsComparisonHtml(runsComparisonTable([entry('<img src=x onerror=1>', { model: '<b>m</b>' }), entry('b', {})]), "default-src 'none'");
      assert.ok(!html.includes('<img'), html);
      assert.ok(html.includes('&lt;img src=x onerror=1&gt;'));
      assert.ok(html.includes('&lt;b&gt;m&lt;/b&gt;'));
      assert.ok(!/<script/i.test(html));
    });
  });

  describe('from run folders, through the command', () => {
    let vscode: typeof FakeVscode;
    let root: string;
    let runsRoot: string;

    before(async () => {
      vscode = (await import('vscode')) as unknown as typeof FakeVscode;
      vscode.fake.reset();
      for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
      root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-compare-'));
      runsRoot = path.join(root, '.icl-lab', 'runs');
      (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
      await writeRun(path.join(runsRoot, 'sst2-a'), { generated: true, rho: 0.45, gain: 0.12 });
      await writeRun(path.join(runsRoot, 'sst2-b'), { generated: false, rho: -0.31, gain: 0.04 });
      await mkdir(path.join(runsRoot, 'bad-1'), { recursive: true });
      await writeFile(path.join(runsRoot, 'bad-1', 'run.json'), JSON.stringify({ format: 'icl-lab-run/1', status: 'failed', error: 'bad.jsonl:3:34: malformed JSON', startedAt: '2026-01-01T00:00:00Z', pid: 1, seed: 0, config: {}, data: { file: '/data/bad.jsonl', pool: 0, probe: 0, test: 0 }, versions: {}, phases: {} }));
      const { registerCompareRuns } = await import('../../src/extension/runs/compareRuns.js');
      registerCompareRuns({ subscriptions: [] } as never);
    });

    after(async () => {
      (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = undefined;
      await rm(root, { recursive: true, force: true });
    });

    it('reads a complete run folder into its figures, and a failed one into its error', async () => {
      const a = await readRunComparison(path.join(runsRoot, 'sst2-a'));
      assert.equal(a.model, 'tiny <b>.gguf');
      assert.equal(a.generated, true);
      assert.equal(a.dataset, 'sst2.jsonl');
      assert.equal(a.rows[0]?.rho, 0.45);
      assert.deepEqual(a.rows[0]?.budgets, [{ budget: 4, random: 0.55, best: { strategy: 'k-center-greedy', gain: 0.12, ciLow: 0.01, ciHigh: 0.2 }, aboveRandom: ['k-center-greedy'] }]);
      const bad = await readRunComparison(path.join(runsRoot, 'bad-1'));
      assert.deepEqual([bad.status, bad.model, bad.rows.length], ['failed', '', 0]);
      assert.match(bad.problem ?? '', /malformed JSON/);
    });

    it('opens one webview table of the runs selected in the Runs view (no script, CSP default-src none, the banner on the generated run)', async () => {
      vscode.fake.webviewPanels.length = 0;
      const item = (name: string) => ({ kind: 'run', run: { dir: path.join(runsRoot, name), name } });
      await vscode.commands.executeCommand('iclLab.compareRuns', item('sst2-a'), [item('sst2-a'), item('sst2-b')]);
      assert.equal(vscode.fake.webviewPanels.length, 1);
      const panel = vscode.fake.webviewPanels[0]!;
      assert.equal(panel.viewType, 'iclLab.compareRuns');
      assert.equal(panel.title, 'Compare: sst2-a · sst2-b');
      assert.deepEqual((panel.options as { enableScripts: boolean }).enableScripts, false);
      const html = panel.webview.html;
      assert.match(html, /default-src 'none'/);
      assert.ok(!/<script/i.test(html));
      assert.equal(html.split(generatedModelBanner).length - 1, 1, 'the banner shows once, on the generated run');
      assert.ok(html.includes('tiny &lt;b&gt;.gguf'));
      assert.ok(html.includes('0.450 [0.210, 0.550]'));
      assert.ok(html.includes('0.310 [0.210, 0.550]'));
      assert.ok(html.includes('+0.120 k-center-greedy [+0.010, +0.200]'));
      assert.ok(html.includes('+0.040 k-center-greedy'));
    });

    it('asks for the complete runs (several picked) when fewer than two are selected', async () => {
      vscode.fake.webviewPanels.length = 0;
      vscode.fake.quickPicks.push((items) => items);
      await vscode.commands.executeCommand('iclLab.compareRuns');
      const asked = vscode.fake.quickPickCalls.at(-1)!;
      assert.deepEqual(asked.items.map((i) => i.label).sort(), ['sst2-a', 'sst2-b'], 'only complete runs are offered');
      assert.equal(vscode.fake.webviewPanels.length, 1);
    });

    it('says so when one run is picked', async () => {
      vscode.fake.webviewPanels.length = 0;
      vscode.fake.quickPicks.push((items) => items.slice(0, 1));
      await vscode.commands.executeCommand('iclLab.compareRuns');
      assert.equal(vscode.fake.webviewPanels.length, 0);
      assert.match(vscode.fake.messages.at(-1) ?? '', /two or more/);
    });
  });
});
