import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquire, roundSizes, selectionsCsv } from '../../src/core/experiment/acquisition.js';
import { CheckpointStore } from '../../src/core/experiment/checkpointStore.js';
import { acquisitionCorrelations, acquisitionCorrelationsCsv, curveRows, curvesCsv, differencesFromRandom, pairedBootstrapInterval, strategyVsRandomCsv, summarizeCurves, type CurveRow, type ItemScores } from '../../src/core/experiment/learningCurves.js';
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
      const random = points[0]!;
      assert.ok(Math.abs(random.mean - 0.6) < 1e-12);
      assert.ok(Math.abs(random.sd - 0.1) < 1e-12, 'sample sd of 0.5, 0.7, 0.6');
      assert.deepEqual([random.min, random.max, random.seeds], [0.5, 0.7, 3]);
      assert.equal(points[1]!.sd, 0, 'one seed: no spread');
    });

    it('correlates acquisition scores with the performance of the prompts they built, per budget', () => {
      const selections = [0, 1, 2, 3].flatMap((seed) =>
        [2, 4].flatMap((budget) => [
          { strategy: 's', seed, budget, round: 1, example: 0, id: '0', score: seed * budget },
          { strategy: 's', seed, budget, round: 1, example: 1, id: '1', score: seed * budget + 1 },
          // random's score is 0 whatever the seed: nothing to correlate, so no row.
          { strategy: 'random', seed, budget, round: 1, example: seed, id: String(seed), score: 0 },
        ]),
      );
      // Within a budget accuracy falls as the score rises; across budgets both rise together, so
      // one ρ pooled over budgets would be positive.
      const curves = ['s', 'random'].flatMap((strategy) =>
        [0, 1, 2, 3].flatMap((seed) => [2, 4].map((budget) => ({ strategy, seed, budget, metric: 'accuracy', value: budget / 10 - seed / 100 }))),
      );
      const rows = acquisitionCorrelations(selections, curves, 'accuracy');
      assert.deepEqual(rows.map((r) => [r.strategy, r.budget, r.n, r.rho]), [['s', 2, 4, -1], ['s', 4, 4, -1]], 'higher mean score, lower accuracy');
      assert.equal(acquisitionCorrelationsCsv(rows).split('\n')[0], 'strategy,budget,metric,rho,p_value,n');
    });
  });

  describe('intervals over test items and seeds', () => {
    const settings = { resamples: 4000, seed: 3 };
    /** n items alternating 1, 0: mean 0.5. */
    const coinFlips = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i % 2);

    it('curves.csv carries each row\'s interval over test items', () => {
      const text = curvesCsv(curveRows([{ strategy: 'random', seed: 0, budget: 4, metric: 'accuracy', values: coinFlips(400) }], settings));
      const [header, line] = text.trim().split('\n');
      assert.equal(header, 'strategy,seed,budget,metric,value,ci_low,ci_high');
      const [, , , , value, low, high] = line!.split(',').map(Number);
      assert.equal(value, 0.5);
      // The normal approximation of the mean's 95% interval: 0.5 ± 1.96 · √(0.25 / 400) = 0.5 ± 0.049.
      assert.ok(Math.abs(low! - 0.451) < 0.01 && Math.abs(high! - 0.549) < 0.01, `${low} … ${high}`);
    });

    it('is the same for the same seed, and NaN with no resamples', () => {
      const rows = [coinFlips(50), Float64Array.from({ length: 50 }, (_, i) => (i % 3) / 2)];
      assert.deepEqual(pairedBootstrapInterval(rows, settings), pairedBootstrapInterval(rows, settings));
      assert.deepEqual(pairedBootstrapInterval(rows, { resamples: 0, seed: 1 }), { low: NaN, high: NaN });
    });

    it('resamples seeds as well as items: two seeds that disagree give an interval spanning both', () => {
      // Seed 0 is 0 on every item, seed 1 is 1: items add no spread, seeds give means 0, ½ or 1.
      const { low, high } = pairedBootstrapInterval([new Float64Array(20), new Float64Array(20).fill(1)], settings);
      assert.deepEqual([low, high], [0, 1]);
    });

    it("reports each strategy's difference from random, paired by seed and test item", () => {
      // Random's items vary widely; the strategy is random + 0.1 on every item of both seeds.
      const items = (seed: number): Float64Array => Float64Array.from({ length: 60 }, (_, i) => ((i * 7 + seed * 3) % 10) / 10);
      const scores: ItemScores[] = [0, 1].flatMap((seed) => [
        { strategy: 'random', seed, budget: 4, metric: 'accuracy', values: items(seed) },
        { strategy: 'better', seed, budget: 4, metric: 'accuracy', values: items(seed).map((v) => v + 0.1) },
      ]);
      // A seed random lacks is left out.
      scores.push({ strategy: 'better', seed: 9, budget: 4, metric: 'accuracy', values: new Float64Array(60) });
      const [row, ...rest] = differencesFromRandom(scores, settings);
      assert.equal(rest.length, 0, 'random is not compared with itself');
      assert.equal(row!.strategy, 'better');
      assert.ok(Math.abs(row!.diff - 0.1) < 1e-12);
      assert.ok(Math.abs(row!.ciLow - 0.1) < 1e-12 && Math.abs(row!.ciHigh - 0.1) < 1e-12, 'paired: the item-to-item spread cancels');
      assert.deepEqual([row!.nItems, row!.nSeeds], [60, 2]);
      assert.equal(strategyVsRandomCsv([row!]).split('\n')[0], 'strategy,budget,metric,diff,ci_low,ci_high,n_items,n_seeds');
    });

    it('gives k-center greedy and k-means++ finite scores and a finite ρ per budget', async () => {
      // Points on a line; nothing labelled, so each seed starts from its own random point.
      const pool: Candidate[] = [0, 1, 2, 4, 7, 11, 16, 22].map((x, i) => ({ index: i, id: String(i), vector: Float64Array.of(x, 0) }));
      for (const name of ['k-center-greedy', 'k-means++']) {
        const selections = [];
        for (const seed of [0, 1, 2, 3, 4, 5]) {
          for (const budget of [2, 3]) {
            const picked = await acquire({ strategy: strategyByName(name), budget, rounds: 1, seed, poolForRound: () => Promise.resolve(pool) });
            for (const p of picked) selections.push({ strategy: name, seed, budget, round: p.round, example: p.position, id: String(p.position), score: p.score });
          }
        }
        assert.ok(selections.every((s) => Number.isFinite(s.score)), `${name}: ${selections.map((s) => s.score).join(', ')}`);
        const curves = [0, 1, 2, 3, 4, 5].flatMap((seed) => [2, 3].map((budget) => ({ strategy: name, seed, budget, metric: 'accuracy', value: seed / 10 })));
        const rows = acquisitionCorrelations(selections, curves, 'accuracy');
        assert.deepEqual(rows.map((r) => r.budget), [2, 3], name);
        for (const r of rows) assert.ok(Number.isFinite(r.rho) && Number.isFinite(r.pValue), `${name} budget ${r.budget}: ρ ${r.rho}, p ${r.pValue}`);
      }
    });
  });
});
