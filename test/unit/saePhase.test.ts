import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readStatsCsv, statsCellKey } from '../../src/core/experiment/correlations.js';
import { parseRunConfig, type RunConfig } from '../../src/core/experiment/runConfig.js';
import { prepareRun, type PreparedRun } from '../../src/core/experiment/runExperiment.js';
import { readSaeRecord, runSaePhase, saeSignalsUnit } from '../../src/core/experiment/saePhase.js';
import { decodeNpyFloat32 } from '../../src/core/format/npy.js';
import { statsCsvHeader, statsCsvWithDerivedSite } from '../../src/core/format/statsCsv.js';
import type { QualityRow } from '../../src/core/quality/exampleQuality.js';
import { saeEncoderFormula } from '../../src/core/sae/saeWeights.js';
import { encode } from '../../src/core/sae/topKSae.js';
import { activationStatistics } from '../../src/core/stats/activationStatistics.js';
import { fakeSaeModel, fakeWidth, plantedWeights, spanWords, wordActivation } from '../support/fakeSae.js';
import { syntheticRows, syntheticTemplate } from '../support/syntheticRunFolder.js';

describe('the sae phase', () => {
  let root: string;
  let config: RunConfig;
  let prepared: PreparedRun;
  let qualityRows: QualityRow[];
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-sae-phase-'));
    await writeFile(path.join(root, 'notes.jsonl'), syntheticRows(14));
    await writeFile(path.join(root, 'notes.icl.tmpl'), syntheticTemplate);
    await writeFile(path.join(root, 'extra.txt'), 'plain words here\n\nanother longer unlabelled sentence\n');
    config = parseRunConfig(
      [
        'model: fake.gguf',
        'data: { file: notes.jsonl, inputs: [text], id: id, target: label, labels: { "0": low, "1": high } }',
        'template: notes.icl.tmpl',
        'split: { test: 2, probe: 2 }',
        'selection: { strategies: [random, sae-coverage, sae-diverse], budgets: [2] }',
        'sae: { expansion: 2, k: 2, topFeatures: 3, text: extra.txt, heldOutShare: 0.2 }',
      ].join('\n'),
      path.join(root, 'study.run.yaml'),
    );
    prepared = await prepareRun(config);
    qualityRows = prepared.splits.pool.map((row, i) => ({ example: row.index, id: row.id, estimator: 'one-shot', metric: config.quality.metric, value: i % 3, stderr: 0, nPrompts: 1 }) as unknown as QualityRow);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const run = async (dir: string, model = fakeSaeModel()) => ({ model, result: await runSaePhase({ dir, config, prepared, model, qualityRows, checkCancelled: () => undefined }) });

  it('trains once on the pool spans and the extra text, writes sae.json, features.json and the stats rows, and is reused after', async () => {
    const dir = path.join(root, 'run-a');
    const { model, result } = await run(dir);
    assert.equal(result.reused, false);
    assert.equal(model.calls.train.length, 1);
    const pool = prepared.splits.pool;
    const request = model.calls.train[0]!;
    // 10 pool examples and 2 text lines; 20% of 12 → 2 held out, by a seeded draw.
    assert.equal(pool.length, 10);
    assert.equal(request.train.length + request.heldOut.length, pool.length + 2);
    assert.equal(request.heldOut.length, 2);
    assert.deepEqual(request.options, { ...request.options, width: fakeWidth, latents: 8, k: 2, auxK: 4, batchSize: 1024, epochs: 10, seed: 0 });
    assert.ok(Math.abs(request.options.learningRate - 2e-4 / Math.sqrt(8 / 16384)) < 1e-15, 'Gao et al.’s scaled step size');
    // Loss recovered is measured on the held-out texts.
    assert.equal(model.calls.loss[0]!.length, 2);

    const record = (await readSaeRecord(path.join(dir, 'sae', 'sae.json')))!;
    assert.equal(record.site, 'mlp_out');
    assert.equal(record.layer, 2, 'middle of 4 layers');
    assert.deepEqual(record.files.W_enc, { file: 'W_enc.npy', shape: [fakeWidth, 8] });
    assert.deepEqual(record.files.W_dec, { file: 'W_dec.npy', shape: [8, fakeWidth] });
    assert.equal(record.encoder, saeEncoderFormula);
    assert.equal(record.evaluation.lossRecovered, (4 - 2.5) / (4 - 2));
    assert.equal(record.data.textLines, 2);
    assert.deepEqual(record.data.heldOutTextLines.every((l) => l === 1 || l === 3), true, 'text lines named by their line numbers');
    assert.ok(existsSync(path.join(dir, 'sae', 'activations', `text-3_L2.npy`)));

    // A stats.csv row per pool example, at the SAE's layer, isolated mask, pooling all.
    assert.deepEqual(result.columns, ['distinct_features', 'feature_entropy', 'reconstruction_error', ...record.topLatents.map((l) => `max_f${l}`)]);
    assert.equal(record.topLatents.length, 3);
    assert.deepEqual(result.rows.map((r) => r.example), pool.map((r) => r.index));
    for (const r of result.rows) assert.deepEqual([r.layer, r.mask, r.pooling, r.tokenCount], [2, 'isolated', 'all', spanWords(`Note: ${pool.find((p) => p.index === r.example)!.inputs['text']}`).length]);

    // Again: nothing trained, the same rows and features.
    const again = await run(dir);
    assert.equal(again.result.reused, true);
    assert.equal(again.model.calls.train.length, 0);
    assert.equal(again.model.calls.extract, 0);
    assert.deepEqual(again.result.rows, result.rows);
    assert.deepEqual(again.result.features, result.features);
  });

  it('gives the same bytes for the same seed, and retrains when a setting changes', async () => {
    const a = path.join(root, 'run-b');
    const b = path.join(root, 'run-c');
    await run(a);
    await run(b);
    for (const file of ['W_enc.npy', 'b_dec.npy', 'features.json']) assert.deepEqual(await readFile(path.join(a, 'sae', file)), await readFile(path.join(b, 'sae', file)), file);
    assert.deepEqual(await readFile(path.join(a, 'checkpoints', saeSignalsUnit)), await readFile(path.join(b, 'checkpoints', saeSignalsUnit)));
    const changed = await runSaePhase({ dir: a, config, sae: { ...config.sae!, k: 3 }, prepared, model: fakeSaeModel(), qualityRows, checkCancelled: () => undefined });
    assert.equal(changed.reused, false);
    assert.equal((await readSaeRecord(path.join(a, 'sae', 'sae.json')))!.settings.k, 3);
  });

  it('keeps the earlier SAE whole when a later training stops, and reuses the activations for other training settings', async () => {
    const dir = path.join(root, 'run-f');
    await run(dir);
    const before = await readFile(path.join(dir, 'sae', 'sae.json'));
    const weights = await readFile(path.join(dir, 'sae', 'W_enc.npy'));
    const stopped = fakeSaeModel();
    const stop = (): Promise<never> => Promise.reject(new Error('cancelled'));
    const model = { ...stopped, sae: { ...stopped.sae, lossRecovered: stop } };
    await assert.rejects(runSaePhase({ dir, config, sae: { ...config.sae!, expansion: 3 }, prepared, model, qualityRows, checkCancelled: () => undefined }), /cancelled/);
    assert.equal(stopped.calls.extract, 0, 'the activations did not depend on the expansion');
    assert.equal(stopped.calls.train.length, 1);
    assert.deepEqual(await readFile(path.join(dir, 'sae', 'sae.json')), before);
    assert.deepEqual(await readFile(path.join(dir, 'sae', 'W_enc.npy')), weights, 'the new weights never joined sae/');
    assert.equal((await run(dir)).result.reused, true);
  });

  it('computes each example\'s signals from its codes as by hand', async () => {
    const dir = path.join(root, 'run-d');
    const { result } = await run(dir);
    const record = (await readSaeRecord(path.join(dir, 'sae', 'sae.json')))!;
    const row = prepared.splits.pool[0]!;
    // By hand: each word's activation, scaled, through the planted encoder (axes and diagonals), k = 2.
    const planted = plantedWeights(record.settings.latents, 2);
    const codes = spanWords(`Note: ${row.inputs['text']}`).map((w) => encode(planted, wordActivation(w).map((v) => v * record.inputScale)));
    const mass = new Map<number, number>();
    const max = new Map<number, number>();
    for (const c of codes) c.latents.forEach((l, j) => (mass.set(l, (mass.get(l) ?? 0) + c.values[j]!), max.set(l, Math.max(max.get(l) ?? 0, c.values[j]!))));
    const total = [...mass.values()].reduce((a, b) => a + b, 0);
    const entropy = -[...mass.values()].reduce((s, m) => s + (m / total) * Math.log(m / total), 0);
    const values = result.rows.find((r) => r.example === row.index)!.values;
    assert.equal(values[0], mass.size);
    assert.ok(Math.abs(values[1]! - entropy) < 1e-6, `${values[1]} vs ${entropy}`);
    record.topLatents.forEach((l, i) => assert.ok(Math.abs(values[3 + i]! - (max.get(l) ?? 0)) < 1e-6));
    // The candidates' features: summed activation per latent.
    const features = result.features.get(row.index)!;
    for (const [l, m] of mass) assert.ok(Math.abs(features.get(l)! - m) < 1e-5);
  });

  it('writes features.json in the shape the Features panel reads, reproducible from the .npy files and sae.json', async () => {
    const dir = path.join(root, 'run-e');
    await run(dir);
    const record = (await readSaeRecord(path.join(dir, 'sae', 'sae.json')))!;
    const file = JSON.parse(await readFile(path.join(dir, 'sae', 'features.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file), ['model', 'site', 'layer', 'latents', 'k', 'features']);
    assert.deepEqual([file['model'], file['site'], file['layer'], file['latents'], file['k']], ['fake.gguf', 'mlp_out', 2, 8, 2]);
    const features = file['features'] as { latent: number; density: number; qualityRho: number | null; qualityP: number | null; examples: { example: number; id: string; maxActivation: number; tokens: { text: string; activation: number }[] }[] }[];
    assert.ok(features.length > 0 && features.length <= 64);
    const densities = features.map((f) => f.density);
    assert.deepEqual(densities, [...densities].sort((a, b) => b - a), 'densest first');
    for (const f of features) {
      assert.deepEqual(Object.keys(f), ['latent', 'density', 'qualityRho', 'qualityP', 'examples']);
      assert.ok(f.qualityRho === null || (f.qualityRho >= -1 && f.qualityRho <= 1));
      assert.ok(f.examples.length <= 8);
      for (const e of f.examples) {
        assert.deepEqual(Object.keys(e), ['example', 'id', 'maxActivation', 'tokens']);
        assert.equal(e.maxActivation, Math.max(...e.tokens.map((t) => t.activation)));
        // What a Python user does: x · inputScale through W_enc (numpy layout [width, latents]) and b_enc, then TopK.
        const x = decodeNpyFloat32(await readFile(path.join(dir, 'sae', 'activations', `${e.example}_L2.npy`)));
        const wEnc = decodeNpyFloat32(await readFile(path.join(dir, 'sae', record.files.W_enc.file)));
        e.tokens.forEach((token, t) => {
          const pre = Array.from({ length: 8 }, (_, i) => {
            let sum = 0;
            for (let d = 0; d < fakeWidth; d++) sum += x.values[t * fakeWidth + d]! * record.inputScale * wEnc.values[d * 8 + i]!;
            return sum;
          });
          const kept = pre.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 2);
          const mine = kept.find(([, i]) => i === f.latent);
          assert.ok(Math.abs(token.activation - (mine && mine[0] > 0 ? mine[0] : 0)) < 1e-5);
        });
      }
    }
  });

  it('puts the sae site into stats.csv as extra columns that other rows leave empty, and correlations read them', async () => {
    const dir = path.join(root, 'stats');
    await mkdir(dir, { recursive: true });
    const base = statsCsvHeader() + `5,mlp_out,0,isolated,all,3,${activationStatistics.map((_, i) => i).join(',')}\n`;
    const rows = [{ example: 5, layer: 2, mask: 'isolated' as const, pooling: 'all', tokenCount: 3, values: [4, 1.25, NaN] }];
    const csv = statsCsvWithDerivedSite(base, 'sae', ['distinct_features', 'feature_entropy', 'reconstruction_error'], rows);
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], `${statsCsvHeader().trim()},distinct_features,feature_entropy,reconstruction_error`);
    assert.equal(lines[1], `5,mlp_out,0,isolated,all,3,${activationStatistics.map((_, i) => i).join(',')},,,`);
    assert.equal(lines[2], `5,sae,2,isolated,all,3${','.repeat(activationStatistics.length)},4,1.25,nan`);
    assert.equal(statsCsvWithDerivedSite(csv, 'sae', ['distinct_features', 'feature_entropy', 'reconstruction_error'], rows), csv, 'written again: the same bytes');
    await writeFile(path.join(dir, 'stats.csv'), csv);
    const cells = await readStatsCsv([path.join(dir, 'stats.csv')]);
    assert.equal(cells.get(statsCellKey({ mask: 'isolated', site: 'sae', layer: 2, pooling: 'all', statistic: 'distinct_features' }))!.get(5), 4);
    assert.ok(Number.isNaN(cells.get(statsCellKey({ mask: 'isolated', site: 'sae', layer: 2, pooling: 'all', statistic: 'reconstruction_error' }))!.get(5)));
    assert.equal(cells.has(statsCellKey({ mask: 'isolated', site: 'sae', layer: 2, pooling: 'all', statistic: 'kurtosis' })), false, 'no activation statistics on sae rows');
    assert.equal(cells.has(statsCellKey({ mask: 'isolated', site: 'mlp_out', layer: 0, pooling: 'all', statistic: 'distinct_features' })), false, 'no SAE statistics on activation rows');
  });
});
