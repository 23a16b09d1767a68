// selection.embedding naming a GGUF embedding model: the similarity strategies' vectors come from
// node-llama-cpp's embedding API on that model, not from the run model's own pass.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyLlama, tinyQwen2 } from './generatedModels.js';

describe('selection.embedding with a GGUF embedding model', function () {
  this.timeout(600_000);
  let dir: string;
  let embedder: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-embedding-'));
    // A second generated model stands in for an embedding model: node-llama-cpp embeds with any GGUF.
    embedder = path.join(dir, 'embedder.gguf');
    await copyFile(await testModelPath(tinyLlama), embedder);
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(30, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("returns node-llama-cpp's own embedding of each text, in order", async () => {
    const texts = ['Review: a warm, funny film.', 'Review: dull and far too long.'];
    const engine = await ActivationEngine.create('cpu');
    let ours: Float64Array[];
    try {
      ours = await engine.embedTexts(embedder, texts, 1);
    } finally {
      await engine.dispose();
    }
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: embedder, gpuLayers: 0 });
    const context = await model.createEmbeddingContext({ threads: 1 });
    try {
      assert.equal(ours.length, 2);
      for (const [i, text] of texts.entries()) {
        const reference = (await context.getEmbeddingFor(text)).vector;
        assert.equal(ours[i]!.length, reference.length);
        for (let d = 0; d < reference.length; d++) assert.ok(Math.abs(ours[i]![d]! - reference[d]!) <= 1e-6 * (1 + Math.abs(reference[d]!)), `text ${i}, dim ${d}`);
      }
      assert.ok(ours[0]!.some((v, d) => v !== ours[1]![d]), 'two texts, two vectors');
    } finally {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    }
  });

  it('runs k-center-greedy and KATE on the embedding model’s vectors of the pool and the test queries', async () => {
    const config = path.join(dir, 'embedding.run.json');
    await writeFile(
      config,
      JSON.stringify({
        ...demoRunConfig(1),
        model: await testModelPath(tinyQwen2),
        split: { test: 5, probe: 4, pool: 16 },
        masks: ['isolated'],
        correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 },
        evaluation: { bootstrap: 10 },
        histogramExamples: 0,
        selection: { strategies: ['random', 'k-center-greedy', 'kate'], budgets: [2], rounds: 1, seeds: [0], retrievalShots: 2, embedding: 'embedder.gguf' },
      }),
    );
    const out = path.join(dir, 'run');
    const result = await runCli(['run', config, '--out', out, '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    const checkpoints = await readdir(path.join(out, 'checkpoints'));
    assert.ok(checkpoints.includes('embedding-pool-0.json') && checkpoints.includes('embedding-test-0.json'), checkpoints.join(', '));
    assert.ok(!checkpoints.some((f) => f.startsWith('extract-test-')), 'no test pass of the run model');
    const pool = JSON.parse(await readFile(path.join(out, 'checkpoints', 'embedding-pool-0.json'), 'utf8')) as { vectors: number[][] };
    assert.equal(pool.vectors.length, 16);
    assert.ok(pool.vectors.every((v) => v.length === tinyLlama.embd && v.every(Number.isFinite)));
    const ownPass = JSON.parse(await readFile(path.join(out, 'checkpoints', 'extract-isolated-0.json'), 'utf8')) as { vectors?: unknown };
    assert.equal(ownPass.vectors, undefined, "the run model's pass pools no vectors");
    const recorded = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { config: { selection: { embedding: string } } };
    assert.equal(recorded.config.selection.embedding, embedder);
    const selections = (await readFile(path.join(out, 'selections.csv'), 'utf8')).split('\n').filter((line) => line.startsWith('k-center-greedy,'));
    assert.equal(selections.length, 2);
  });

  it('names a missing embedding model and refuses a value that is neither model nor a .gguf path', async () => {
    const base = { ...demoRunConfig(1), model: await testModelPath(tinyQwen2), split: { test: 5, probe: 4, pool: 16 }, masks: ['isolated'] };
    const missing = path.join(dir, 'missing.run.json');
    await writeFile(missing, JSON.stringify({ ...base, selection: { strategies: ['random', 'k-center-greedy'], budgets: [2], seeds: [0], embedding: 'nowhere.gguf' } }));
    const result = await runCli(['run', missing, '--out', path.join(dir, 'missing'), '--no-report']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /embedding model file not found: .*nowhere\.gguf/);
    const wrong = path.join(dir, 'wrong.run.json');
    await writeFile(wrong, JSON.stringify({ ...base, selection: { embedding: 'bert' } }));
    const refused = await runCli(['run', wrong, '--out', path.join(dir, 'wrong'), '--no-report']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /selection\.embedding/);
  });
});
