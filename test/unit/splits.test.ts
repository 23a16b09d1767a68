import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetRow, DatasetSpec } from '../../src/core/dataset/datasetSpec.js';
import { loadSplits, seededSample, seededSplit, splitNames, type DatasetSplits } from '../../src/core/dataset/splits.js';

function rows(n: number): DatasetRow[] {
  return Array.from({ length: n }, (_, index) => ({ index, line: index + 1, id: `r${index}`, inputs: { text: `text ${index}` } }));
}

const indices = (splits: DatasetSplits): Record<string, number[]> => Object.fromEntries(splitNames.map((name) => [name, splits[name].map((r) => r.index)]));

describe('dataset splits', () => {
  it('gives the same split for the same seed and another for another seed', () => {
    const data = rows(100);
    const sizes = { pool: 50, probe: 20, test: 30 };
    assert.deepEqual(indices(seededSplit(data, sizes, 7)), indices(seededSplit(data, sizes, 7)));
    assert.notDeepEqual(indices(seededSplit(data, sizes, 7)), indices(seededSplit(data, sizes, 8)));
  });

  it('makes disjoint sets of exactly the asked sizes, each in file order', () => {
    const split = seededSplit(rows(100), { pool: 40, probe: 20, test: 30 }, 3);
    assert.deepEqual(splitNames.map((name) => split[name].length), [40, 20, 30]);
    const all = splitNames.flatMap((name) => split[name].map((r) => r.index));
    assert.equal(new Set(all).size, 90);
    for (const name of splitNames) {
      const order = split[name].map((r) => r.index);
      assert.deepEqual(order, [...order].sort((a, b) => a - b));
    }
  });

  it('gives the pool every remaining row when its size is left out', () => {
    const split = seededSplit(rows(50), { probe: 10, test: 15 }, 1);
    assert.equal(split.pool.length, 25);
    assert.equal(new Set([...split.pool, ...split.probe, ...split.test].map((r) => r.index)).size, 50);
  });

  it('keeps the test set when only the pool or probe size changes', () => {
    const data = rows(200);
    const test = seededSplit(data, { pool: 20, probe: 10, test: 40 }, 5).test;
    assert.deepEqual(seededSplit(data, { pool: 100, probe: 50, test: 40 }, 5).test, test);
  });

  it('refuses sizes the rows cannot fill and sizes that are not counts', () => {
    assert.throws(() => seededSplit(rows(10), { pool: 5, probe: 3, test: 3 }, 0), { message: 'the split needs 3 test + 3 probe + 5 pool rows, but there are only 10' });
    assert.throws(() => seededSplit(rows(10), { probe: 2.5, test: 3 }, 0), { message: 'probe size must be a whole number of rows, not 2.5' });
  });

  it('samples deterministically and in file order', () => {
    const data = rows(30);
    const sample = seededSample(data, 8, 11);
    assert.deepEqual(sample, seededSample(data, 8, 11));
    assert.equal(new Set(sample.map((r) => r.index)).size, 8);
    assert.deepEqual(sample.map((r) => r.index), sample.map((r) => r.index).sort((a, b) => a - b));
  });

  describe('from files', () => {
    let dir: string;
    const spec = (file: string): DatasetSpec => ({ file, inputs: ['text'] });
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-splits-'));
      for (const [name, n] of [['train', 40], ['dev', 12], ['test', 20]] as const) {
        await writeFile(path.join(dir, `${name}.jsonl`), Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${name} ${i}` })).join('\n') + '\n');
      }
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('splits one file by seed', async () => {
      const { splits } = await loadSplits({ from: 'one-file', data: spec(path.join(dir, 'train.jsonl')), sizes: { pool: 20, probe: 10, test: 10 }, seed: 4 });
      assert.deepEqual(indices(splits), indices(seededSplit(rows(40), { pool: 20, probe: 10, test: 10 }, 4)));
    });

    it('takes each set from its own file, sampling the sizes asked for', async () => {
      const { splits } = await loadSplits({
        from: 'files',
        pool: spec(path.join(dir, 'train.jsonl')),
        probe: spec(path.join(dir, 'dev.jsonl')),
        test: spec(path.join(dir, 'test.jsonl')),
        sizes: { pool: 16 },
        seed: 2,
      });
      assert.deepEqual(splitNames.map((name) => splits[name].length), [16, 12, 20]);
      assert.ok(splits.pool.every((r) => r.inputs.text!.startsWith('train ')));
      assert.ok(splits.test.every((r) => r.inputs.text!.startsWith('test ')));
    });

    it('refuses two sets read from the same file, which would overlap', async () => {
      const train = path.join(dir, 'train.jsonl');
      await assert.rejects(loadSplits({ from: 'files', pool: spec(train), probe: spec(path.join(dir, 'dev.jsonl')), test: spec(train) }), {
        message: `the pool and test sets name the same file (${train}): they would overlap; split one file with a seed instead`,
      });
    });
  });
});
