// How many tokens a cell of the grid evaluates, and so how long the grid takes at a measured cost
// per token. Counted from the study's sizes and the data's mean text lengths (in tokens, from
// characters at the model's measured characters per token), phase by phase as runExperiment does
// the work: extraction under each mask, one-shot quality prompts (each candidate's prefix once,
// then every probe), selection's own scoring, and the k-shot evaluation on the test set. It is an
// estimate (template words and separators are approximated), printed as one.

import { vectorStrategyNames } from '../experiment/runConfig.js';

export interface CellShape {
  readonly task: 'classification' | 'generative';
  readonly pool: number;
  readonly probe: number;
  readonly test: number;
  readonly masks: readonly string[];
  readonly inContextShots: number;
  readonly strategies: readonly string[];
  readonly budgets: readonly number[];
  readonly seeds: number;
  readonly rounds: number;
  readonly retrievalShots: number;
  /** Classification: the labels scored per query; generative: 1. */
  readonly labels: number;
  /** Mean tokens of an example's input, and of its answer (verbalizer or reference). */
  readonly inputTokens: number;
  readonly answerTokens: number;
  /** Generative: most tokens generated per query. */
  readonly maxTokens: number;
}

export interface CellTokens {
  /** Tokens decoded with the activation tap (statistics computed). */
  readonly extract: number;
  /** Tokens scored or generated (quality, selection's scoring, evaluation). */
  readonly scoring: number;
}

/** Words a template adds around an input ("Input: ", "\nLabel:", separators), in tokens. */
const templateTokens = 6;
const scoringStrategies = new Set(['uncertainty', 'adaicl', 'vote-k']);
const retrievalStrategies = new Set(['kate', 'bm25']);

export function cellTokens(shape: CellShape): CellTokens {
  const e = shape.inputTokens;
  const demo = e + shape.answerTokens + templateTokens;
  const queryInput = e + templateTokens;
  const generative = shape.task === 'generative';
  // What is scored after a query: every label's tokens, or the reference and a greedy answer.
  const answer = generative ? shape.answerTokens + Math.min(shape.maxTokens, shape.answerTokens + 2) : shape.labels * shape.answerTokens;
  // A generative prompt is read twice, once to score the reference and once to generate from it.
  const passes = generative ? 2 : 1;
  /** One prompt group: `demos` demonstrations decoded once, then `queries` queries after them. */
  const prompt = (demos: number, queries: number): number => passes * (demos * demo + queries * queryInput) + queries * answer;
  let extract = 0;
  for (const mask of shape.masks) extract += mask === 'in-context' ? shape.pool * (shape.inContextShots * demo + e) : shape.pool * (e + 1);
  // The similarity strategies' vectors: the default embedding (the residual stream after the last
  // layer) is an isolated resid_post pass of its own, the presets reading mlp_out only; and the test
  // queries', for KATE.
  if (shape.strategies.some((s) => (vectorStrategyNames as readonly string[]).includes(s))) extract += shape.pool * (e + 1);
  if (shape.strategies.includes('kate')) extract += shape.test * (e + 1);
  // One-shot quality: the probes alone, then after each candidate.
  let scoring = prompt(0, shape.probe) + shape.pool * prompt(1, shape.probe);
  const budgetStrategies = shape.strategies.filter((s) => !retrievalStrategies.has(s));
  for (const k of shape.budgets) {
    scoring += budgetStrategies.length * shape.seeds * prompt(k, shape.test);
    for (const s of shape.strategies) {
      if (retrievalStrategies.has(s)) scoring += shape.seeds * shape.test * prompt(Math.min(k, shape.retrievalShots), 1);
      // Model confidence is a classification signal: generative tasks select without it.
      if (scoringStrategies.has(s) && !generative) scoring += shape.seeds * shape.rounds * prompt(k, shape.pool);
    }
  }
  return { extract: Math.round(extract), scoring: Math.round(scoring) };
}

/** Measured cost: seconds per token of extraction and of scoring. */
export interface TokenCost {
  readonly extractSecondsPerToken: number;
  readonly scoringSecondsPerToken: number;
}

export function cellSeconds(tokens: CellTokens, cost: TokenCost): number {
  return tokens.extract * cost.extractSecondsPerToken + tokens.scoring * cost.scoringSecondsPerToken;
}
