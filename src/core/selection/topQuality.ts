import { rankedStrategy } from './rankedSelection.js';

/**
 * Candidates with the highest measured in-context quality first (quality.csv's metric). It reads
 * the labels selection is meant to spare, so it cannot be used in practice; it is not an upper
 * bound either (a set of individually best examples need not make the best prompt).
 */
export const topQuality = rankedStrategy('top-quality', 'quality', 'highest');
