import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { builtInPreset, builtInPresets, checkPreset, cpuSmallPreset, paperPreset } from '../../src/core/reproduce/presets.js';
import { cellConfigFile, cellDir, cellRunConfig, checkDatasetFiles, gridCells, mergeStudy, plannedCells } from '../../src/core/reproduce/reproducePlan.js';

describe('reproduce presets and cells', () => {
  const datasetsDir = path.join(os.tmpdir(), 'no-such-datasets-folder');

  it('maps a two-input classification dataset (CB) to a run config with its fields, labels, template and the preset study', () => {
    const cell = gridCells(cpuSmallPreset).find((c) => c.key === 'smollm2-135m/cb')!;
    const config = cellRunConfig(cpuSmallPreset, cell, { modelFile: '/m/smol.gguf', datasetsDir, labels: { entailment: 'entailment', neutral: 'neutral' }, templateFile: '/out/templates/cb.icl.tmpl' });
    assert.deepEqual(config['data'], {
      file: path.join(datasetsDir, 'cb', 'train.jsonl'),
      inputs: ['premise', 'hypothesis'],
      id: 'id',
      target: 'label',
      task: 'classification',
      labels: { entailment: 'entailment', neutral: 'neutral' },
    });
    assert.equal(config['model'], '/m/smol.gguf');
    assert.equal(config['template'], '/out/templates/cb.icl.tmpl');
    assert.deepEqual(config["split"], { test: 12, probe: 10, pool: 32 });
    assert.deepEqual((config["selection"] as { seeds: number[] }).seeds, [0, 1]);
    assert.deepEqual((config['selection'] as { strategies: string[] }).strategies, (cpuSmallPreset.study['selection'] as { strategies: string[] }).strategies);
    // The resolved config keeps all of it.
    const resolved = parseRunConfig(stringify(config), '/out/smollm2-135m/cb.run.yaml');
    assert.deepEqual(resolved.data.labels, [{ value: 'entailment', verbalizer: 'entailment' }, { value: 'neutral', verbalizer: 'neutral' }]);
    assert.deepEqual(resolved.masks, ['isolated', 'shared-prefix', 'in-context']);
  });

  it('maps a generative dataset without labels and drops the strategies that need labels', () => {
    const cell = gridCells(cpuSmallPreset).find((c) => c.key === 'gemma3-270m/nq_open')!;
    const config = cellRunConfig(cpuSmallPreset, cell, { modelFile: '/m/g.gguf', datasetsDir, labels: { a: 'b' } });
    const data = config['data'] as Record<string, unknown>;
    assert.equal(data['task'], 'generative');
    assert.equal(data['target'], 'answers');
    assert.equal(data['labels'], undefined);
    const strategies = (config['selection'] as { strategies: string[] }).strategies;
    for (const s of ['uncertainty', 'label-balanced-random']) assert.ok(!strategies.includes(s), s);
    assert.ok(strategies.includes('random') && strategies.includes('kate'));
    const resolved = parseRunConfig(stringify(config), '/out/gemma3-270m/nq_open.run.yaml');
    assert.equal(resolved.evaluation.metric, 'em');
    assert.equal(resolved.quality.metric, 'reference_loglik');
  });

  it('gives every cell of every built-in preset a config the run schema accepts; the paper preset fits CB into its 250 rows', () => {
    for (const preset of builtInPresets) {
      for (const cell of gridCells(preset)) {
        const config = cellRunConfig(preset, cell, { modelFile: '/m/x.gguf', datasetsDir, labels: { '0': 'no', '1': 'yes' }, ...(cell.dataset.template ? { templateFile: '/t.icl.tmpl' } : {}) });
        assert.doesNotThrow(() => parseRunConfig(stringify(config), `/out/${cell.key}.run.yaml`), cell.key);
      }
    }
    const cb = gridCells(paperPreset).find((c) => c.dataset.name === 'cb')!;
    const split = cellRunConfig(paperPreset, cb, { modelFile: '/m/x.gguf', datasetsDir })['split'] as { test: number; probe: number; pool: number };
    assert.equal(split.test + split.probe + split.pool, 250);
    assert.deepEqual(cellRunConfig(paperPreset, gridCells(paperPreset)[0]!, { modelFile: '/m/x.gguf', datasetsDir })['split'], { test: 100, probe: 50, pool: 200 });
  });

  it('merges a dataset\'s study over the preset\'s key by key', () => {
    assert.deepEqual(mergeStudy({ split: { test: 1, probe: 2 }, masks: ['a', 'b'] }, { split: { test: 5 }, masks: ['c'] }), { split: { test: 5, probe: 2 }, masks: ['c'] });
  });

  it('deals cells to shards round-robin over the whole grid and filters them with --only', () => {
    assert.equal(gridCells(cpuSmallPreset).length, 14);
    assert.deepEqual(plannedCells(cpuSmallPreset, { shard: { index: 2, count: 5 } }).map((c) => c.index), [1, 6, 11]);
    const shards = [1, 2, 3].flatMap((index) => plannedCells(cpuSmallPreset, { shard: { index, count: 3 } }).map((c) => c.key));
    assert.deepEqual(shards.sort(), gridCells(cpuSmallPreset).map((c) => c.key).sort());
    assert.deepEqual(plannedCells(cpuSmallPreset, { only: ['smollm2-135m/sst2', 'gsm8k'] }).map((c) => c.key), ['smollm2-135m/sst2', 'smollm2-135m/gsm8k', 'gemma3-270m/gsm8k']);
    assert.deepEqual(plannedCells(cpuSmallPreset, { only: ['gsm8k'], shard: { index: 1, count: 2 } }).map((c) => c.key), ['gemma3-270m/gsm8k']);
    assert.throws(() => plannedCells(cpuSmallPreset, { only: ['smollm2-135m/mnli'] }), /--only: smollm2-135m\/mnli is not a cell of preset cpu-small \(cells: smollm2-135m\/sst2, /);
  });

  it('puts each cell in DIR/<model>/<dataset> with its config beside it', () => {
    const cell = gridCells(cpuSmallPreset)[0]!;
    assert.equal(cellDir('/out', cell), path.join('/out', 'smollm2-135m', 'sst2'));
    assert.equal(cellConfigFile('/out', cell), path.join('/out', 'smollm2-135m', 'sst2.run.yaml'));
  });

  it('names every missing dataset file with its full path', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-datasets-'));
    try {
      await mkdir(path.join(dir, 'sst2'));
      await writeFile(path.join(dir, 'sst2', 'validation.jsonl'), '');
      const datasets = cpuSmallPreset.datasets.filter((d) => d.name === 'sst2' || d.name === 'trec');
      assert.throws(
        () => checkDatasetFiles(dir, datasets),
        (error: Error) =>
          error.message.includes(path.join(dir, 'sst2', 'labels.json')) &&
          error.message.includes(`${path.join(dir, 'trec', 'train.jsonl')} (dataset trec)`) &&
          !error.message.includes('validation.jsonl') &&
          /--datasets DIR/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks a preset file, naming the file and each bad key', () => {
    assert.throws(
      () => checkPreset({ name: 'x', models: [{ file: 'a.gguf' }], datasets: [{ name: 'd', file: 'd.jsonl', inputs: [], target: 't', task: 'regression', instruction: 'i' }], study: { model: 'm.gguf' }, extra: 1 }, 'grid.yaml'),
      (error: Error) =>
        ['grid.yaml: extra: unknown key', 'grid.yaml: models[0].name: a folder name', 'grid.yaml: datasets[0].inputs:', 'grid.yaml: datasets[0].task: classification or generative', 'grid.yaml: study.model: set per model or dataset'].every((m) => error.message.includes(m)),
    );
    const ok = checkPreset({ name: 'mine', models: [{ id: 'smollm2-135m' }], datasets: [cpuSmallPreset.datasets[0]], study: { split: { test: 5 } } }, 'grid.yaml');
    assert.equal(ok.name, 'mine');
    assert.throws(() => builtInPreset('huge'), /unknown preset "huge" \(built in: cpu-small, cpu-medium, paper/);
  });
});
