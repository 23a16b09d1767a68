// predictions.csv: every test query's answer under every evaluated prompt, checkable against curves.csv.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;

describe('predictions.csv', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-predictions-'));
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(30, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('holds each query’s predicted label beside its gold label, for prompt and retrieval strategies alike, and its accuracy means are curves.csv’s', async () => {
    const config = path.join(dir, 'p.run.json');
    const selection = { strategies: ['random', 'highest-first', 'bm25'], budgets: [2], rounds: 1, seeds: [0, 1], retrievalShots: 2 };
    await writeFile(config, JSON.stringify({ ...demoRunConfig(1), model: await testModelPath(tinyQwen2), split: { test: 5, probe: 3, pool: 12 }, masks: ['isolated'], selection, correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 }, evaluation: { bootstrap: 10 }, histogramExamples: 0 }));
    const out = path.join(dir, 'run');
    const result = await runCli(['run', config, '--out', out, '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    const text = await readFile(path.join(out, 'predictions.csv'), 'utf8');
    assert.equal(text.split('\n')[0], 'strategy,seed,budget,example,id,prediction,gold,gold_logprob,accuracy');
    const rows = parse(text, { columns: true }) as Row[];
    // 3 strategies × 2 seeds × 1 budget × 5 test queries.
    assert.equal(rows.length, 30);
    assert.deepEqual([...new Set(rows.map((r) => r['strategy']))], ['bm25', 'highest-first', 'random']);
    for (const r of rows) {
      assert.ok(['positive', 'negative'].includes(r['prediction']!) && ['positive', 'negative'].includes(r['gold']!), JSON.stringify(r));
      assert.equal(Number(r['accuracy']), r['prediction'] === r['gold'] ? 1 : 0, JSON.stringify(r));
      assert.ok(Number(r['gold_logprob']) < 0);
    }
    const curves = parse(await readFile(path.join(out, 'curves.csv'), 'utf8'), { columns: true }) as Row[];
    for (const c of curves.filter((r) => r['metric'] === 'accuracy')) {
      const mine = rows.filter((r) => r['strategy'] === c['strategy'] && r['seed'] === c['seed'] && r['budget'] === c['budget']);
      assert.equal(mine.length, 5);
      assert.ok(Math.abs(mine.reduce((sum, r) => sum + Number(r['accuracy']), 0) / 5 - Number(c['value'])) < 1e-12, JSON.stringify(c));
    }
  });
});
