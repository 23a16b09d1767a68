// Multi-round acquisition, as deep active learning runs it: each round a strategy picks from the
// still-unlabelled pool, the simulated annotator "labels" the picks (their labels come from the
// dataset), and the next round may use everything labelled so far.
import { randomSelection } from '../selection/randomSelection.js';
import type { Candidate, ConfidenceScorer, SelectionStrategy } from '../selection/selectionStrategy.js';
import { csvCell, formatNumber } from '../format/statsCsv.js';

/** One row of selections.csv. */
export interface SelectionRow {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  /** 1-based acquisition round. */
  readonly round: number;
  /** Row index in the data file. */
  readonly example: number;
  readonly id: string;
  /** What the strategy ranked the example by when it chose it. */
  readonly score: number;
}

export const selectionsCsvColumns = ['strategy', 'seed', 'budget', 'round', 'example', 'id', 'score'] as const;

export function selectionsCsv(rows: readonly SelectionRow[]): string {
  const lines = rows.map((r) => [r.strategy, r.seed, r.budget, r.round, r.example, csvCell(r.id), formatNumber(r.score)].join(','));
  return [selectionsCsvColumns.join(','), ...lines].join('\n') + '\n';
}

/** How many examples each of `rounds` rounds acquires: as equal as can be, earlier rounds taking the remainder. */
export function roundSizes(budget: number, rounds: number): number[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a whole number ≥ 1, got ${rounds}`);
  if (rounds > budget) throw new RangeError(`${rounds} rounds cannot share a budget of ${budget}: each round acquires at least one example`);
  const base = Math.floor(budget / rounds);
  return Array.from({ length: rounds }, (_, r) => base + (r < budget % rounds ? 1 : 0));
}

export interface AcquisitionPlan {
  readonly strategy: SelectionStrategy;
  readonly budget: number;
  readonly rounds: number;
  readonly seed: number;
  /**
   * The pool as this round sees it, given the positions labelled so far (in acquisition order):
   * model-dependent fields such as uncertainty are recomputed with the labelled examples as the
   * prompt's demonstrations.
   */
  readonly poolForRound: (labelled: readonly number[], round: number) => Promise<readonly Candidate[]>;
  /** The model's confidence for strategies that query it while selecting (vote-k, AdaICL); absent: they select without it. */
  readonly confidenceForRound?: (round: number) => ConfidenceScorer;
}

/** The positions acquired, in order, with the round and score of each. */
export async function acquire(plan: AcquisitionPlan): Promise<{ position: number; round: number; score: number }[]> {
  const picked: { position: number; round: number; score: number }[] = [];
  const sizes = roundSizes(plan.budget, plan.rounds);
  for (const [r, size] of sizes.entries()) {
    const round = r + 1;
    const labelled = picked.map((p) => p.position);
    const pool = await plan.poolForRound(labelled, round);
    // Each round its own stream of random numbers, fixed by the seed.
    const context = { pool, budget: size, seed: plan.seed * 1000 + round, labelled };
    const selections =
      plan.strategy.selectWithModel && plan.confidenceForRound ? await plan.strategy.selectWithModel(context, plan.confidenceForRound(round)) : plan.strategy.select(context);
    for (const s of selections) picked.push({ position: s.position, round, score: s.score });
  }
  return picked;
}

/**
 * The pool positions random selection labels at `seed` and `budget` over `rounds` (what its
 * selections.csv rows hold): the labelled set KATE and BM25 retrieve from, so they spend the same
 * budget as every other strategy.
 */
export async function randomBudget(poolSize: number, budget: number, rounds: number, seed: number): Promise<number[]> {
  const pool: Candidate[] = Array.from({ length: poolSize }, (_, p) => ({ index: p, id: String(p) }));
  const picked = await acquire({ strategy: randomSelection, budget, rounds, seed, poolForRound: () => Promise.resolve(pool) });
  return picked.map((p) => p.position);
}
