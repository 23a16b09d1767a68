import { SelectionError, checkContext, remainingPositions, type ConfidenceScorer, type Selection, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';
import { dotProduct } from './vectorDistance.js';

export interface VoteKOptions {
  /** k of the k-NN graph; default 150, as Su et al.'s code (capped at the pool size − 1). */
  readonly neighbours?: number;
  /** Discount base ρ > 1: each chosen neighbour divides a voter's vote by ρ; default 10. */
  readonly rho?: number;
}

/**
 * vote-k (Su et al., 2022, "Selective Annotation Makes Language Models Better Few-Shot Learners",
 * Section 2.1 and their code's `votek`), both stages:
 *
 * Graph: an edge v → u when u is one of v's k nearest other candidates by cosine similarity (ties
 * to the lower pool position). Each v "votes" for its k neighbours. The vote score of an unchosen u
 * is Σ over unchosen voters v of u of ρ^(−c(v)), c(v) = how many chosen candidates (labelled ones
 * included) are among v's neighbours.
 *
 * Stage 1 (graph): ⌈budget / 10⌉ times, choose the unchosen u with the largest vote score.
 * Stage 2 (confidence): the model scores every still-unchosen candidate as a query after the
 * chosen ones (labelled, then stage 1's picks, in that order) as demonstrations; confidence is the
 * probability of its most likely label. The candidates, least confident first, are cut into bins of
 * ⌊0.9 n / r⌋ (n candidates, r the budget left; the most confident tenth is never binned), and each
 * of the first r bins gives the candidate with the largest vote score in it. Ties to the lower
 * position. Score: the vote score when chosen.
 *
 * Without a model (`select`, used by the human-labelling proposals and generative tasks, which
 * have no label distribution) the graph stage chooses the whole budget: Su et al.'s "fast vote-k".
 * Deviations: their prompts for stage 2 hold the chosen examples most similar to each query, as
 * many as fit; here every query sees all chosen examples in one fixed order, so one cached prefix
 * serves the whole pool. Their summed votes run over u's voters as here.
 */
export function createVoteK(options: VoteKOptions = {}): SelectionStrategy {
  const k = options.neighbours ?? 150;
  const rho = options.rho ?? 10;
  const name = 'vote-k';
  if (!Number.isInteger(k) || k < 1) throw new SelectionError(name, `neighbours must be a whole number ≥ 1, got ${k}`);
  if (!(rho > 1)) throw new SelectionError(name, `rho must be greater than 1, got ${rho}`);
  return {
    name,
    needs: ['vector'],
    select(context: SelectionContext) {
      const taken = checkContext(name, this.needs, context);
      const graph = new VoteGraph(context, taken, k, rho);
      return graph.chooseBest(graph.remaining(), context.budget);
    },
    async selectWithModel(context: SelectionContext, confidence: ConfidenceScorer) {
      const taken = checkContext(name, this.needs, context);
      const graph = new VoteGraph(context, taken, k, rho);
      const first = graph.chooseBest(graph.remaining(), Math.ceil(context.budget / 10));
      const left = context.budget - first.length;
      if (left === 0) return first;
      const candidates = graph.remaining();
      const demonstrations = [...context.labelled, ...first.map((s) => s.position)];
      const scores = await confidence(candidates.map((position) => ({ position, demonstrations })));
      if (scores.length !== candidates.length) throw new SelectionError(name, `the model scored ${scores.length} of ${candidates.length} candidates`);
      const confidenceOf = new Map(candidates.map((p, i) => [p, scores[i]!]));
      const byConfidence = [...candidates].sort((a, b) => confidenceOf.get(a)! - confidenceOf.get(b)! || a - b);
      const binSize = Math.max(1, Math.floor(Math.floor(0.9 * candidates.length) / left));
      const second: Selection[] = [];
      for (let bin = 0; bin < left; bin++) second.push(...graph.chooseBest(byConfidence.slice(bin * binSize, (bin + 1) * binSize), 1));
      return [...first, ...second];
    },
  };
}

/** The vote-k graph and its running votes, started from the labelled positions. */
class VoteGraph {
  private readonly voters: number[][];
  /** c(v), and each voter's vote: ρ^(−c(v)) while v is unchosen, 0 once chosen. */
  private readonly chosenNeighbours: Int32Array;
  private readonly vote: Float64Array;

  constructor(
    private readonly context: SelectionContext,
    private readonly taken: Set<number>,
    k: number,
    private readonly rho: number,
  ) {
    const { pool } = context;
    this.voters = votersOf(pool.map((c) => c.vector!), Math.min(k, pool.length - 1));
    this.chosenNeighbours = new Int32Array(pool.length);
    this.vote = new Float64Array(pool.length).fill(1);
    for (const l of [...taken]) this.choose(l);
  }

  remaining(): number[] {
    return remainingPositions(this.context.pool.length, this.taken);
  }

  /** Greedily `count` positions of `among` (unchosen ones), each the largest vote score at its turn. */
  chooseBest(among: readonly number[], count: number): Selection[] {
    const open = among.filter((u) => !this.taken.has(u));
    const out: Selection[] = [];
    while (out.length < count && open.length > 0) {
      let best = -1;
      let bestScore = -Infinity;
      for (const u of open) {
        let score = 0;
        for (const v of this.voters[u]!) score += this.vote[v]!;
        if (score > bestScore || (score === bestScore && u < best)) {
          best = u;
          bestScore = score;
        }
      }
      out.push({ position: best, score: bestScore });
      open.splice(open.indexOf(best), 1);
      this.choose(best);
    }
    return out;
  }

  private choose(u: number): void {
    this.vote[u] = 0;
    this.taken.add(u);
    for (const v of this.voters[u]!) {
      this.chosenNeighbours[v]! += 1;
      if (!this.taken.has(v)) this.vote[v] = this.rho ** -this.chosenNeighbours[v]!;
    }
  }
}

/** The default vote-k: k = 150, ρ = 10. */
export const voteK = createVoteK();

/**
 * neighbours[v] = v's k nearest other vectors by cosine similarity, most similar first (ties to the
 * lower position). O(n² · d) time, O(n · k) memory.
 */
export function nearestNeighbours(vectors: readonly Float64Array[], k: number): number[][] {
  // Unit vectors once, so each similarity is one dot product (all-zero vectors stay zero: similarity 0).
  const units = vectors.map((v) => {
    const norm = Math.hypot(...v);
    return norm === 0 ? v : v.map((x) => x / norm);
  });
  return units.map((v, vi) => {
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
    return nearest.map((n) => n.ui);
  });
}

/** voters[u] = the positions v whose k nearest others include u, ascending. */
export function votersOf(vectors: readonly Float64Array[], k: number): number[][] {
  const voters: number[][] = vectors.map(() => []);
  nearestNeighbours(vectors, k).forEach((neighbours, v) => {
    for (const u of neighbours) voters[u]!.push(v);
  });
  return voters;
}
