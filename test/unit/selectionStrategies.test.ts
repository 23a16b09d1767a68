import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/core/random.js';
import { highestFirst, lowestFirst } from '../../src/core/selection/activationStatistic.js';
import { kateNeighbours } from '../../src/core/selection/kate.js';
import { kCenterGreedy } from '../../src/core/selection/kCenterGreedy.js';
import { kMeansPlusPlus } from '../../src/core/selection/kMeansPlusPlus.js';
import { topQuality } from '../../src/core/selection/topQuality.js';
import { randomSelection } from '../../src/core/selection/randomSelection.js';
import { createAdaIcl } from '../../src/core/selection/adaIcl.js';
import { bm25Neighbours, bm25Scores, bm25Terms } from '../../src/core/selection/bm25.js';
import { demonstrationOrder } from '../../src/core/selection/demonstrationOrder.js';
import { centredUnitVectors } from '../../src/core/selection/embeddings.js';
import { labelBalancedRandom } from '../../src/core/selection/labelBalancedRandom.js';
import { SelectionError, labelConfidence, type Candidate, type ConfidenceRequest, type ConfidenceScorer, type SelectionContext, type SelectionStrategy } from '../../src/core/selection/selectionStrategy.js';
import { assertSignalUsableForSelection, isStrategyName, strategyByName, strategyNames } from '../../src/core/selection/strategyRegistry.js';
import { labelEntropy, uncertainty } from '../../src/core/selection/uncertainty.js';
import { createVoteK } from '../../src/core/selection/voteK.js';
import { cosineSimilarity } from '../../src/core/selection/vectorDistance.js';

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
    candidate(p, {
      vector: Float64Array.from({ length: 4 }, () => rng.next() - 0.5),
      statistic: rng.next(),
      quality: rng.next(),
      uncertainty: rng.next(),
      label: `L${p % 3}`,
      // Sparse-autoencoder codes (sae-coverage, sae-diverse): two latents each, fixed by position.
      features: new Map([
        [p % 5, 1 + (p % 4)],
        [5 + (p % 7), 0.5 + p / 30],
      ]),
    }),
  );
}

/** A stand-in for the model: each candidate's confidence is 1 − its `uncertainty`, whatever the demonstrations; it records what it was asked. */
function recordingScorer(pool: readonly Candidate[]): { scorer: ConfidenceScorer; calls: ConfidenceRequest[][] } {
  const calls: ConfidenceRequest[][] = [];
  const scorer: ConfidenceScorer = (requests) => {
    calls.push([...requests]);
    return Promise.resolve(Float64Array.from(requests, (r) => 1 - pool[r.position]!.uncertainty!));
  };
  return { scorer, calls };
}

/** What a run does: the model-guided selection where a strategy has one, else `select`. */
async function choose(strategy: SelectionStrategy, c: SelectionContext): Promise<{ position: number; score: number }[]> {
  return strategy.selectWithModel ? strategy.selectWithModel(c, recordingScorer(c.pool).scorer) : strategy.select(c);
}

