// The shape every in-context example selection strategy shares, and the checks they all make.

/** One pool example a strategy can choose; the optional fields are what some strategies read. */
export interface Candidate {
  /** Row index in the data file (the `example` key of the CSVs). */
  readonly index: number;
  readonly id: string;
  /** Pooled MLP output of one layer, `[d_model]`. */
  readonly vector?: Float64Array;
  /** One activation statistic of the example (e.g. kurtosis at a layer). */
  readonly statistic?: number;
  /** Measured in-context quality of the example (read only by top-quality). */
  readonly quality?: number;
  /** Entropy of the model's label distribution with the example as the query. */
  readonly uncertainty?: number;
  /** The example's gold label (classification): read only by label-balanced random. */
  readonly label?: string;
  /**
   * The example's sparse-autoencoder code: each latent active on its span, with its activation
   * summed over the span's tokens (read by sae-coverage and sae-diverse; src/core/sae/).
   */
  readonly features?: ReadonlyMap<number, number>;
}

/** One query for the model: the pool candidate at `position` after the candidates at `demonstrations`, in that order. */
export interface ConfidenceRequest {
  readonly position: number;
  readonly demonstrations: readonly number[];
}

/**
 * The model's confidence in each request: the probability of its most likely label, the label
 * log-probabilities normalised over the task's labels (see `labelConfidence`).
 */
export type ConfidenceScorer = (requests: readonly ConfidenceRequest[]) => Promise<Float64Array>;

export interface SelectionContext {
  readonly pool: readonly Candidate[];
  /** How many new positions to choose this round. */
  readonly budget: number;
  readonly seed: number;
  /** Pool positions chosen in earlier rounds: never chosen again, but diversity strategies start from them. */
  readonly labelled: readonly number[];
}

/** One chosen pool position; `score` is what the strategy ranked it by when it chose it. */
export interface Selection {
  readonly position: number;
  readonly score: number;
}

export interface SelectionStrategy {
  readonly name: string;
  /** Candidate fields the strategy reads; checked on every candidate before selecting. */
  readonly needs: readonly CandidateField[];
  /** `budget` new positions, in selection order, none of them in `labelled`. */
  select(context: SelectionContext): Selection[];
  /**
   * The same, for strategies that query the model while they select (vote-k's second stage,
   * AdaICL): a run calls this instead of `select` when it has a model to score with.
   */
  selectWithModel?(context: SelectionContext, confidence: ConfidenceScorer): Promise<Selection[]>;
}

export type CandidateField = 'vector' | 'statistic' | 'quality' | 'uncertainty' | 'label' | 'features';

export class SelectionError extends Error {
  constructor(
    readonly strategy: string,
    readonly problem: string,
  ) {
    super(`${strategy}: ${problem}`);
    this.name = 'SelectionError';
  }
}

const describeCandidate = (candidate: Candidate, position: number): string => `candidate ${JSON.stringify(candidate.id)} (row ${candidate.index}, pool position ${position})`;

/**
 * Checks budget, labelled positions and the fields `needs` names, so each strategy can trust its
 * input; returns the labelled positions as a set.
 */
export function checkContext(strategy: string, needs: readonly CandidateField[], context: SelectionContext): Set<number> {
  const { pool, budget, labelled } = context;
  if (!Number.isInteger(budget) || budget < 0) throw new SelectionError(strategy, `budget must be a whole number ≥ 0, got ${budget}`);
  if (!Number.isInteger(context.seed)) throw new SelectionError(strategy, `seed must be a whole number, got ${context.seed}`);
  const taken = new Set<number>();
  for (const position of labelled) {
    if (!Number.isInteger(position) || position < 0 || position >= pool.length) throw new SelectionError(strategy, `labelled position ${position} is outside the pool of ${pool.length}`);
    taken.add(position);
  }
  const remaining = pool.length - taken.size;
  if (budget > remaining) throw new SelectionError(strategy, `budget ${budget} is larger than the ${remaining} pool candidates not yet labelled`);
  for (const field of needs) {
    if (field === 'vector') checkVectors(strategy, pool);
    else if (field === 'features') {
      const position = pool.findIndex((c) => !(c.features instanceof Map));
      if (position >= 0) throw new SelectionError(strategy, `needs the sparse-autoencoder \`features\` of every candidate; ${describeCandidate(pool[position]!, position)} has none (the run trains an SAE only with the \`sae:\` key of its config)`);
    } else if (field === 'label') {
      const position = pool.findIndex((c) => typeof c.label !== 'string');
      if (position >= 0) throw new SelectionError(strategy, `needs a \`label\` on every candidate; ${describeCandidate(pool[position]!, position)} has none`);
    } else {
      const position = pool.findIndex((c) => typeof c[field] !== 'number' || !Number.isFinite(c[field]));
      if (position >= 0) throw new SelectionError(strategy, `needs a finite \`${field}\` on every candidate; ${describeCandidate(pool[position]!, position)} has ${pool[position]![field] ?? 'none'}`);
    }
  }
  return taken;
}

/** Every candidate has a vector of finite numbers, all of the same length. */
export function checkVectors(strategy: string, pool: readonly Candidate[]): void {
  const width = pool[0]?.vector?.length;
  pool.forEach((candidate, position) => {
    if (!candidate.vector) throw new SelectionError(strategy, `needs \`vector\` on every candidate; ${describeCandidate(candidate, position)} has none`);
    if (candidate.vector.length !== width) throw new SelectionError(strategy, `vectors differ in length: ${describeCandidate(candidate, position)} has ${candidate.vector.length}, the first has ${width}`);
    // One NaN would make every distance to it NaN and every comparison with it false.
    const bad = candidate.vector.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new SelectionError(strategy, `${describeCandidate(candidate, position)} has ${candidate.vector[bad]} in its vector at dimension ${bad}`);
  });
}

/** Positions of the pool not in `taken`, ascending. */
export function remainingPositions(size: number, taken: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (let p = 0; p < size; p++) if (!taken.has(p)) out.push(p);
  return out;
}

/**
 * The probability of the most likely label under softmax(logprobs): the scorer reads each label's
 * log-probability separately, so they need not sum to one. Su et al. (2022) call it confidence.
 */
export function labelConfidence(logprobs: readonly number[]): number {
  if (logprobs.length === 0) throw new RangeError('labelConfidence needs at least one label log-probability');
  if (logprobs.some((x) => Number.isNaN(x) || x === Infinity)) throw new RangeError(`labelConfidence needs log-probabilities that are numbers below +Infinity, got [${logprobs.join(', ')}]`);
  const max = Math.max(...logprobs);
  if (max === -Infinity) throw new RangeError('labelConfidence got only -Infinity: no label has any probability');
  // exp(max − logZ) = 1 / Σ exp(x − max).
  return 1 / logprobs.reduce((sum, x) => sum + Math.exp(x - max), 0);
}
