import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/core/random.js';
import { highestFirst, lowestFirst } from '../../src/core/selection/activationStatistic.js';
import { kateNeighbours } from '../../src/core/selection/kate.js';
import { kCenterGreedy } from '../../src/core/selection/kCenterGreedy.js';
import { kMeansPlusPlus } from '../../src/core/selection/kMeansPlusPlus.js';
import { oracle } from '../../src/core/selection/oracle.js';
import { randomSelection } from '../../src/core/selection/randomSelection.js';
import { SelectionError, type Candidate, type SelectionContext } from '../../src/core/selection/selectionStrategy.js';
import { isStrategyName, strategyByName, strategyNames } from '../../src/core/selection/strategyRegistry.js';
import { labelEntropy, uncertainty } from '../../src/core/selection/uncertainty.js';
import { createVoteK } from '../../src/core/selection/voteK.js';

const candidate = (position: number, fields: Partial<Candidate> = {}): Candidate => ({ index: 100 + position, id: `c${position}`, ...fields });
const onLine = (xs: number[]): Candidate[] => xs.map((x, p) => candidate(p, { vector: Float64Array.of(x) }));
const atAngles = (degrees: number[]): Candidate[] => degrees.map((d, p) => candidate(p, { vector: unit(d) }));
const unit = (degrees: number): Float64Array => Float64Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180));
const context = (pool: readonly Candidate[], budget: number, labelled: number[] = [], seed = 1): SelectionContext => ({ pool, budget, seed, labelled });
const positions = (selections: readonly { position: number }[]): number[] => selections.map((s) => s.position);

/** A pool every strategy can run on: seeded vectors and numbers. */
function fullPool(n: number, seed: number): Candidate[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, (_, p) =>
    candidate(p, { vector: Float64Array.from({ length: 4 }, () => rng.next() - 0.5), statistic: rng.next(), quality: rng.next(), uncertainty: rng.next() }),
  );
}

