import { SelectionError, checkVectors, type Candidate, type Selection } from './selectionStrategy.js';
import { cosineSimilarity } from './vectorDistance.js';

/**
 * KATE (Liu et al., 2022): for one test query, the k pool candidates most similar to it by cosine
 * similarity of their vectors, most similar first (score: the similarity; ties to the lower pool
 * position). Not a budget strategy: it picks per query. The paper's prompts put the most similar
 * example next to the query, i.e. last, which is this order reversed.
 */
export function kateNeighbours(queryVector: Float64Array, pool: readonly Candidate[], k: number): Selection[] {
  if (!Number.isInteger(k) || k < 0) throw new SelectionError('kate', `k must be a whole number ≥ 0, got ${k}`);
  if (k > pool.length) throw new SelectionError('kate', `k ${k} is larger than the pool of ${pool.length}`);
  checkVectors('kate', pool);
  const width = pool[0]?.vector?.length ?? queryVector.length;
  if (queryVector.length !== width) throw new SelectionError('kate', `the query vector has length ${queryVector.length}, the pool's ${width}`);
  return pool
    .map((candidate, position) => ({ position, score: cosineSimilarity(queryVector, candidate.vector!) }))
    .sort((a, b) => b.score - a.score || a.position - b.position)
    .slice(0, k);
}