describe('selection strategies', () => {
  describe('every strategy', () => {
    const pool = fullPool(30, 11);

    for (const name of strategyNames) {
      it(`${name} gives identical selections for the same seed`, async () => {
        const strategy = strategyByName(name, { neighbours: 4 });
        assert.deepEqual(await choose(strategy, context(pool, 8, [3, 4], 42)), await choose(strategy, context(pool, 8, [3, 4], 42)));
      });

      it(`${name} chooses exactly the budget, distinct and never a labelled position`, async () => {
        const labelled = [0, 7, 19];
        const chosen = positions(await choose(strategyByName(name, { neighbours: 4 }), context(pool, 10, labelled, 5)));
        assert.equal(chosen.length, 10);
        assert.equal(new Set(chosen).size, 10);
        for (const p of labelled) assert.ok(!chosen.includes(p), `${name} chose labelled position ${p}`);
      });

      it(`${name} takes every remaining candidate when the budget equals what is left`, async () => {
        const chosen = positions(await choose(strategyByName(name, { neighbours: 4 }), context(pool, 27, [1, 2, 3], 9)));
        assert.deepEqual([...chosen].sort((a, b) => a - b), Array.from({ length: 30 }, (_, p) => p).filter((p) => p > 3 || p === 0));
      });

      it(`${name} refuses a budget larger than the unlabelled pool, naming itself`, async () => {
        await assert.rejects(
          async () => choose(strategyByName(name), context(pool, 29, [0, 1])),
          (e: unknown) => e instanceof SelectionError && e.message === `${name}: budget 29 is larger than the 28 pool candidates not yet labelled`,
        );
      });
    }

    for (const name of ['k-center-greedy', 'vote-k', 'highest-first', 'top-quality']) {
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
      assert.throws(() => strategyByName('greedy'), /greedy: unknown selection strategy; known: random, label-balanced-random, highest-first/);
      assert.ok(isStrategyName('top-quality') && !isStrategyName('oracle'));
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

    it('names top-quality and the candidate lacking quality', () => {
      assert.throws(() => topQuality.select(context([candidate(0)], 1)), { message: 'top-quality: needs a finite `quality` on every candidate; candidate "c0" (row 100, pool position 0) has none' });
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

    it('top-quality and uncertainty take the highest value first, whatever the seed', () => {
      assert.deepEqual(positions(topQuality.select(context(pool, 2, [0], 1))), [2, 3]);
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

  describe('vote-k, both stages (Su et al., 2022)', () => {
    const pool = fullPool(40, 23);

    it("uses the paper's k = 150 by default, capped at the pool size − 1", () => {
      const c = context(pool, 6, [], 1);
      assert.deepEqual(createVoteK().select(c), createVoteK({ neighbours: 39 }).select(c));
      assert.notDeepEqual(createVoteK().select(c), createVoteK({ neighbours: 10 }).select(c));
    });

    it('chooses ⌈budget/10⌉ by the graph, then one per confidence bin, least confident bins first, never from the most confident tenth', async () => {
      const { scorer, calls } = recordingScorer(pool);
      const chosen = await createVoteK({ neighbours: 5 }).selectWithModel!(context(pool, 10, [], 1), scorer);
      // Stage 1: ⌈10 / 10⌉ = 1 pick, the graph's own first choice.
      assert.deepEqual(chosen[0], createVoteK({ neighbours: 5 }).select(context(pool, 1, [], 1))[0]);
      // Stage 2: the model scored the 39 others once, each after the stage-1 pick.
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0]!.map((r) => r.position), Array.from({ length: 40 }, (_, p) => p).filter((p) => p !== chosen[0]!.position));
      assert.ok(calls[0]!.every((r) => r.demonstrations.length === 1 && r.demonstrations[0] === chosen[0]!.position));
      // Bins of ⌊⌊0.9 · 39⌋ / 9⌋ = 3 by ascending confidence; the t-th pick comes from bin t.
      const byConfidence = calls[0]!.map((r) => r.position).sort((a, b) => pool[b]!.uncertainty! - pool[a]!.uncertainty! || a - b);
      chosen.slice(1).forEach((s, t) => {
        const rank = byConfidence.indexOf(s.position);
        assert.ok(rank >= 3 * t && rank < 3 * t + 3, `pick ${t} has confidence rank ${rank}`);
      });
      assert.equal(chosen.length, 10);
    });

    it('takes the largest vote score inside each bin', async () => {
      // Bin size 1 (budget 20 of 40: ⌊35 / 18⌋ = 1): stage 2 is simply the least confident, in order.
      const { scorer, calls } = recordingScorer(pool);
      const chosen = await createVoteK({ neighbours: 5 }).selectWithModel!(context(pool, 20, [], 1), scorer);
      const byConfidence = calls[0]!.map((r) => r.position).sort((a, b) => pool[b]!.uncertainty! - pool[a]!.uncertainty! || a - b);
      assert.deepEqual(positions(chosen.slice(2)), byConfidence.slice(0, 18));
    });
  });

  describe('AdaICL (Mavromatis et al., 2023)', () => {
    // Three clusters of three: 0–2 near 0°, 3–5 near 90°, 6–8 near 180°.
    const angles = [0, 5, 10, 90, 95, 100, 180, 185, 190];
    const confidence = [0.9, 0.9, 0.9, 0.1, 0.2, 0.3, 0.4, 0.9, 0.9];
    const pool = atAngles(angles).map((c, p) => ({ ...c, uncertainty: 1 - confidence[p]! }));

    it('covers the hard half greedily: the uncertain cluster first, then the lone hard example, then afresh', async () => {
      const { scorer } = recordingScorer(pool);
      // Hard set: the ⌊0.5 · 9⌋ = 4 least confident, {3, 4, 5, 6}; one-hop neighbourhoods of 2.
      const chosen = await createAdaIcl({ graphNeighbours: 2, twoHop: false }).selectWithModel!(context(pool, 3), scorer);
      assert.deepEqual(chosen, [
        { position: 3, score: 3 },
        { position: 6, score: 1 },
        { position: 4, score: 3 },
      ]);
    });

    it('scores each query zero-shot when nothing is labelled, else after its most similar labelled examples, most similar last', async () => {
      const first = recordingScorer(pool);
      await createAdaIcl({ graphNeighbours: 2 }).selectWithModel!(context(pool, 1), first.scorer);
      assert.ok(first.calls[0]!.every((r) => r.demonstrations.length === 0));
      const later = recordingScorer(pool);
      await createAdaIcl({ graphNeighbours: 2, shots: 2 }).selectWithModel!(context(pool, 1, [0, 2, 3]), later.scorer);
      // 190°: nearest labelled 3 (90°), then 0 (0°, cos 190° > cos 180°).
      assert.deepEqual(later.calls[0]!.find((r) => r.position === 8)!.demonstrations, [0, 3]);
      assert.deepEqual(later.calls[0]!.find((r) => r.position === 4)!.demonstrations, [2, 3]);
    });

    it('cannot select without the model', () => {
      assert.throws(() => strategyByName('adaicl').select(context(pool, 1)), /adaicl: needs the model/);
    });
  });

  describe('label-balanced random', () => {
    const labels = ['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'c', 'c', 'c', 'c'];
    const pool = labels.map((label, p) => candidate(p, { label }));
    const count = (chosen: readonly { position: number }[], label: string): number => chosen.filter((s) => pool[s.position]!.label === label).length;

    it('takes as many of each label as it can, for every seed', () => {
      for (let seed = 0; seed < 20; seed++) {
        const six = labelBalancedRandom.select(context(pool, 6, [], seed));
        assert.deepEqual(['a', 'b', 'c'].map((l) => count(six, l)), [2, 2, 2]);
        const ten = labelBalancedRandom.select(context(pool, 10, [], seed));
        assert.equal(count(ten, 'b'), 2);
        assert.equal(count(ten, 'a') + count(ten, 'c'), 8);
        assert.equal(count(ten, 'a'), 4);
      }
    });

    it('counts labelled examples toward their label', () => {
      const chosen = labelBalancedRandom.select(context(pool, 2, [0, 1], 3));
      assert.deepEqual(chosen.map((s) => pool[s.position]!.label).sort(), ['b', 'c']);
    });

    it('names the candidate without a label', () => {
      assert.throws(() => labelBalancedRandom.select(context([candidate(0, { label: 'a' }), candidate(1)], 1)), {
        message: 'label-balanced-random: needs a `label` on every candidate; candidate "c1" (row 101, pool position 1) has none',
      });
    });
  });

  describe('BM25', () => {
    const docs = ['the cat sat', 'the dog sat on the mat', 'cat cat dog'];

    it('matches Okapi BM25 with Lucene idf, k1 = 1.2, b = 0.75, as wink-nlp rounds it (12 decimals)', () => {
      // Reference: the formula in plain Python (math.log), query "cat mat" over the three documents,
      // unrounded: [0.523548346501579, 0.8142733421229427, 0.6951314180441133]. wink-nlp's BM25
      // vectorizer rounds idf(t), then each term weight w(t, d), to 12 decimals; "mat" is in no
      // document but the second, "cat" in no document but the first and third, so each score is one
      // rounded weight.
      assert.deepEqual([...bm25Scores('Cat, mat!', docs)], [0.523548346502, 0.814273342123, 0.695131418045]);
    });

    it('sums each occurrence of a query term, in query order', () => {
      // "cat cat the": w(cat, d) + w(cat, d) + w(the, d); every term of the first document weighs
      // 0.523548346502; w(the, second) = 0.566579717447 (f = 2).
      const w = 0.523548346502;
      assert.deepEqual([...bm25Scores('cat cat the', docs)], [w + w + w, 0.566579717447, 0.695131418045 + 0.695131418045]);
    });

    it('scores pools of one and two documents (no minimum collection size)', () => {
      // One document: idf = ln(1 + 0.5 / 1.5) = 0.287682072452, avgdl = |d|, so w = idf · 2.2 / 2.2.
      assert.deepEqual([...bm25Scores('cat', ['the cat'])], [0.287682072452]);
      // Two documents, "cat" in one: idf = ln(1 + 1.5 / 1.5) = ln 2; |d| = 2, avgdl = 2.5:
      // w = ln 2 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 0.8)) = 0.754912770907 (12 decimals).
      assert.deepEqual([...bm25Scores('cat', ['the cat', 'the dog sat'])], [0.754912770907, 0]);
      assert.deepEqual(positions(bm25Neighbours('dog', ['the cat', 'the dog sat'], 1)), [1]);
      assert.deepEqual(bm25Neighbours('cat', [], 0), []);
      assert.deepEqual([...bm25Scores('cat', ['', ''])], [0, 0]);
    });

    it('refuses parameters wink-nlp would quietly replace', () => {
      assert.throws(() => bm25Scores('cat', docs, { k1: 1.2, b: 2 }), { message: 'bm25: b must be between 0 and 1, got 2' });
      assert.throws(() => bm25Scores('cat', docs, { k1: Number.NaN, b: 0.75 }), { message: 'bm25: k1 must be between 0 and 100, got NaN' });
    });

    it('gives the same bytes for the same inputs', () => {
      const a = bm25Scores('the dog sat on a mat', docs);
      const b = bm25Scores('the dog sat on a mat', [...docs]);
      assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    });

    it('retrieves the k best, best first, ties to the lower position', () => {
      assert.deepEqual(positions(bm25Neighbours('cat mat', docs, 2)), [1, 2]);
      assert.deepEqual(positions(bm25Neighbours('zebra', docs, 2)), [0, 1]);
      assert.throws(() => bm25Neighbours('cat', docs, 4), { message: 'bm25: k 4 is larger than the 3 documents' });
    });

    it('splits on anything but letters and digits, in any script', () => {
      assert.deepEqual(bm25Terms('Über-cool: 42 naïve'), ['über', 'cool', '42', 'naïve']);
    });
  });

  describe('embeddings for the similarity strategies', () => {
    it('removes a massive shared dimension before comparing directions', () => {
      const raw = [Float64Array.of(1000, 1, 0), Float64Array.of(1000, 0, 1), Float64Array.of(1000, -1, 0), Float64Array.of(1000, 0, -1)];
      assert.ok(cosineSimilarity(raw[0]!, raw[2]!) > 0.99, 'raw vectors all point along the massive dimension');
      const centred = centredUnitVectors(raw);
      assert.ok(Math.abs(cosineSimilarity(centred[0]!, centred[2]!) + 1) < 1e-12, 'centred, 0 and 2 are opposite');
      assert.ok(Math.abs(cosineSimilarity(centred[0]!, centred[1]!)) < 1e-12, 'centred, 0 and 1 are orthogonal');
      for (const v of centred) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-12);
    });

    it('centres other vectors on the reference mean', () => {
      const [q] = centredUnitVectors([Float64Array.of(2, 5)], [Float64Array.of(0, 5), Float64Array.of(2, 5)]);
      assert.deepEqual(Array.from(q!), [1, 0]);
    });
  });

  describe('label confidence', () => {
    it('is the largest softmax probability over the labels', () => {
      assert.ok(Math.abs(labelConfidence([Math.log(0.7), Math.log(0.3)]) - 0.7) < 1e-12);
      assert.ok(Math.abs(labelConfidence([-1000, -1000, -1000]) - 1 / 3) < 1e-12);
      assert.equal(labelConfidence([0, -Infinity]), 1);
    });
  });

  describe('demonstration order', () => {
    it('depends on the set and the seed, not the order chosen', () => {
      assert.deepEqual(demonstrationOrder([5, 1, 9, 3], 2), demonstrationOrder([9, 3, 5, 1], 2));
      assert.deepEqual([...demonstrationOrder([5, 1, 9, 3], 2)].sort((a, b) => a - b), [1, 3, 5, 9]);
    });

    it('draws a different permutation per seed', () => {
      const orders = new Set(Array.from({ length: 10 }, (_, seed) => demonstrationOrder([1, 2, 3, 4, 5, 6], seed).join(' ')));
      assert.ok(orders.size >= 8, `${orders.size} distinct orders of 10 seeds`);
    });
  });

  describe('signals for selection', () => {
    it('refuses a signal computed over the demonstration span, which shows the label', () => {
      assert.throws(() => assertSignalUsableForSelection('demonstration'), /span: demonstration` include the candidate's label/);
      assert.doesNotThrow(() => assertSignalUsableForSelection('input'));
    });
  });
});
