// The next rows to put before a human annotator: one acquisition round of an existing selection
// strategy over the file's rows, the labelled ones as the strategy's `labelled` positions (the
// diversity strategies start from them) and never proposed again. The seed of round r is
// seed × 1000 + r, as in a run's multi-round acquisition, so the same labels and seed give the
// same proposal.
import type { DatasetRow } from '../dataset/datasetSpec.js';
import type { Candidate, CandidateField } from '../selection/selectionStrategy.js';
import { strategyByName, strategyNames, type StrategyOptions } from '../selection/strategyRegistry.js';

/** What a labelling round can rank by, keyed by row index. */
export interface CandidateInfo {
  /** An activation statistic per row (a stats.csv column), for highest-first / lowest-first. */
  readonly statistic?: ReadonlyMap<number, number>;
  /** Pooled vectors per row (a run's checkpoints: selection.embedding's), for k-center-greedy, k-means++ and vote-k. */
  readonly vectors?: ReadonlyMap<number, Float64Array>;
  /** Says where the information comes from, for messages (e.g. `run sst2, kurtosis L12`). */
  readonly source?: string;
}

/** A strategy as the labeller offers it: usable, or why not. */
export interface StrategyAvailability {
  readonly name: string;
  readonly available: boolean;
  readonly reason?: string;
}

const needsOf = (name: string): readonly CandidateField[] => strategyByName(name).needs;

/** Every budget strategy, and whether it can propose rows to a human with this information. */
export function labellingStrategies(info: CandidateInfo): StrategyAvailability[] {
  return strategyNames.map((name) => {
    if (name === 'top-quality') return { name, available: false, reason: 'ranks by measured example quality, which needs the labels being asked for' };
    if (name === 'label-balanced-random') return { name, available: false, reason: 'balances by the gold labels, which are the labels being asked for' };
    if (name === 'adaicl') return { name, available: false, reason: 'needs the model to score each row; not offered for human labelling yet' };
    if (name === 'uncertainty') return { name, available: false, reason: 'needs the model to score each row; not offered for human labelling yet' };
    const needs = needsOf(name);
    // A run's SAE codes per row are not carried into labelling sessions (yet): say so rather than fail later.
    if (needs.includes('features')) return { name, available: false, reason: "needs a run's sparse-autoencoder features per row; not offered for human labelling yet" };
    if (needs.includes('vector') && !(info.vectors && info.vectors.size > 0)) {
      return { name, available: false, reason: 'needs pooled vectors: run `icl-lab run` on this file with a diversity strategy first (its checkpoints keep them)' };
    }
    if (needs.includes('statistic') && !(info.statistic && info.statistic.size > 0)) {
      return { name, available: false, reason: 'needs an activation statistic per row: a stats.csv from `icl-lab run` or `icl-lab extract` on this file' };
    }
    return { name, available: true };
  });
}

export interface ProposalRequest {
  /** The file's rows, as loaded (with the labels sidecar merged). */
  readonly rows: readonly DatasetRow[];
  /** Ids already labelled (by the file or the sidecar); default: rows with a label or references. */
  readonly labelled?: ReadonlySet<string>;
  readonly strategy: string;
  /** Rows to propose this round. */
  readonly budget: number;
  readonly seed: number;
  /** 1-based round. */
  readonly round: number;
  readonly info?: CandidateInfo;
  readonly strategyOptions?: StrategyOptions;
}

export interface ProposedRow {
  readonly index: number;
  readonly id: string;
  /** What the strategy ranked the row by. */
  readonly score: number;
}

export interface Proposal {
  readonly proposed: readonly ProposedRow[];
  /** Unlabelled rows the strategy could not consider (no statistic or vector for them). */
  readonly leftOut: number;
  /** Unlabelled rows it could. */
  readonly candidates: number;
}

/** One round's proposal. Throws when the strategy cannot work with the information given, saying why. */
export function proposeRound(request: ProposalRequest): Proposal {
  const { rows, info = {} } = request;
  const availability = labellingStrategies(info).find((s) => s.name === request.strategy);
  if (!availability) throw new Error(`unknown selection strategy "${request.strategy}"; known: ${strategyNames.join(', ')}`);
  if (!availability.available) throw new Error(`${request.strategy} ${availability.reason}`);
  if (!Number.isInteger(request.budget) || request.budget < 1) throw new Error(`the round size must be a whole number ≥ 1, got ${request.budget}`);
  if (!Number.isInteger(request.round) || request.round < 1) throw new Error(`the round must be a whole number ≥ 1, got ${request.round}`);
  const strategy = strategyByName(request.strategy, request.strategyOptions);
  const labelled = request.labelled ?? new Set(rows.filter((r) => r.label !== undefined || r.references !== undefined).map((r) => r.id));
  const usesVector = strategy.needs.includes('vector');
  const usesStatistic = strategy.needs.includes('statistic');

  const pool: Candidate[] = [];
  const labelledPositions: number[] = [];
  let leftOut = 0;
  for (const row of rows) {
    const vector = info.vectors?.get(row.index);
    const statistic = info.statistic?.get(row.index);
    const usable = (!usesVector || vector !== undefined) && (!usesStatistic || (statistic !== undefined && Number.isFinite(statistic)));
    if (!usable) {
      if (!labelled.has(row.id)) leftOut++;
      continue;
    }
    if (labelled.has(row.id)) labelledPositions.push(pool.length);
    pool.push({ index: row.index, id: row.id, ...(vector ? { vector } : {}), ...(statistic !== undefined ? { statistic } : {}) });
  }
  const candidates = pool.length - labelledPositions.length;
  const budget = Math.min(request.budget, candidates);
  if (budget === 0) return { proposed: [], leftOut, candidates };
  const selections = strategy.select({ pool, budget, seed: request.seed * 1000 + request.round, labelled: labelledPositions });
  return {
    proposed: selections.map((s) => ({ index: pool[s.position]!.index, id: pool[s.position]!.id, score: s.score })),
    leftOut,
    candidates,
  };
}