describe('selection strategies', () => {
  describe('every strategy', () => {
    const pool = fullPool(30, 11);

    for (const name of strategyNames) {
      it(`${name} gives identical selections for the same seed`, () => {
        const strategy = strategyByName(name, { neighbours: 4 });
        assert.deepEqual(strategy.select(context(pool, 8, [3, 4], 42)), strategy.select(context(pool, 8, [3, 4], 42)));
      });

      it(`${name} chooses exactly the budget, distinct and never a labelled position`, () => {
        const labelled = [0, 7, 19];
        const chosen = positions(strategyByName(name, { neighbours: 4 }).select(context(pool, 10, labelled, 5)));
        assert.equal(chosen.length, 10);
        assert.equal(new Set(chosen).size, 10);
        for (const p of labelled) assert.ok(!chosen.includes(p), `${name} chose labelled position ${p}`);
      });

      it(`${name} takes every remaining candidate when the budget equals what is left`, () => {
        const chosen = positions(strategyByName(name, { neighbours: 4 }).select(context(pool, 27, [1, 2, 3], 9)));
        assert.deepEqual([...chosen].sort((a, b) => a - b), Array.from({ length: 30 }, (_, p) => p).filter((p) => p > 3 || p === 0));
      });

      it(`${name} refuses a budget larger than the unlabelled pool, naming itself`, () => {
        assert.throws(() => strategyByName(name).select(context(pool, 29, [0, 1])), (e: unknown) => e instanceof SelectionError && e.message === `${name}: budget 29 is larger than the 28 pool candidates not yet labelled`);
      });
    }

    for (const name of ['k-center-greedy', 'vote-k', 'highest-first', 'oracle']) {
      it(`${name} chooses in two rounds what it chooses in one round of both budgets`, () => {
        const strategy = strategyByName(name, { neighbours: 4 });
        const once = strategy.select(context(pool, 9, [], 3));
        const first = strategy.select(context(pool, 4, [], 3));
        const second = strategy.select(context(pool, 5, positions(first), 3));
        assert.deepEqual([...first, ...second], once);
      });
    }

    it('random gives different selections for different seeds', () => {
      assert.notDeepEqual(positions(randomSelection.select(context(pool, 8, [], 1))), positions(randomSelection.select(context(pool, 8, [], 2))));
    });

    it('the registry knows every name it lists and rejects others with the list', () => {
      for (const name of strategyNames) assert.equal(strategyByName(name).name, name);
      assert.ok(isStrategyName('vote-k') && !isStrategyName('kate'));
      assert.throws(() => strategyByName('greedy'), /greedy: unknown selection strategy; known: random, highest-first/);
    });
  });

  describe('missing inputs', () => {
    it('names the strategy and the first candidate lacking a vector', () => {
      const pool = [...onLine([0, 1]), candidate(2), candidate(3)];
      assert.throws(() => kCenterGreedy.select(context(pool, 1)), { message: 'k-center-greedy: needs `vector` on every candidate; candidate "c2" (row 102, pool position 2) has none' });
    });

    it('names the strategy and the first candidate lacking the statistic', () => {
      const pool = [candidate(0, { statistic: 1 }), candidate(1, { statistic: Number.NaN }), candidate(2)];
      assert.throws(() => highestFirst.select(context(pool, 1)), { message: 'highest-first: needs a finite `statistic` on every candidate; candidate "c1" (row 101, pool position 1) has NaN' });
    });

    it('names oracle and the candidate lacking quality', () => {
      assert.throws(() => oracle.select(context([candidate(0)], 1)), { message: 'oracle: needs a finite `quality` on every candidate; candidate "c0" (row 100, pool position 0) has none' });
    });

    it('rejects vectors of different lengths, NaN in a vector and labelled positions outside the pool', () => {
      const pool = [candidate(0, { vector: Float64Array.of(1, 2) }), candidate(1, { vector: Float64Array.of(1) })];
      assert.throws(() => kMeansPlusPlus.select(context(pool, 1)), /k-means\+\+: vectors differ in length: candidate "c1"/);
      assert.throws(() => randomSelection.select(context(pool, 1, [2])), { message: 'random: labelled position 2 is outside the pool of 2' });
      assert.throws(() => createVoteK().select(context([...onLine([0]), candidate(1, { vector: Float64Array.of(Number.NaN) })], 1)), { message: 'vote-k: candidate "c1" (row 101, pool position 1) has NaN in its vector at dimension 0' });
    });
  });

  describe('ranking strategies', () => {
    const pool = [3, 1, 3, 2, 0].map((value, p) => candidate(p, { statistic: value, quality: value, uncertainty: value }));

    it('highest-first takes the largest statistic first, ties to the lower position', () => {
      assert.deepEqual(highestFirst.select(context(pool, 3)), [
        { position: 0, score: 3 },
        { position: 2, score: 3 },
        { position: 3, score: 2 },
      ]);
    });

    it('lowest-first takes the smallest statistic first and skips labelled ones', () => {
      assert.deepEqual(positions(lowestFirst.select(context(pool, 3, [4]))), [1, 3, 0]);
    });

    it('oracle and uncertainty take the highest value first, whatever the seed', () => {
      assert.deepEqual(positions(oracle.select(context(pool, 2, [0], 1))), [2, 3]);
      assert.deepEqual(positions(uncertainty.select(context(pool, 2, [0], 99))), [2, 3]);
    });
  });

  describe('k-center greedy', () => {
    it('takes the farthest point from the labelled set each time, scored by that distance', () => {
      assert.deepEqual(kCenterGreedy.select(context(onLine([0, 1, 2, 10, 11]), 2, [0])), [
        { position: 4, score: 11 },
        { position: 2, score: 2 },
      ]);
    });

    it('breaks a tie in distance towards the lower position', () => {
      assert.deepEqual(positions(kCenterGreedy.select(context(onLine([0, 5, 10]), 1, [1]))), [0]);
    });

    it('starts from a seeded random point when nothing is labelled, then goes farthest', () => {
      const pool = onLine([0, 1, 2, 10, 11]);
      for (const seed of [1, 2, 3, 4]) {
        const first = new SeededRandom(seed).int(5);
        const chosen = kCenterGreedy.select(context(pool, 2, [], seed));
        // Its score is finite: the distance to the farthest candidate, the one chosen next.
        const farthest = Math.max(...[0, 1, 2, 10, 11].map((x) => Math.abs(x - [0, 1, 2, 10, 11][first]!)));
        assert.deepEqual(chosen[0], { position: first, score: farthest });
        assert.equal(chosen[1]!.score, farthest);
        assert.equal(chosen[1]!.position, first >= 3 ? 0 : 4);
      }
    });
  });

  describe('k-means++', () => {
    it('draws the first point uniformly by the seed when nothing is labelled', () => {
      const pool = onLine([0, 1, 2, 10, 11]);
      const first = new SeededRandom(7).int(5);
      // Its score is finite: the largest D² it leaves, to the farthest candidate.
      const farthest = Math.max(...[0, 1, 2, 10, 11].map((x) => (x - [0, 1, 2, 10, 11][first]!) ** 2));
      assert.deepEqual(kMeansPlusPlus.select(context(pool, 1, [], 7))[0], { position: first, score: farthest });
    });

    it('never draws a point at distance 0 while another has D² > 0', () => {
      for (let seed = 0; seed < 50; seed++) assert.deepEqual(kMeansPlusPlus.select(context(onLine([0, 0, 0, 3]), 1, [0], seed)), [{ position: 3, score: 9 }]);
    });

    it('draws in proportion to D² (1 : 9 over many seeds)', () => {
      const pool = onLine([0, 1, 3]);
      let far = 0;
      const draws = 4000;
      for (let seed = 0; seed < draws; seed++) if (kMeansPlusPlus.select(context(pool, 1, [0], seed))[0]!.position === 2) far++;
      assert.ok(Math.abs(far / draws - 0.9) < 0.02, `far point drawn ${far} of ${draws}`);
    });
  });

  describe('vote-k', () => {
    // k = 2 graph on unit vectors at these angles: 0 ↔ {1, 2}, 1 → {0, 2}, 2 → {0, 1}; 3 → {4, 5},
    // 4 → {3, 5}, 5 → {3, 4}. Every candidate starts with two votes of weight 1.
    const pool = atAngles([0, 5, 10, 90, 95, 55]);

    it('covers the second cluster before returning to the first, discounting votes by ρ', () => {
      assert.deepEqual(createVoteK({ neighbours: 2 }).select(context(pool, 3)), [
        { position: 0, score: 2 },
        { position: 3, score: 2 },
        // Voter 2 has chosen 0 among its neighbours (weight 10^-1); voter 0 is chosen and no longer votes.
        { position: 1, score: 0.1 },
      ]);
      assert.equal(createVoteK({ neighbours: 2, rho: 2 }).select(context(pool, 3))[2]!.score, 0.5);
    });

    it('counts labelled candidates as already chosen', () => {
      assert.deepEqual(createVoteK({ neighbours: 2 }).select(context(pool, 1, [0])), [{ position: 3, score: 2 }]);
    });

    it('rejects ρ ≤ 1 and k < 1', () => {
      assert.throws(() => createVoteK({ rho: 1 }), { message: 'vote-k: rho must be greater than 1, got 1' });
      assert.throws(() => createVoteK({ neighbours: 0 }), { message: 'vote-k: neighbours must be a whole number ≥ 1, got 0' });
    });
  });

  describe('KATE', () => {
    it('returns the k most cosine-similar candidates, most similar first, ties to the lower position', () => {
      const chosen = kateNeighbours(unit(0), atAngles([30, 10, 60, 10]), 3);
      assert.deepEqual(positions(chosen), [1, 3, 0]);
      assert.ok(Math.abs(chosen[0]!.score - Math.cos(Math.PI / 18)) < 1e-12);
    });

    it('ignores vector length: only the direction counts', () => {
      const pool = [candidate(0, { vector: Float64Array.of(100, 1) }), candidate(1, { vector: Float64Array.of(0.1, 0) })];
      assert.deepEqual(positions(kateNeighbours(Float64Array.of(1, 0), pool, 1)), [1]);
    });

    it('refuses k larger than the pool and a query of another width', () => {
      assert.throws(() => kateNeighbours(unit(0), atAngles([0]), 2), { message: 'kate: k 2 is larger than the pool of 1' });
      assert.throws(() => kateNeighbours(Float64Array.of(1), atAngles([0]), 1), { message: "kate: the query vector has length 1, the pool's 2" });
    });
  });

  describe('label entropy', () => {
    it('is ln 2 for two equally likely labels, normalised or not', () => {
      assert.ok(Math.abs(labelEntropy([Math.log(0.5), Math.log(0.5)]) - Math.LN2) < 1e-12);
      assert.ok(Math.abs(labelEntropy([-7, -7]) - Math.LN2) < 1e-12);
    });

    it('is ln 3 for three equal labels and 0 when one label has all the mass', () => {
      assert.ok(Math.abs(labelEntropy([-1, -1, -1]) - Math.log(3)) < 1e-12);
      assert.equal(labelEntropy([0, -Infinity]), 0);
    });

    it('matches −Σ p ln p for (0.9, 0.1) even with very negative log-probabilities', () => {
      const expected = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1));
      assert.ok(Math.abs(labelEntropy([Math.log(0.9) - 1000, Math.log(0.1) - 1000]) - expected) < 1e-12);
    });

    it('rejects an empty list and NaN', () => {
      assert.throws(() => labelEntropy([]), RangeError);
      assert.throws(() => labelEntropy([0, Number.NaN]), RangeError);
    });
  });
});
