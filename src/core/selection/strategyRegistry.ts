import { highestFirst, lowestFirst } from './activationStatistic.js';
import { kCenterGreedy } from './kCenterGreedy.js';
import { kMeansPlusPlus } from './kMeansPlusPlus.js';
import { oracle } from './oracle.js';
import { randomSelection } from './randomSelection.js';
import { SelectionError, type SelectionStrategy } from './selectionStrategy.js';
import { uncertainty } from './uncertainty.js';
import { createVoteK, type VoteKOptions } from './voteK.js';

/** Every budget strategy by the name users type (KATE picks per query: see `kateNeighbours`). */
export const strategyNames = ['random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'oracle', 'uncertainty'] as const;

export type StrategyName = (typeof strategyNames)[number];

export type StrategyOptions = VoteKOptions;

export function isStrategyName(name: string): name is StrategyName {
  return (strategyNames as readonly string[]).includes(name);
}

const fixed: Record<Exclude<StrategyName, 'vote-k'>, SelectionStrategy> = {
  random: randomSelection,
  'highest-first': highestFirst,
  'lowest-first': lowestFirst,
  'k-center-greedy': kCenterGreedy,
  'k-means++': kMeansPlusPlus,
  oracle,
  uncertainty,
};

/** The strategy called `name`; options only matter to vote-k. */
export function strategyByName(name: string, options: StrategyOptions = {}): SelectionStrategy {
  if (!isStrategyName(name)) throw new SelectionError(name, `unknown selection strategy; known: ${strategyNames.join(', ')}`);
  return name === 'vote-k' ? createVoteK(options) : fixed[name];
}
