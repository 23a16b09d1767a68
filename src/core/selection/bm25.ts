import { SelectionError, type Selection } from './selectionStrategy.js';

/** BM25's free parameters: Lucene's and Elasticsearch's defaults. */
export const bm25Defaults = { k1: 1.2, b: 0.75 } as const;

/** Lower-cased runs of letters and digits (any script): the terms BM25 matches. */
export function bm25Terms(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Okapi BM25 of one query against every document (Robertson & Zaragoza, 2009), with Lucene's
 * non-negative idf: score(q, d) = Σ over the query's terms t (each occurrence counts) of
 * idf(t) · f(t, d) · (k1 + 1) / (f(t, d) + k1 · (1 − b + b · |d| / avgdl)),
 * idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)), N documents, n(t) of them containing t,
 * |d| the document's term count and avgdl the mean over documents.
 */
export function bm25Scores(query: string, documents: readonly string[], parameters: { k1: number; b: number } = bm25Defaults): Float64Array {
  const { k1, b } = parameters;
  const docs = documents.map((d) => {
    const counts = new Map<string, number>();
    const terms = bm25Terms(d);
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    return { counts, length: terms.length };
  });
  const n = docs.length;
  const avgdl = n === 0 ? 0 : docs.reduce((sum, d) => sum + d.length, 0) / n;
  const containing = new Map<string, number>();
  for (const d of docs) for (const t of d.counts.keys()) containing.set(t, (containing.get(t) ?? 0) + 1);
  const scores = new Float64Array(n);
  for (const t of bm25Terms(query)) {
    const nt = containing.get(t) ?? 0;
    if (nt === 0) continue;
    const idf = Math.log(1 + (n - nt + 0.5) / (nt + 0.5));
    docs.forEach((d, i) => {
      const f = d.counts.get(t) ?? 0;
      if (f === 0) return;
      const norm = avgdl === 0 ? 1 : 1 - b + (b * d.length) / avgdl;
      scores[i]! += (idf * f * (k1 + 1)) / (f + k1 * norm);
    });
  }
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
