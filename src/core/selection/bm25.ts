import bm25Vectorizer, { type BM25VectorizerConfig } from 'wink-nlp/utilities/bm25-vectorizer';
import its from 'wink-nlp/src/its.js';
import { SelectionError, type Selection } from './selectionStrategy.js';

/** BM25's free parameters: Lucene's and Elasticsearch's defaults. */
export const bm25Defaults = { k1: 1.2, b: 0.75 } as const;

/**
 * Decimal places wink-nlp keeps of each idf and each term weight: 12, its most (its default, 6,
 * would tie documents that differ in the seventh decimal).
 */
export const bm25Precision = 12;

/** Lower-cased runs of letters and digits (any script): the terms BM25 matches. */
export function bm25Terms(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Okapi BM25 of one query against every document (Robertson & Zaragoza, 2009), computed by
 * wink-nlp's BM25 vectorizer: score(q, d) = Σ over the query's terms t (each occurrence counts) of
 * w(t, d) = idf(t) · f(t, d) · (k1 + 1) / (f(t, d) + k1 · (1 − b + b · |d| / avgdl)),
 * idf(t) = ln((N − n(t) + 0.5) / (n(t) + 0.5) + 1) (Lucene's non-negative idf: wink-nlp's k = 1),
 * N documents, n(t) of them containing t, |d| the document's term count and avgdl the mean over
 * documents. wink-nlp rounds idf(t) and then w(t, d) to 12 decimals (`bm25Precision`); the sum
 * runs in query order, so equal inputs give equal bytes.
 */
export function bm25Scores(query: string, documents: readonly string[], parameters: { k1: number; b: number } = bm25Defaults): Float64Array {
  const { k1, b } = parameters;
  // wink-nlp quietly replaces a parameter outside these ranges with its default.
  if (!(k1 >= 0 && k1 <= 100)) throw new SelectionError('bm25', `k1 must be between 0 and 100, got ${k1}`);
  if (!(b >= 0 && b <= 1)) throw new SelectionError('bm25', `b must be between 0 and 1, got ${b}`);
  const scores = new Float64Array(documents.length);
  // wink-nlp refuses to weigh an empty collection: there is nothing to score.
  if (documents.length === 0) return scores;
  // `precision` is read by wink-nlp (1 to 12) but missing from its type declaration.
  const vectorizer = bm25Vectorizer({ k: 1, k1, b, norm: 'none', precision: bm25Precision } as BM25VectorizerConfig);
  for (const document of documents) vectorizer.learn(bm25Terms(document));
  const terms = bm25Terms(query);
  documents.forEach((_, i) => {
    const weights = vectorizer.doc(i).out(its.bow);
    if (typeof weights === 'string') throw new SelectionError('bm25', `wink-nlp returned text, not term weights, for document ${i}`);
    let score = 0;
    for (const t of terms) score += weights[t] ?? 0;
    scores[i] = score;
  });
  return scores;
}

/**
 * The BM25 retrieval baseline: for one test query, the k documents (candidate texts) with the
 * highest BM25 score, highest first (score: the BM25 score; ties to the lower position). Like
 * KATE, it picks per query.
 */
export function bm25Neighbours(query: string, documents: readonly string[], k: number): Selection[] {
  if (!Number.isInteger(k) || k < 0) throw new SelectionError('bm25', `k must be a whole number ≥ 0, got ${k}`);
  if (k > documents.length) throw new SelectionError('bm25', `k ${k} is larger than the ${documents.length} documents`);
  return [...bm25Scores(query, documents)]
    .map((score, position) => ({ position, score }))
    .sort((a, b) => b.score - a.score || a.position - b.position)
    .slice(0, k);
}
