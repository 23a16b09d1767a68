// Example quality: how much each candidate helps the model when it is in the prompt. Two
// estimators, both seeded:
//   one-shot gain — the metric with the candidate as the only demonstration minus the zero-shot
//     metric, averaged over the probe set;
//   k-shot influence (Nguyen & Wong, 2023) — over many random k-shot prompts drawn from the pool,
//     the mean metric of prompts containing the candidate minus that of prompts without it.
import type { DatasetRow } from '../dataset/datasetSpec.js';
import { SeededRandom } from '../random.js';
import { mean, sampleVariance } from '../stats/descriptive.js';
import type { PromptMetrics } from './promptEvaluation.js';

export const qualityEstimators = ['one-shot', 'influence'] as const;
export type QualityEstimator = (typeof qualityEstimators)[number];

/** One row of quality.csv. */
export interface QualityRow {
  /** 0-based row index in the pool's file: the key stats.csv uses. */
  readonly example: number;
  readonly id: string;
  readonly estimator: QualityEstimator;
  readonly metric: string;
  readonly value: number;
  readonly stderr: number;
  /** Prompts the value rests on: probes for one-shot, sampled prompts holding the candidate for influence. */
  readonly nPrompts: number;
  /**
   * The same estimate on each half of its data, for split-half reliability (src/core/stats/
   * reliability.ts): one-shot on the even- and odd-numbered probes, influence on the even- and
   * odd-numbered sampled prompts. NaN where a half leaves the estimate undefined.
   */
  readonly halfA: number;
  readonly halfB: number;
}

/** Positions 0, 2, 4, … (half A) or 1, 3, 5, … (half B) of a list. */
function half(values: ArrayLike<number>, which: 0 | 1): number[] {
  return Array.from(values).filter((_, i) => i % 2 === which);
}

export type PromptEvaluator = (prompts: readonly (readonly DatasetRow[])[]) => Promise<PromptMetrics>;

export async function oneShotGain(pool: readonly DatasetRow[], evaluate: PromptEvaluator): Promise<QualityRow[]> {
  // Prompt 0 is zero-shot; prompt i + 1 holds only pool[i].
  const result = await evaluate([[], ...pool.map((row) => [row])]);
  const rows: QualityRow[] = [];
  pool.forEach((candidate, i) => {
    for (const [metric, perPrompt] of result.metrics) {
      const zeroShot = perPrompt[0]!;
      const withCandidate = perPrompt[i + 1]!;
      const gains = withCandidate.map((v, probe) => v - zeroShot[probe]!);
      rows.push({
        example: candidate.index,
        id: candidate.id,
        estimator: 'one-shot',
        metric,
        value: mean(gains),
        stderr: Math.sqrt(sampleVariance(gains) / gains.length),
        nPrompts: gains.length,
        halfA: mean(half(gains, 0)),
        halfB: mean(half(gains, 1)),
      });
    }
  });
  return rows;
}

export interface InfluenceOptions {
  /** Demonstrations per prompt. */
  readonly shots: number;
  /** Prompts drawn; `influencePromptCount` gives the count for a number of appearances per candidate. */
  readonly prompts: number;
  readonly seed: number;
}

/** Appearances per candidate the influence estimator aims at by default: each candidate's mean over its prompts rests on at least this many. */
export const defaultInfluenceAppearances = 16;

/** Prompts that give every candidate at least `appearances` appearances (see influencePrompts): ⌈appearances × pool ÷ shots⌉. */
export function influencePromptCount(poolSize: number, shots: number, appearances = defaultInfluenceAppearances): number {
  return Math.ceil((appearances * poolSize) / shots);
}

/**
 * The k-shot prompts of the influence estimator: pool positions, in prompt order. A balanced
 * design rather than independent draws (whose counts scatter binomially and leave some candidates
 * in few prompts): prompts are cut in turn from a stream of seeded permutations of the pool, a
 * candidate that would appear twice in one prompt (where two permutations meet) waiting for the
 * next. After m prompts every candidate has appeared ⌊m × shots ÷ pool⌋ times or one more, so
 * influencePromptCount(pool, shots, r) prompts give each at least r.
 */
export function influencePrompts(poolSize: number, options: InfluenceOptions): number[][] {
  if (options.shots < 1 || options.shots > poolSize) throw new RangeError(`shots must be between 1 and the pool size ${poolSize}`);
  const random = new SeededRandom(options.seed);
  const prompts: number[][] = [];
  let stream: number[] = [];
  while (prompts.length < options.prompts) {
    const prompt: number[] = [];
    const waiting: number[] = [];
    while (prompt.length < options.shots) {
      if (stream.length === 0) stream = random.sample(poolSize, poolSize);
      const next = stream.shift()!;
      (prompt.includes(next) ? waiting : prompt).push(next);
    }
    stream.unshift(...waiting);
    prompts.push(prompt);
  }
  return prompts;
}

export async function kShotInfluence(pool: readonly DatasetRow[], evaluate: PromptEvaluator, options: InfluenceOptions): Promise<QualityRow[]> {
  const prompts = influencePrompts(pool.length, options);
  const result = await evaluate(prompts.map((positions) => positions.map((i) => pool[i]!)));
  const rows: QualityRow[] = [];
  pool.forEach((candidate, i) => {
    const holds = prompts.map((positions) => positions.includes(i));
    for (const [metric, perPrompt] of result.metrics) {
      // A prompt's metric is its mean over the probe set.
      const promptMeans = perPrompt.map((values) => mean(values));
      const inside = promptMeans.filter((_, p) => holds[p]);
      const outside = promptMeans.filter((_, p) => !holds[p]);
      const defined = inside.length > 0 && outside.length > 0;
      const influenceOn = (which: 0 | 1): number => {
        const inHalf = half(promptMeans, which).filter((_, k) => holds[2 * k + which]);
        const outHalf = half(promptMeans, which).filter((_, k) => !holds[2 * k + which]);
        return inHalf.length > 0 && outHalf.length > 0 ? mean(inHalf) - mean(outHalf) : NaN;
      };
      rows.push({
        example: candidate.index,
        id: candidate.id,
        estimator: 'influence',
        metric,
        value: defined ? mean(inside) - mean(outside) : NaN,
        stderr: defined ? Math.sqrt(sampleVariance(inside) / inside.length + sampleVariance(outside) / outside.length) : NaN,
        nPrompts: inside.length,
        halfA: influenceOn(0),
        halfB: influenceOn(1),
      });
    }
  });
  return rows;
}
