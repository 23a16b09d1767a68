import { rankedStrategy } from './rankedSelection.js';

/**
 * The upper bound: candidates with the highest measured in-context quality first. Not usable in
 * practice (quality is what selection tries to predict), but it shows how far the others are from it.
 */
export const oracle = rankedStrategy('oracle', 'quality', 'highest');
