import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquire, roundSizes, selectionsCsv } from '../../src/core/experiment/acquisition.js';
import { CheckpointStore } from '../../src/core/experiment/checkpointStore.js';
import { acquisitionCorrelations, curvesCsv, summarizeCurves, type CurveRow } from '../../src/core/experiment/learningCurves.js';
import { chunk, ownsUnit, parseShard } from '../../src/core/experiment/workUnits.js';
import type { Candidate } from '../../src/core/selection/selectionStrategy.js';
import { strategyByName } from '../../src/core/selection/strategyRegistry.js';

describe('run building blocks', () => {
  describe('work units and shards', () => {
    it('cuts items into fixed chunks, the last one shorter', () => {
      assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
      assert.deepEqual(chunk([], 3), []);
      assert.throws(() => chunk([1], 0), /chunk size must be a whole number ≥ 1/);
    });

    it('deals units round-robin so every unit has exactly one shard', () => {
      const shards = [1, 2, 3].map((index) => ({ index, count: 3 }));
      for (let unit = 0; unit < 20; unit++) assert.equal(shards.filter((s) => ownsUnit(s, unit)).length, 1, `unit ${unit}`);
      assert.ok(ownsUnit(undefined, 7), 'an unsharded run owns everything');
    });

    it('parses I/N and rejects what is not a shard', () => {
      assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
      for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/2/3']) assert.throws(() => parseShard(bad), /--shard must be I\/N with 1 ≤ I ≤ N/, bad);
    });
  });

  describe('checkpoints', () => {
    let dir: string;
    before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-ckpt-'))));
    after(async () => rm(dir, { recursive: true, force: true }));

    it('round-trips NaN and ±Infinity, and leaves no partial file behind', async () => {
      const store = new CheckpointStore(dir);
      assert.equal(store.has('a.json'), false);
      await store.writeJson('a.json', { values: [1.5, NaN, -Infinity, Infinity], nested: [[0.1, NaN]] });
      assert.ok(store.has('a.json'));
      const back = await store.readJson<{ values: number[]; nested: number[][] }>('a.json');
      assert.deepEqual(back.values, [1.5, NaN, -Infinity, Infinity]);
      assert.ok(Number.isNaN(back.nested[0]![1]));
      assert.deepEqual(await readdir(store.dir), ['a.json']);
      assert.deepEqual(await store.units(), ['a.json']);
    });
  });

  describe('multi-round acquisition', () => {
    it('splits a budget into rounds as evenly as can be, earlier rounds taking the remainder', () => {
      assert.deepEqual(roundSizes(8, 2), [4, 4]);
      assert.deepEqual(roundSizes(7, 3), [3, 2, 2]);
      assert.deepEqual(roundSizes(4, 1), [4]);
      assert.throws(() => roundSizes(2, 3), /3 rounds cannot share a budget of 2/);
    });

    const pool: Candidate[] = Array.from({ length: 10 }, (_, i) => ({ index: 100 + i, id: `r${i}`, statistic: (i * 7) % 10, quality: i }));

    it('hands each round the positions labelled so far, never picks one twice, and is seeded', async () => {
      const seen: number[][] = [];
      const plan = { strategy: strategyByName('random'), budget: 6, rounds: 3, seed: 4, poolForRound: async (labelled: readonly number[]) => (seen.push([...labelled]), pool) };
      const picked = await acquire(plan);
      assert.equal(picked.length, 6);
      assert.equal(new Set(picked.map((p) => p.position)).size, 6);
      assert.deepEqual(picked.map((p) => p.round), [1, 1, 2, 2, 3, 3]);
      assert.deepEqual(seen, [[], picked.slice(0, 2).map((p) => p.position), picked.slice(0, 4).map((p) => p.position)]);
      assert.deepEqual(await acquire({ ...plan, poolForRound: async () => pool }), picked);
    });

    it('a ranking strategy over rounds picks what it picks in one round', async () => {
      const oneRound = await acquire({ strategy: strategyByName('highest-first'), budget: 4, rounds: 1, seed: 0, poolForRound: async () => pool });
      const twoRounds = await acquire({ strategy: strategyByName('highest-first'), budget: 4, rounds: 2, seed: 0, poolForRound: async () => pool });
      assert.deepEqual(twoRounds.map((p) => p.position), oneRound.map((p) => p.position));
      assert.deepEqual(oneRound.map((p) => pool[p.position]!.statistic), [9, 8, 7, 6]);
    });

    it('writes selections.csv with quoted ids', () => {
      const text = selectionsCsv([{ strategy: 'top-quality', seed: 0, budget: 2, round: 1, example: 5, id: 'a,"b"', score: 0.25 }]);
      assert.equal(text, 'strategy,seed,budget,round,example,id,score\ntop-quality,0,2,1,5,"a,""b""",0.25\n');
    });
  });

  describe('learning curves', () => {
    const rows: CurveRow[] = [
      { strategy: 'random', seed: 0, budget: 4, metric: 'accuracy', value: 0.5 },
      { strategy: 'random', seed: 1, budget: 4, metric: 'accuracy', value: 0.7 },
      { strategy: 'random', seed: 2, budget: 4, metric: 'accuracy', value: 0.6 },
      { strategy: 'random', seed: 0, budget: 4, metric: 'gold_logprob', value: -1 },
      { strategy: 'top-quality', seed: 0, budget: 4, metric: 'accuracy', value: 0.9 },
    ];

    it('summarises mean, sample sd, min and max over seeds per strategy and budget', () => {
      const points = summarizeCurves(rows, 'accuracy');
      assert.deepEqual(points.map((p) => p.strategy), ['random', 'top-quality']);
      const random = points[1]!;
      assert.ok(Math.abs(random.mean - 0.6) < 1e-12);
      assert.ok(Math.abs(random.sd - 0.1) < 1e-12, 'sample sd of 0.5, 0.7, 0.6');
      assert.deepEqual([random.min, random.max, random.seeds], [0.5, 0.7, 3]);
      assert.equal(points[0]!.sd, 0, 'one seed: no spread');
    });

    it('correlates acquisition scores with the performance of the prompts they built', () => {
      const selections = [0, 1, 2, 3].flatMap((seed) => [
        { strategy: 's', seed, budget: 2, round: 1, example: 0, id: '0', score: seed },
        { strategy: 's', seed, budget: 2, round: 1, example: 1, id: '1', score: seed + 1 },
      ]);
      const curves = [0, 1, 2, 3].map((seed) => ({ strategy: 's', seed, budget: 2, metric: 'accuracy', value: 1 - seed / 10 }));
      const [row] = acquisitionCorrelations(selections, curves, 'accuracy');
      assert.equal(row!.strategy, 's');
      assert.equal(row!.n, 4);
      assert.equal(row!.rho, -1, 'higher mean score, lower accuracy');
      assert.equal(curvesCsv(curves).split('\n')[0], 'strategy,seed,budget,metric,value');
    });
  });
});
