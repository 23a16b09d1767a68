import { SelectionError, checkContext, remainingPositions, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';
import { dotProduct } from './vectorDistance.js';

export interface VoteKOptions {
  /** k of the k-NN graph (the paper uses 150 for thousands of candidates). */
  readonly neighbours?: number;
  /** Discount base ρ > 1: each chosen neighbour divides a voter's vote by ρ. */
  readonly rho?: number;
}

/**
 * The graph stage of vote-k (Su et al., 2022, Algorithm 1, as in their `fast_votek`).
 *
 * Graph: an edge v → u when u is one of v's k nearest other candidates by cosine similarity (ties
 * to the lower pool position). Each v "votes" for its k neighbours.
 * Greedy: choose u* = argmax over unchosen u of Σ over unchosen voters v of u of ρ^(−c(v)), where
 * c(v) = how many already chosen candidates (labelled ones included) are among v's neighbours; ties
 * to the lower position. Score: that sum when chosen.
 *
 * The paper's formula sums over v with u ∈ N(v), not over u's own neighbours; the two agree when the
 * graph is symmetric. Left out: the paper's second stage, which picks the last 9/10 of the budget by
 * the language model's confidence; here the graph stage chooses the whole budget.
 */
export function createVoteK(options: VoteKOptions = {}): SelectionStrategy {
  const k = options.neighbours ?? 10;
  const rho = options.rho ?? 10;
  const name = 'vote-k';
  if (!Number.isInteger(k) || k < 1) throw new SelectionError(name, `neighbours must be a whole number ≥ 1, got ${k}`);
  if (!(rho > 1)) throw new SelectionError(name, `rho must be greater than 1, got ${rho}`);
  return {
    name,
    needs: ['vector'],
    select(context: SelectionContext) {
      const taken = checkContext(name, this.needs, context);
      const { pool, budget } = context;
      const voters = votersOf(pool.map((c) => c.vector!), Math.min(k, pool.length - 1));
      // c(v) from the description above, started from the labelled set, and each voter's vote:
      // ρ^(−c(v)) while v is unchosen, 0 once chosen.
      const chosenNeighbours = new Int32Array(pool.length);
      const vote = new Float64Array(pool.length).fill(1);
      const choose = (u: number): void => {
        vote[u] = 0;
        taken.add(u);
        for (const v of voters[u]!) {
          chosenNeighbours[v]! += 1;
          if (!taken.has(v)) vote[v] = rho ** -chosenNeighbours[v]!;
        }
      };
      for (const l of [...taken]) choose(l);
      const remaining = remainingPositions(pool.length, taken);
      const out: { position: number; score: number }[] = [];
      while (out.length < budget) {
        let best = -1;
        let bestScore = -Infinity;
        for (const u of remaining) {
          let score = 0;
          for (const v of voters[u]!) score += vote[v]!;
          if (score > bestScore) {
            best = u;
            bestScore = score;
          }
        }
        out.push({ position: best, score: bestScore });
        remaining.splice(remaining.indexOf(best), 1);
        choose(best);
      }
      return out;
    },
  };
}

/** The default vote-k: k = 10, ρ = 10. */
export const voteK = createVoteK();

/** voters[u] = the positions v whose k nearest others include u, ascending. O(n² · d) time, O(n · k) memory. */
export function votersOf(vectors: readonly Float64Array[], k: number): number[][] {
  // Unit vectors once, so each similarity is one dot product (all-zero vectors stay zero: similarity 0).
  const units = vectors.map((v) => {
    const norm = Math.hypot(...v);
    return norm === 0 ? v : v.map((x) => x / norm);
  });
  const voters: number[][] = vectors.map(() => []);
  units.forEach((v, vi) => {
    // v's k nearest so far, most similar first; a later equal similarity never displaces an
    // earlier one, so ties go to the lower position.
    const nearest: { ui: number; similarity: number }[] = [];
    units.forEach((u, ui) => {
      if (ui === vi) return;
      const similarity = dotProduct(v, u);
      if (nearest.length === k && similarity <= nearest[k - 1]!.similarity) return;
      let at = nearest.length;
      while (at > 0 && nearest[at - 1]!.similarity < similarity) at--;
      nearest.splice(at, 0, { ui, similarity });
      if (nearest.length > k) nearest.pop();
    });
    for (const { ui } of nearest) voters[ui]!.push(vi);
  });
  return voters;
}
