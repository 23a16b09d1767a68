import { bm25Neighbours } from './bm25.js';
import { demonstrationOrder } from './demonstrationOrder.js';
import { kateNeighbours } from './kate.js';
import { SelectionError, type Selection } from './selectionStrategy.js';

/** The per-query strategies: they retrieve each test query's demonstrations from a labelled set. */
export const retrievalStrategies = ['kate', 'bm25'] as const;
export type RetrievalStrategy = (typeof retrievalStrategies)[number];

export interface RetrievalRequest {
  readonly strategy: RetrievalStrategy;
  /** Pool positions labelled (random selection's picks at this seed and budget). */
  readonly labelled: readonly number[];
  /** How many to retrieve (capped at the labelled set's size). */
  readonly shots: number;
  /** The selection seed: it fixes the prompt order (demonstrationOrder). */
  readonly seed: number;
  /** Row index of every pool position. */
  readonly rowIndex: readonly number[];
  /** KATE: the query's and every pool position's embedding (centredUnitVectors). */
  readonly vectors?: { readonly query: Float64Array; readonly pool: readonly Float64Array[] };
  /** BM25: the query's and every pool position's text. */
  readonly texts?: { readonly query: string; readonly pool: readonly string[] };
}

/**
 * One test query's demonstrations under KATE or BM25, as pool positions in prompt order (the one
 * seeded order every strategy's prompts follow); score: the cosine similarity or BM25 score. Both
 * the evaluate phase and the prompt preview build KATE and BM25 prompts with this.
 */
export function retrieveDemonstrations(request: RetrievalRequest): Selection[] {
  const { strategy, labelled, seed, rowIndex } = request;
  const shots = Math.min(request.shots, labelled.length);
  let found: Selection[];
  if (strategy === 'kate') {
    if (!request.vectors) throw new SelectionError('kate', 'needs the query and pool vectors');
    const { query, pool } = request.vectors;
    found = kateNeighbours(query, labelled.map((p, i) => ({ index: rowIndex[p]!, id: String(i), vector: pool[p]! })), shots);
  } else {
    if (!request.texts) throw new SelectionError('bm25', 'needs the query and pool texts');
    const { query, pool } = request.texts;
    found = bm25Neighbours(query, labelled.map((p) => pool[p]!), shots);
  }
  const byRow = new Map(found.map((s) => [rowIndex[labelled[s.position]!]!, { position: labelled[s.position]!, score: s.score }]));
  return demonstrationOrder([...byRow.keys()], seed).map((row) => byRow.get(row)!);
}
