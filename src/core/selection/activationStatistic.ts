import { rankedStrategy } from './rankedSelection.js';

/** Candidates with the largest activation statistic first (e.g. the most massive activations). */
export const highestFirst = rankedStrategy('highest-first', 'statistic', 'highest');

/** Candidates with the smallest activation statistic first. */
export const lowestFirst = rankedStrategy('lowest-first', 'statistic', 'lowest');
