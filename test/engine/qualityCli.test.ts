import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { loadSplits } from '../../src/core/dataset/splits.js';
import { qualityCsvColumns } from '../../src/core/format/qualityCsv.js';
import { evaluatePrompts } from '../../src/core/quality/promptEvaluation.js';
import { generativeTemplate } from '../../src/core/template/defaultTemplates.js';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyLlama, tinyQwen2 } from './generatedModels.js';


describe('example quality through the CLI and the engine', function () {
  this.timeout(300_000);
  let dir: string;
  let data: string;
  let model: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-quality-'));
    data = path.join(dir, 'reviews.jsonl');
    await writeFile(data, demoRows(30, 4).map((row) => JSON.stringify(row)).join('\n') + '\n');
    model = await testModelPath(tinyLlama);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const common = (out: string): string[] => [
    'quality', '--model', model, '--data', data, '--input', 'text', '--target', 'label', '--labels', 'positive,negative',
    '--probe', '6', '--test', '6', '--pool-size', '8', '--seed', '2', '--gpu', 'cpu', '--out', out,
  ];

  it('writes one row per candidate × estimator × metric, the same for the same seed', async () => {
    const first = path.join(dir, 'q1.csv');
    const second = path.join(dir, 'q2.csv');
    const a = await runCli(common(first));
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /8 candidates × 6 probes \(one-shot\) → .*1\.000× the minimum/);
    const b = await runCli(common(second));
    assert.equal(b.code, 0, b.stderr);
    const text = await readFile(first, 'utf8');
    assert.equal(text, await readFile(second, 'utf8'));
    const [header, ...rows] = text.trimEnd().split('\n');
    assert.equal(header, qualityCsvColumns.join(','));
    assert.equal(header, 'example,id,estimator,metric,value,stderr,n_prompts,quality_half_a,quality_half_b');
    assert.equal(rows.length, 8 * 2);
    for (const row of rows) {
      const [example, id, estimator, metric, value, , nPrompts] = row.split(',');
      assert.equal(example, id, 'demo ids are row indices');
      assert.equal(estimator, 'one-shot');
      assert.ok(metric === 'gold_logprob' || metric === 'accuracy');
      assert.ok(Number.isFinite(Number(value)));
      assert.equal(nPrompts, '6');
      if (metric === 'accuracy') assert.ok(Math.abs(Number(value)) <= 1);
    }
  });

  it('names a bad row by file and line, or skips and lists it with --skip-bad-rows', async () => {
    const flawed = path.join(dir, 'flawed.jsonl');
    const lines = (await readFile(data, 'utf8')).trimEnd().split('\n');
    lines[4] = JSON.stringify({ id: 4, text: 'Odd one.', label: 'neutral' });
    await writeFile(flawed, lines.join('\n') + '\n');
    const args = common(path.join(dir, 'flawed.csv')).map((a) => (a === data ? flawed : a));
    const failed = await runCli(args);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /flawed\.jsonl:5: .*neutral/);
    const skipped = await runCli([...args, '--skip-bad-rows']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /skipped .*flawed\.jsonl:5: .*neutral/);
  });

  it('runs the influence estimator with seeded k-shot prompts', async () => {
    const out = path.join(dir, 'influence.csv');
    const result = await runCli([...common(out), '--estimator', 'influence', '--shots', '2', '--prompts', '12']);
    assert.equal(result.code, 0, result.stderr);
    const rows = (await readFile(out, 'utf8')).trimEnd().split('\n').slice(1);
    assert.equal(rows.length, 16);
    const appearances = rows.filter((r) => r.includes(',gold_logprob,')).reduce((n, r) => n + Number(r.split(',')[6]), 0);
    assert.equal(appearances, 12 * 2, 'every prompt holds two candidates');
  });

  it('evaluate reports k-shot accuracy on the test split, and refuses a test row as a demonstration', async () => {
    const args = ['evaluate', '--model', model, '--data', data, '--input', 'text', '--target', 'label', '--labels', 'positive,negative', '--probe', '6', '--test', '6', '--seed', '2', '--gpu', 'cpu'];
    const { splits } = await loadSplits({ from: 'one-file', data: { file: data, inputs: ['text'], task: { type: 'classification', target: 'label' } }, sizes: { probe: 6, test: 6 }, seed: 2 });
    const demos = splits.pool.slice(0, 2).map((row) => row.index);
    const ok = await runCli([...args, '--demos', demos.join(',')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^2-shot on 6 test rows: accuracy (0|1)\.\d{4}, macro-F1 (0|1)\.\d{4}, mean gold log-probability -?\d/);
    const testRow = await runCli([...args, '--demos', String(splits.test[0]!.index)]);
    assert.equal(testRow.code, 1);
    const bad = await runCli([...args, '--demos', '0,99']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /demonstration rows .*99.* are not in the pool or probe set/);
  });

  it('scores generative prompts by reference log-likelihood and greedy exact match', async () => {
    const engine = await ActivationEngine.create('cpu');
    try {
      await engine.loadModel(await testModelPath(tinyQwen2));
      const options = { contextSize: 1024, batchSize: 256, maxSequences: 16, threads: 2, exact: false, maxTokens: 0, stop: [] };
      const scorer = {
        scoreTexts: (groups: Parameters<ActivationEngine['scoreTexts']>[0]) => engine.scoreTexts(groups, options),
        generateTexts: (groups: Parameters<ActivationEngine['generateTexts']>[0], maxTokens: number, stop: readonly string[]) => engine.generateTexts(groups, { ...options, maxTokens, stop }),
      };
      const rows = ['two plus two', 'the capital of France', 'a colour of the sky'].map((question, index) => ({
        index,
        line: index + 1,
        id: String(index),
        inputs: { question },
        references: [['four', 'Paris', 'blue'][index]!],
      }));
      const result = await evaluatePrompts(scorer, generativeTemplate, { type: 'generative', maxTokens: 6, stop: ['\n'] }, [[], [rows[0]!]], rows.slice(1));
      assert.deepEqual([...result.metrics.keys()], ['reference_loglik', 'em', 'f1', 'rouge_l']);
      assert.equal(result.predictions[1]!.length, 2);
      const em = result.metrics.get('em')!;
      const loglik = result.metrics.get('reference_loglik')!;
      assert.equal(em.length, 2);
      assert.ok(em.every((values) => values.every((v) => v === 0 || v === 1)));
      assert.ok(loglik.every((values) => values.every((v) => Number.isFinite(v) && v < 0)));
      assert.notEqual(loglik[0]![0], loglik[1]![0], 'the demonstration changes the likelihood');
    } finally {
      await engine.dispose();
    }
  });
});
