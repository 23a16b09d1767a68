import { rankedStrategy } from './rankedSelection.js';

/**
 * Plain uncertainty sampling (top entropy): the candidates the model is least sure about first, by
 * the precomputed `uncertainty` (see `labelEntropy`), with no diversity term. AdaICL, which adds
 * per-query demonstrations and coverage, is `adaicl`.
 */
export const uncertainty = rankedStrategy('uncertainty', 'uncertainty', 'highest');

/**
 * Entropy in nats of the label distribution softmax(logprobs): the log-probabilities of each label
 * need not sum to one (the scorer reads them per label), so they are normalised first.
 * Uniform over two labels gives ln 2.
 */
export function labelEntropy(logprobs: readonly number[]): number {
  if (logprobs.length === 0) throw new RangeError('labelEntropy needs at least one label log-probability');
  if (logprobs.some((x) => Number.isNaN(x) || x === Infinity)) throw new RangeError(`labelEntropy needs log-probabilities that are numbers below +Infinity, got [${logprobs.join(', ')}]`);
  const max = Math.max(...logprobs);
  if (max === -Infinity) throw new RangeError('labelEntropy got only -Infinity: no label has any probability');
  // Shift by the maximum so exp never overflows; -Infinity labels get probability 0 and add nothing.
  const shifted = logprobs.map((x) => x - max);
  const logZ = Math.log(shifted.reduce((sum, x) => sum + Math.exp(x), 0));
  let entropy = 0;
  for (const x of shifted) {
    if (x === -Infinity) continue;
    const logP = x - logZ;
    entropy -= Math.exp(logP) * logP;
  }
  return entropy;
}
