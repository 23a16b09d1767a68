// selection.embedding `model` (the default): the similarity strategies compare each example's
// token-mean residual stream after the last layer, read by one extra isolated pass when the run's
// sites are only mlp_out, and recorded in run.json.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { decodeNpyFloat32 } from '../../src/core/report/activationHistograms.js';
import { centredUnitVectors } from '../../src/core/selection/embeddings.js';
import { kCenterGreedy } from '../../src/core/selection/kCenterGreedy.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;
interface Unit {
  site?: string;
  examples: [number, string, string][];
  stats: string;
  vectors?: number[][];
}

describe('selection.embedding model: the final-layer residual stream', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-model-embedding-'));
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(20, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('embeds pool and test queries by their token-mean resid_post at the last layer, which k-center-greedy compares centred and normalised', async () => {
    const model = await testModelPath(tinyQwen2);
    const last = tinyQwen2.layers - 1;
    const config = path.join(dir, 'e.run.json');
    await writeFile(
      config,
      JSON.stringify({
        ...demoRunConfig(1),
        model,
        split: { test: 4, probe: 3, pool: 8 },
        masks: ['isolated'],
        engine: { threads: 1, gpu: 'cpu', exact: true },
        correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 },
        evaluation: { bootstrap: 10 },
        histogramExamples: 0,
        selection: { strategies: ['random', 'k-center-greedy', 'kate'], budgets: [3], rounds: 1, seeds: [0], retrievalShots: 2 },
      }),
    );
    const out = path.join(dir, 'run');
    const result = await runCli(['run', config, '--out', out, '--no-report']);
    assert.equal(result.code, 0, result.stderr);

    const record = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { embedding?: string; config: { sites: string[]; selection: { vectorSite: string; vectorLayer: unknown } } };
    assert.equal(record.embedding, `model: resid_post mean, layer ${last}`);
    assert.deepEqual([record.config.sites, record.config.selection.vectorSite, record.config.selection.vectorLayer], [['mlp_out'], 'resid_post', 'last']);

    // The vectors come from an isolated resid_post pass of their own: no stats rows, no vectors in the MLP's units.
    const checkpoints = path.join(out, 'checkpoints');
    const read = async (name: string): Promise<Unit> => JSON.parse(await readFile(path.join(checkpoints, name), 'utf8')) as Unit;
    assert.deepEqual((await readdir(checkpoints)).filter((f) => f.startsWith('extract-')).sort(), ['extract-isolated-0.json', 'extract-resid_post-isolated-0.json', 'extract-test-0.json']);
    const mlp = await read('extract-isolated-0.json');
    assert.equal(mlp.vectors, undefined);
    const poolUnit = await read('extract-resid_post-isolated-0.json');
    assert.equal(poolUnit.stats, '');
    const testUnit = await read('extract-test-0.json');
    assert.equal(testUnit.site, 'resid_post');
    const stats = parse(await readFile(path.join(out, 'stats.csv'), 'utf8'), { columns: true }) as Row[];
    assert.ok(stats.length > 0 && stats.every((r) => r['site'] === 'mlp_out'));

    // Reference: `icl-lab extract --site resid_post --raw` of every row, each example's last-layer
    // activations averaged over its span tokens here, in float64.
    const raw = path.join(dir, 'raw');
    const extracted = await runCli(['extract', '--model', model, '--data', path.join(dir, 'demo.jsonl'), '--input', 'text', '--mask', 'isolated', '--site', 'resid_post', '--gpu', 'cpu', '--exact', '--threads', '1', '--raw', raw, '--out', path.join(dir, 'reference.csv')]);
    assert.equal(extracted.code, 0, extracted.stderr);
    const tokenMean = async (example: number): Promise<Float64Array> => {
      const { shape, values } = decodeNpyFloat32(await readFile(path.join(raw, `${example}_L${last}.npy`)));
      const [tokens, width] = [shape[0]!, shape[1]!];
      const mean = new Float64Array(width);
      for (let t = 0; t < tokens; t++) for (let d = 0; d < width; d++) mean[d]! += values[t * width + d]! / tokens;
      return mean;
    };
    const near = (ours: readonly number[], reference: Float64Array, what: string): void => {
      assert.equal(ours.length, tinyQwen2.embd, what);
      reference.forEach((r, d) => assert.ok(Math.abs(ours[d]! - r) <= 1e-4 * (1 + Math.abs(r)), `${what}, dim ${d}: ${ours[d]} vs ${r}`));
    };
    const poolReference: Float64Array[] = [];
    for (const [i, [example]] of poolUnit.examples.entries()) {
      poolReference.push(await tokenMean(example));
      near(poolUnit.vectors![i]!, poolReference[i]!, `pool example ${example}`);
    }
    for (const [i, [example]] of testUnit.examples.entries()) near(testUnit.vectors![i]!, await tokenMean(example), `test example ${example}`);

    // k-center-greedy chose what it chooses on the reference vectors, mean-centred and L2-normalised.
    const unit = centredUnitVectors(poolReference);
    const pool = poolUnit.examples.map(([index, id], p) => ({ index, id, vector: unit[p]! }));
    const expected = kCenterGreedy.select({ pool, budget: 3, seed: 0 * 1000 + 1, labelled: [] }).map((s) => pool[s.position]!.index);
    const selections = parse(await readFile(path.join(out, 'selections.csv'), 'utf8'), { columns: true }) as Row[];
    assert.deepEqual(
      selections.filter((r) => r['strategy'] === 'k-center-greedy').map((r) => Number(r['example'])),
      expected,
    );
  });
});
