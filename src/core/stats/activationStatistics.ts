// Names and order of the per-example activation statistics the engine computes (the C++
// reduction in src/engine/native/ActivationReducer.cpp writes them in this order; the addon
// loader checks both lists agree). Definitions follow scipy.stats' defaults:
//   mean, variance (population, /n), skewness m3/m2^1.5, kurtosis (excess) m4/m2^2 - 3,
// plus the massive-activation criteria of Sun et al. (2024).

export const activationStatistics = [
  'mean',
  'variance',
  'skewness',
  'kurtosis',
  'max_abs',
  'median_abs',
  'max_over_median',
  'top_dim',
  // Sun et al.'s massive activations: |a| > 100 AND |a| > 1000 × the median |a| of the value's own
  // token (over its d_model values), both at once; a count.
  'massive',
  // The two conditions alone, as counts: |a| > 100; |a| > 1000 × the median |a| of the pooled values.
  'abs_over_100',
  'abs_over_1000x_median',
] as const;
export type ActivationStatistic = (typeof activationStatistics)[number];

/**
 * How a span's [tokens, d_model] activations are pooled before a statistic is taken:
 * `all` — every token × dimension value; `token-mean` — the statistic of each token's vector,
 * averaged over tokens (top_dim: the most frequent per-token top dimension); `last` — the last
 * token's vector.
 */
export const poolings = ['all', 'token-mean', 'last'] as const;
export type Pooling = (typeof poolings)[number];
