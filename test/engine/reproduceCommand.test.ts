import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'yaml';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;

describe('icl-lab reproduce on a generated model', function () {
  this.timeout(300_000);
  let root: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-reproduce-engine-'));
    await mkdir(path.join(root, 'datasets', 'reviews'), { recursive: true });
    await writeFile(path.join(root, 'datasets', 'reviews', 'all.jsonl'), demoRows(40, 3).map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writeFile(path.join(root, 'datasets', 'reviews', 'labels.json'), JSON.stringify({ negative: 'negative', positive: 'positive' }));
    await writeFile(
      path.join(root, 'grid.yaml'),
      stringify({
        name: 'tiny-grid',
        models: [{ name: 'tiny-qwen2', file: await testModelPath(tinyQwen2) }],
        datasets: [{ name: 'reviews', file: 'reviews/all.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'reviews/labels.json', instruction: 'Is each review positive or negative?' }],
        study: {
          split: { test: 8, probe: 4, pool: 16 },
          masks: ['isolated', 'in-context'],
          inContextShots: 2,
          selection: { strategies: ['random', 'highest-first', 'bm25'], budgets: [2, 4], seeds: [0, 1] },
          correlation: { bootstrap: 20, maxBootstrap: 20, permutations: 20 },
          evaluation: { bootstrap: 50 },
          histogramExamples: 0,
          engine: { threads: 2 },
        },
      }),
    );
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('runs the grid, writes the table with a row per mask, and skips the finished cell when run again', async () => {
    const out = path.join(root, 'grid');
    const args = ['reproduce', '--preset-file', path.join(root, 'grid.yaml'), '--out', out, '--datasets', path.join(root, 'datasets'), '--no-report'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /tiny-qwen2: measured \d+ tok\/s extracting, \d+ tok\/s scoring/);
    assert.match(first.stderr, /\[1\/1\] tiny-qwen2\/reviews: done in \d+s \(expected /);
    const table = parse(await readFile(path.join(out, 'table.csv'), 'utf8'), { columns: true }) as Row[];
    assert.deepEqual(table.map((r) => r['mask']), ['isolated', 'in-context']);
    const run = JSON.parse(await readFile(path.join(out, 'tiny-qwen2', 'reviews', 'run.json'), 'utf8'));
    for (const [i, row] of table.entries()) {
      const headline = run.headline.byMask[i];
      assert.equal(row['model'], 'tiny-qwen2');
      assert.equal(row['dataset'], 'reviews');
      assert.equal(Number(row['rho']), headline.rho, "the headline's ρ");
      assert.equal(Number(row['max_abs_rho']), Math.abs(headline.rho));
      assert.equal(Number(row['ceiling']), headline.ceiling);
      assert.ok(Math.abs(Number(row['max_abs_partial_rho'])) <= 1);
      assert.ok(['highest-first', 'bm25'].includes(row['best_b2']!) && ['highest-first', 'bm25'].includes(row['best_b4']!), row['best_b2']);
      assert.ok(Number(row['gain_ci_low_b4']) <= Number(row['gain_b4']) && Number(row['gain_b4']) <= Number(row['gain_ci_high_b4']));
      assert.ok(Number(row['random_b2']) >= 0 && Number(row['random_b2']) <= 1);
    }
    assert.match(await readFile(path.join(out, 'table.md'), 'utf8'), /^Preset `tiny-grid`: 1 of 1 cells finished\./);

    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /1 cell is finished already: tiny-qwen2\/reviews/);
    assert.doesNotMatch(again.stderr, /\[1\/1\]/);
  });
});
