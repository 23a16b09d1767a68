import assert from 'node:assert/strict';
import { accuracy, labelScores, macroF1 } from '../../src/core/metrics/classificationMetrics.js';

function assertClose(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
}

// Hand-computed: a tp 1 fp 0 fn 1; b tp 2 fp 1 fn 0; c tp 0 fn 1; d (predicted only) tp 0 fp 1.
const gold = ['a', 'a', 'b', 'b', 'c'];
const predictions = ['a', 'b', 'b', 'b', 'd'];

describe('classification metrics', () => {
  it('gives accuracy as the fraction of predictions equal to their gold label', () => {
    assertClose(accuracy(predictions, gold), 3 / 5);
  });

  it('gives precision, recall, F1 and support per label, sorted, with 0 for a zero denominator', () => {
    const scores = labelScores(predictions, gold);
    assert.deepEqual(scores.map((s) => s.label), ['a', 'b', 'c', 'd']);
    assert.deepEqual(scores.map((s) => s.support), [2, 2, 1, 0]);
    assert.deepEqual(scores.map((s) => s.precision), [1, 2 / 3, 0, 0]);
    assert.deepEqual(scores.map((s) => s.recall), [0.5, 1, 0, 0]);
    scores.forEach((s, i) => assertClose(s.f1, [2 / 3, 0.8, 0, 0][i]!));
  });

  it('averages F1 over every label present in gold or predictions, a stray prediction included', () => {
    assertClose(macroF1(predictions, gold), (2 / 3 + 0.8 + 0 + 0) / 4);
  });

  it('leaves out a label that occurs in neither gold nor predictions', () => {
    assert.equal(macroF1(['pos', 'pos'], ['pos', 'pos']), 1);
    assertClose(macroF1(['pos', 'pos', 'pos'], ['pos', 'pos', 'neg']), (0.8 + 0) / 2);
  });

  it('gives 1 for perfect predictions and NaN for no examples', () => {
    assert.equal(macroF1(gold, gold), 1);
    assert.equal(accuracy(gold, gold), 1);
    assert.ok(Number.isNaN(macroF1([], [])) && Number.isNaN(accuracy([], [])));
  });

  it('refuses predictions and gold labels of different lengths', () => {
    assert.throws(() => accuracy(['a'], ['a', 'b']), /1 predictions for 2 gold labels/);
    assert.throws(() => macroF1(['a'], []), RangeError);
  });
});
