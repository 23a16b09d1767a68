import { normalizeAnswer, normalizedTokens } from './answerNormalization.js';

// Scores of one generated answer against one or more references; each takes the maximum over the
// references (as SQuAD and rouge-score do). All three work on SQuAD-normalised text, so
// exact match ≤ ROUGE-L ≤ token F1 always holds; when prediction and reference both normalise to
// nothing (e.g. "The." and "a") they agree, and every score is 1.

/** 1 when the normalised prediction equals a normalised reference, else 0. */
export function exactMatch(prediction: string, references: readonly string[]): number {
  const normalized = normalizeAnswer(prediction);
  return bestOver(references, (reference) => (normalizeAnswer(reference) === normalized ? 1 : 0));
}

/** SQuAD's token F1: the harmonic mean of precision and recall of the tokens in common (as multisets). */
export function tokenF1(prediction: string, references: readonly string[]): number {
  const predicted = normalizedTokens(prediction);
  return bestOver(references, (reference) => {
    const gold = normalizedTokens(reference);
    if (predicted.length === 0 || gold.length === 0) return predicted.length === gold.length ? 1 : 0;
    const counts = new Map<string, number>();
    for (const token of gold) counts.set(token, (counts.get(token) ?? 0) + 1);
    let common = 0;
    for (const token of predicted) {
      const left = counts.get(token) ?? 0;
      if (left > 0) {
        common++;
        counts.set(token, left - 1);
      }
    }
    return fMeasure(common / predicted.length, common / gold.length, 1);
  });
}

/**
 * ROUGE-L: the F-measure with beta = 1 (rouge-score's `rougeL` fmeasure) of precision
 * LCS/|prediction| and recall LCS/|reference|, LCS being the longest common token subsequence.
 * Tokens are SQuAD-normalised (rouge-score instead keeps articles, splits at punctuation and drops
 * non-ASCII tokens).
 */
export function rougeL(prediction: string, references: readonly string[]): number {
  const predicted = normalizedTokens(prediction);
  return bestOver(references, (reference) => {
    const gold = normalizedTokens(reference);
    if (predicted.length === 0 || gold.length === 0) return predicted.length === gold.length ? 1 : 0;
    const lcs = longestCommonSubsequence(predicted, gold);
    return fMeasure(lcs / predicted.length, lcs / gold.length, 1);
  });
}

/** Length of the longest common subsequence, O(|a|·|b|) time, O(|b|) memory. */
export function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  let row = new Array<number>(b.length + 1).fill(0);
  for (const token of a) {
    for (let j = 1; j <= b.length; j++) {
      row[j] = token === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
    }
    [previous, row] = [row, previous];
  }
  return previous[b.length]!;
}

function fMeasure(precision: number, recall: number, beta: number): number {
  if (precision === 0 && recall === 0) return 0;
  const beta2 = beta * beta;
  return ((1 + beta2) * precision * recall) / (recall + beta2 * precision);
}

function bestOver(references: readonly string[], score: (reference: string) => number): number {
  if (references.length === 0) throw new RangeError('a prediction needs at least one reference to be scored');
  return Math.max(...references.map(score));
}
