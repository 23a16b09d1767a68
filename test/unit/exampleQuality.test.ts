import assert from 'node:assert/strict';
import type { DatasetRow } from '../../src/core/dataset/datasetSpec.js';
import { defaultInfluenceAppearances, influencePromptCount, influencePrompts, kShotInfluence, oneShotGain, type PromptEvaluator } from '../../src/core/quality/exampleQuality.js';
import { continuationText } from '../../src/core/quality/promptEvaluation.js';

const pool: DatasetRow[] = [10, 11, 12].map((index) => ({ index, line: index + 1, id: `r${index}`, inputs: { text: `row ${index}` }, label: '0' }));

/** A made-up model: each demonstration adds its own bonus to every probe's score. */
const bonus: Record<number, number> = { 10: 1, 11: 0, 12: -2 };
const probeBase = [0.5, 1.5];
const evaluate: PromptEvaluator = async (prompts) => ({
  metrics: new Map([['score', prompts.map((demos) => Float64Array.from(probeBase, (base) => base + demos.reduce((s, d) => s + bonus[d.index]!, 0)))]]),
  predictions: [],
  evaluatedTokens: 0,
  minimumTokens: 0,
});

describe('example quality estimators', () => {
  it('one-shot gain is the mean over probes of the one-shot metric minus the zero-shot metric', async () => {
    const rows = await oneShotGain(pool, evaluate);
    assert.deepEqual(rows.map((r) => [r.example, r.id, r.estimator, r.metric, r.value, r.stderr, r.nPrompts]), [
      [10, 'r10', 'one-shot', 'score', 1, 0, 2],
      [11, 'r11', 'one-shot', 'score', 0, 0, 2],
      [12, 'r12', 'one-shot', 'score', -2, 0, 2],
    ]);
  });

  it('one-shot gain reports the standard error of the per-probe gains', async () => {
    const noisy: PromptEvaluator = async (prompts) => ({
      metrics: new Map([['score', prompts.map((demos) => (demos.length === 0 ? Float64Array.of(0, 0, 0) : Float64Array.of(1, 2, 3)))]]),
      predictions: [],
      evaluatedTokens: 0,
      minimumTokens: 0,
    });
    const [first] = await oneShotGain(pool.slice(0, 1), noisy);
    assert.equal(first!.value, 2);
    // gains 1, 2, 3: sample variance 1, so stderr = sqrt(1 / 3)
    assert.ok(Math.abs(first!.stderr - Math.sqrt(1 / 3)) < 1e-12);
  });

  it('k-shot influence is the mean metric of prompts with the candidate minus those without', async () => {
    const options = { shots: 2, prompts: 6, seed: 3 };
    const prompts = influencePrompts(pool.length, options);
    const rows = await kShotInfluence(pool, evaluate, options);
    pool.forEach((candidate, i) => {
      const means = prompts.map((p) => 1 + p.reduce((s, j) => s + bonus[pool[j]!.index]!, 0));
      const inside = means.filter((_, p) => prompts[p]!.includes(i));
      const outside = means.filter((_, p) => !prompts[p]!.includes(i));
      const average = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
      const row = rows.find((r) => r.example === candidate.index)!;
      assert.equal(row.nPrompts, inside.length);
      assert.ok(Math.abs(row.value - (average(inside) - average(outside))) < 1e-12);
    });
    // With additive bonuses the ranking of influence follows the bonuses.
    const value = (index: number): number => rows.find((r) => r.example === index)!.value;
    assert.ok(value(10) > value(11) && value(11) > value(12));
  });

  it('keeps the estimate on each half of its data for the noise ceiling: alternate probes, alternate influence prompts', async () => {
    const perProbe: PromptEvaluator = async (prompts) => ({
      metrics: new Map([['score', prompts.map((demos) => (demos.length === 0 ? Float64Array.of(0, 0, 0, 0, 0) : Float64Array.of(1, 2, 4, 8, 16)))]]),
      predictions: [],
      evaluatedTokens: 0,
      minimumTokens: 0,
    });
    const [gain] = await oneShotGain(pool.slice(0, 1), perProbe);
    assert.equal(gain!.halfA, (1 + 4 + 16) / 3, 'probes 0, 2, 4');
    assert.equal(gain!.halfB, (2 + 8) / 2, 'probes 1, 3');

    const options = { shots: 1, prompts: 12, seed: 4 };
    const prompts = influencePrompts(pool.length, options);
    const rows = await kShotInfluence(pool, evaluate, options);
    const means = prompts.map((p) => 1 + p.reduce((s, j) => s + bonus[pool[j]!.index]!, 0));
    const average = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    pool.forEach((candidate, i) => {
      const row = rows.find((r) => r.example === candidate.index)!;
      for (const [which, got] of [[0, row.halfA], [1, row.halfB]] as const) {
        const inHalf = means.filter((_, p) => p % 2 === which && prompts[p]!.includes(i));
        const outHalf = means.filter((_, p) => p % 2 === which && !prompts[p]!.includes(i));
        const expected = inHalf.length > 0 && outHalf.length > 0 ? average(inHalf) - average(outHalf) : NaN;
        assert.ok(Object.is(got, expected) || Math.abs(got - expected) < 1e-12, `candidate ${i} half ${which}: ${got} vs ${expected}`);
      }
    });
  });

  it('draws the same influence prompts for the same seed, and other ones for another', () => {
    const options = { shots: 2, prompts: 8, seed: 5 };
    assert.deepEqual(influencePrompts(10, options), influencePrompts(10, options));
    assert.notDeepEqual(influencePrompts(10, options), influencePrompts(10, { ...options, seed: 6 }));
    for (const prompt of influencePrompts(10, options)) assert.equal(new Set(prompt).size, 2);
  });

  it('puts every candidate in at least the default 16 influence prompts, and at most one more', () => {
    const pool = 30;
    const shots = 4;
    const prompts = influencePrompts(pool, { shots, prompts: influencePromptCount(pool, shots), seed: 1 });
    assert.equal(defaultInfluenceAppearances, 16);
    assert.equal(prompts.length, (16 * 30) / 4);
    const appearances = new Array<number>(pool).fill(0);
    for (const prompt of prompts) {
      assert.equal(new Set(prompt).size, shots);
      for (const p of prompt) appearances[p]!++;
    }
    assert.ok(Math.min(...appearances) >= 16 && Math.max(...appearances) <= 17, `appearances ${appearances.join(' ')}`);
  });

  it('puts a space before the answer unless the answer prefix ends in whitespace', () => {
    assert.equal(continuationText('\nLabel:', 'positive'), ' positive');
    assert.equal(continuationText('Answer: ', 'Paris'), 'Paris');
  });
});
