import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { correlatedStatistics } from '../../src/core/experiment/correlations.js';
import { generatedModelBanner } from '../../src/core/experiment/modelLabel.js';
import { encodeNpyFloat32 } from '../../src/core/format/npy.js';
import { datasetSpecOfRun, RunPanelSource } from '../../src/extension/panels/panelData.js';
import type { CellKey } from '../../src/extension/panels/panelMessages.js';
import {
  cellCorrelation,
  hostileText,
  plantedMassive,
  qualityValue,
  statValue,
  syntheticLayers,
  syntheticLines,
  syntheticRows,
  writeSyntheticRun,
  type SyntheticRun,
} from '../support/panelRunFolder.js';
import { activationStatistics } from '../../src/core/stats/activationStatistics.js';

/** What postMessage delivers: the payload through JSON. */
const delivered = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const cell: CellKey = { mask: 'isolated', site: 'mlp_out', layer: 1, statistic: 'kurtosis', pooling: 'token-mean', estimator: 'one-shot', metric: 'gold_logprob' };

describe('chart panel data', () => {
  let run: SyntheticRun;
  beforeEach(async () => {
    run = await writeSyntheticRun();
  });
  afterEach(async () => {
    await run.cleanup();
  });

  it('gives the histograms panel the histogram bins, the massive activations and what stats.csv offers', async () => {
    const data = delivered(await new RunPanelSource(run.dir).histogramsData());
    assert.equal(data.type, 'histograms/data');
    assert.deepEqual(data.run, { dir: run.dir, name: 'synthetic' });
    assert.deepEqual(data.notes, []);
    assert.deepEqual([...new Set(data.histograms.map((h) => `${h.mask}/${h.layer}`))], ['isolated/0', 'isolated/1']);
    assert.deepEqual(data.massive, [plantedMassive]);
    assert.deepEqual(data.stats, { masks: ['isolated', 'in-context'], sites: ['mlp_out', 'resid_post'], layers: [0, 1, 2], poolings: ['all', 'token-mean', 'last'], statistics: [...correlatedStatistics] });
  });

  it('notes what the histograms panel lacks instead of failing', async () => {
    await rm(path.join(run.dir, 'histograms.csv'));
    await rm(path.join(run.dir, 'stats.csv'));
    const data = await new RunPanelSource(run.dir).histogramsData();
    assert.deepEqual(data.histograms, []);
    assert.equal(data.notes.length, 2);
    assert.match(data.notes[0]!, /No histograms\.csv and no raw activations/);
    assert.match(data.notes[1]!, /No stats\.csv yet/);
    assert.deepEqual(data.stats, { masks: [], sites: [], layers: [], poolings: [], statistics: [] });
  });

  it('computes the histograms from raw/ when the run has no histograms.csv, with each layer’s summary', async () => {
    await rm(path.join(run.dir, 'histograms.csv'));
    await rm(path.join(run.dir, 'massive.csv'));
    await mkdir(path.join(run.dir, 'raw'));
    const values = Float32Array.from({ length: 2 * 8 }, (_, i) => (i === 11 ? 4000 : 0.5 + i / 100));
    await writeFile(path.join(run.dir, 'raw', '0_L1.npy'), encodeNpyFloat32(values, [2, 8]));
    const data = delivered(await new RunPanelSource(run.dir).histogramsData());
    assert.deepEqual(data.notes, []);
    assert.equal(data.histograms.reduce((n, h) => n + h.count, 0), 16);
    assert.deepEqual(data.massive, [{ mask: 'isolated', layer: 1, example: 0, token: 1, dim: 3, value: 4000 }]);
    assert.equal(data.summaries.length, 1);
    assert.deepEqual({ ...data.summaries[0]!, medianAbs: undefined }, { mask: 'isolated', layer: 1, examples: 1, values: 16, nanValues: 0, medianAbs: undefined, massiveCount: 1 });
  });

  it('answers a statistic request with every example’s value and id, nan as null', async () => {
    const key = { mask: 'isolated', site: 'mlp_out', layer: 2, pooling: 'last', statistic: 'kurtosis' };
    const answer = delivered(await new RunPanelSource(run.dir).statistic(key, 7));
    assert.equal(answer.requestId, 7);
    assert.deepEqual(answer.key, key);
    const s = activationStatistics.indexOf('kurtosis');
    assert.deepEqual(
      answer.values,
      syntheticRows.map((r, example) => ({ example, id: r.id, value: example === 3 ? null : statValue(example, 2, 2, s) })),
    );
  });

  it('rejects a statistic request for a cell stats.csv does not have', async () => {
    await assert.rejects(new RunPanelSource(run.dir).statistic({ mask: 'isolated', site: 'mlp_out', layer: 9, pooling: 'all', statistic: 'mean' }, 1), /stats\.csv has no mean for the isolated mask, mlp_out layer 9, all pooling/);
  });

  it('answers a statistic request and a heatmap cell at the site they name', async () => {
    const source = new RunPanelSource(run.dir);
    const s = activationStatistics.indexOf('mean');
    const answer = delivered(await source.statistic({ mask: 'isolated', site: 'resid_post', layer: 2, pooling: 'last', statistic: 'mean' }, 8));
    assert.deepEqual(answer.values.map((v) => v.value), syntheticRows.map((_, example) => statValue(example, 2, 2, s, 1)));
    const scatter = delivered(await source.scatter({ ...cell, site: 'resid_post', statistic: 'mean' }, 9));
    assert.deepEqual(scatter.points.map((p) => p.statistic), syntheticRows.map((_, example) => statValue(example, 1, 1, s, 1)));
    assert.equal(scatter.correlation?.rho, cellCorrelation(0, 1, 'mean', 1, 1).rho);
    const catalog = delivered(await source.histogramsData()).stats;
    assert.deepEqual(catalog.sites, ['mlp_out', 'resid_post']);
  });

  it('gives the correlations panel every row, nan as null, and the run’s estimator, metric and strongest pooling', async () => {
    const data = delivered(await new RunPanelSource(run.dir).correlationsData());
    assert.equal(data.rows.length, 2 * 2 * syntheticLayers * correlatedStatistics.length * 3);
    assert.deepEqual([...new Set(data.rows.map((r) => r.site))], ['mlp_out', 'resid_post']);
    const missing = data.rows.find((r) => r.layer === 2 && r.statistic === 'max_abs')!;
    assert.equal(missing.rho, null);
    assert.equal(missing.qValue, null);
    const strongest = [...data.rows].filter((r) => r.rho !== null).sort((a, b) => Math.abs(b.rho!) - Math.abs(a.rho!))[0]!;
    assert.deepEqual(data.defaults, { estimator: 'one-shot', metric: 'gold_logprob', site: strongest.site, pooling: strongest.pooling });
  });

  it('answers a heatmap cell with each example’s statistic, quality, id and text as plain text', async () => {
    const answer = delivered(await new RunPanelSource(run.dir).scatter(cell, 3));
    assert.equal(answer.type, 'scatter/data');
    assert.equal(answer.requestId, 3);
    assert.deepEqual(answer.notes, []);
    const s = activationStatistics.indexOf('kurtosis');
    assert.deepEqual(
      answer.points,
      syntheticRows.map((r, example) => ({ example, id: r.id, statistic: example === 3 ? null : statValue(example, 1, 1, s), quality: qualityValue(example), text: r.text })),
    );
    // The hostile text arrives as the characters it is: the webview writes it with textContent.
    assert.equal(answer.points[2]!.text, hostileText);
    const { rho, qValue } = cellCorrelation(0, 1, 'kurtosis', 1);
    assert.equal(answer.correlation?.rho, rho);
    assert.equal(answer.correlation?.qValue, qValue);
  });

  it('answers a heatmap cell without text, with a note, when the dataset file is gone', async () => {
    await rm(run.datasetFile);
    const answer = await new RunPanelSource(run.dir).scatter(cell, 1);
    assert.equal(answer.points.length, syntheticRows.length);
    assert.ok(answer.points.every((p) => p.text === undefined && p.id === syntheticRows[p.example]!.id));
    assert.match(answer.notes[0]!, /Example text is not shown: dataset file .*data\.jsonl not found/);
  });

  it('finds an example’s row line in the dataset file, blank lines counted', async () => {
    const source = new RunPanelSource(run.dir);
    for (const [example, line] of syntheticLines.entries()) assert.deepEqual(await source.exampleLocation(example), { file: run.datasetFile, line });
    await assert.rejects(source.exampleLocation(99), /Example 99 is not a row of .*data\.jsonl/);
  });

  it('gives the learning curves panel every curve row and the run’s evaluation metric', async () => {
    const data = delivered(await new RunPanelSource(run.dir).learningCurvesData());
    assert.equal(data.rows.length, 3 * 3 * 2 * 2);
    assert.equal(data.defaultMetric, 'accuracy');
    assert.deepEqual(data.notes, []);
  });

  it('notes a missing curves.csv and correlations.csv', async () => {
    await rm(path.join(run.dir, 'curves.csv'));
    await rm(path.join(run.dir, 'correlations.csv'));
    const source = new RunPanelSource(run.dir);
    assert.match((await source.learningCurvesData()).notes[0]!, /No curves\.csv yet/);
    assert.match((await source.correlationsData()).notes[0]!, /No correlations\.csv yet/);
  });

  it('names the model in every panel payload and carries the banner only for a generated model', async () => {
    const runJson = path.join(run.dir, 'run.json');
    const record = JSON.parse(await readFile(runJson, 'utf8')) as Record<string, unknown>;
    const model = { path: '/m/tiny.gguf', name: 'tiny', architecture: 'llama', layers: 3, embeddingLength: 64, quantization: 'ALL_F32', sha256: 'ab'.repeat(32) };
    await writeFile(runJson, JSON.stringify({ ...record, model: { ...model, generated: true } }));
    const source = new RunPanelSource(run.dir);
    for (const data of [await source.histogramsData(), await source.correlationsData(), await source.learningCurvesData()]) {
      assert.equal(data.run.generatedModelBanner, generatedModelBanner);
      assert.match(data.run.model!, /^GENERATED model with random weights "tiny"/);
    }
    await writeFile(runJson, JSON.stringify({ ...record, model: { ...model, generated: false } }));
    source.invalidate();
    const real = (await source.learningCurvesData()).run;
    assert.equal(real.generatedModelBanner, undefined);
    assert.match(real.model!, /^tiny \(llama, 3 layers × 64/);
  });

  it('fails with the folder named when the run folder is gone', async () => {
    await assert.rejects(new RunPanelSource(path.join(run.root, 'nope')).correlationsData(), /nope: no such run folder/);
  });

  it('reads files again after invalidate()', async () => {
    const source = new RunPanelSource(run.dir);
    assert.equal((await source.scatter(cell, 1)).points[0]!.quality, qualityValue(0));
    await writeFile(path.join(run.dir, 'quality.csv'), 'example,id,estimator,metric,value,stderr,n_prompts\n0,a,one-shot,gold_logprob,42,0,1\n');
    assert.equal((await source.scatter(cell, 2)).points[0]!.quality, qualityValue(0));
    source.invalidate();
    assert.deepEqual((await source.scatter(cell, 3)).points.map((p) => p.quality), [42]);
  });

  it('builds the dataset spec from run.json as the run read it', () => {
    assert.deepEqual(datasetSpecOfRun({ config: { configFile: '/w/study.yaml', data: { file: 'd.csv', format: 'csv', inputs: ['q'], target: 'a', task: 'generative' } } }), {
      spec: { file: path.resolve('/w', 'd.csv'), format: 'csv', inputs: ['q'], task: { type: 'generative', target: 'a' } },
    });
    assert.deepEqual(datasetSpecOfRun({ config: {} }), { problem: 'run.json names no dataset file (config.data.file)' });
    assert.deepEqual(datasetSpecOfRun(undefined), { problem: 'run.json names no dataset file (config.data.file)' });
  });
});
