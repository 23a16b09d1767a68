import { SelectionError, checkContext, remainingPositions, type ConfidenceScorer, type Selection, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';
import { cosineSimilarity } from './vectorDistance.js';
import { nearestNeighbours } from './voteK.js';

export interface AdaIclOptions {
  /** Demonstrations per query when measuring uncertainty: the labelled examples most similar to it; default 5. */
  readonly shots?: number;
  /** Fraction of the unlabelled pool, least confident first, that forms the hard set; default 1/2. */
  readonly hardFraction?: number;
  /** k of the k-NN graph whose neighbourhoods cover the hard set; default 5. */
  readonly graphNeighbours?: number;
  /** Neighbourhoods reach two hops (neighbours of neighbours); default true. */
  readonly twoHop?: boolean;
}

/**
 * AdaICL (Mavromatis et al., 2023, "Which Examples to Annotate for In-Context Learning? Towards
 * Effective and Efficient Selection"), the `ada_icl_default` setting of their code:
 *
 * 1. Uncertainty: the model scores every unlabelled candidate as a query after its `shots` most
 *    similar labelled examples (cosine, most similar last; none in the first round: zero-shot).
 * 2. Hard set: the ⌊hardFraction · n⌋ least confident of the n unlabelled candidates (at least one).
 * 3. Max coverage: over the k-NN graph of the whole pool, a candidate covers the hard examples in its
 *    neighbourhood (itself, its k nearest, and with twoHop theirs). Greedily choose the unlabelled
 *    candidate covering the most hard examples not yet covered (ties to the lower position); score:
 *    how many it newly covers.
 *
 * Deviations: when every hard example is covered before the budget is spent, their code measures
 * uncertainty again and starts a new phase; here coverage starts afresh (a new phase without
 * re-scoring: a run's `selection.rounds` re-scores between rounds). Their first round starts from a
 * clustered or random initial set; here from what is labelled (nothing in a run's first round).
 */
export function createAdaIcl(options: AdaIclOptions = {}): SelectionStrategy {
  const name = 'adaicl';
  const shots = options.shots ?? 5;
  const hardFraction = options.hardFraction ?? 0.5;
  const k = options.graphNeighbours ?? 5;
  const twoHop = options.twoHop ?? true;
  if (!Number.isInteger(shots) || shots < 0) throw new SelectionError(name, `shots must be a whole number ≥ 0, got ${shots}`);
  if (!(hardFraction > 0 && hardFraction <= 1)) throw new SelectionError(name, `hardFraction must be in (0, 1], got ${hardFraction}`);
  if (!Number.isInteger(k) || k < 1) throw new SelectionError(name, `graphNeighbours must be a whole number ≥ 1, got ${k}`);
  return {
    name,
    needs: ['vector'],
    select() {
      throw new SelectionError(name, 'needs the model to measure uncertainty (a classification run); it cannot select from vectors alone');
    },
    async selectWithModel(context: SelectionContext, confidence: ConfidenceScorer) {
      const taken = checkContext(name, this.needs, context);
      const { pool, budget } = context;
      const remaining = remainingPositions(pool.length, taken);
      if (budget === 0) return [];
      const requests = remaining.map((position) => {
        const v = pool[position]!.vector!;
        const similar = context.labelled
          .map((l) => ({ l, similarity: cosineSimilarity(v, pool[l]!.vector!) }))
          .sort((a, b) => b.similarity - a.similarity || a.l - b.l)
          .slice(0, shots)
          .reverse();
        return { position, demonstrations: similar.map((s) => s.l) };
      });
      const scores = await confidence(requests);
      if (scores.length !== remaining.length) throw new SelectionError(name, `the model scored ${scores.length} of ${remaining.length} candidates`);
      const order = remaining.map((p, i) => ({ p, c: scores[i]! })).sort((a, b) => a.c - b.c || a.p - b.p);
      const hard = new Set(order.slice(0, Math.max(1, Math.floor(hardFraction * remaining.length))).map((o) => o.p));
      const neighbours = nearestNeighbours(pool.map((c) => c.vector!), Math.min(k, pool.length - 1));
      const covers = remaining.map((u) => {
        const reach = new Set([u, ...neighbours[u]!]);
        if (twoHop) for (const n of neighbours[u]!) for (const m of neighbours[n]!) reach.add(m);
        return [...reach].filter((h) => hard.has(h));
      });
      const open = remaining.map((_, i) => i);
      let covered = new Set<number>();
      const out: Selection[] = [];
      while (out.length < budget) {
        const gainOf = (i: number): number => covers[i]!.filter((h) => !covered.has(h)).length;
        let best = open[0]!;
        let bestGain = gainOf(best);
        for (const i of open) {
          const gain = gainOf(i);
          if (gain > bestGain) [best, bestGain] = [i, gain];
        }
        if (bestGain === 0 && covered.size > 0) {
          covered = new Set();
          continue;
        }
        out.push({ position: remaining[best]!, score: bestGain });
        open.splice(open.indexOf(best), 1);
        for (const h of covers[best]!) covered.add(h);
      }
      return out;
    },
  };
}
