import { highestFirst, lowestFirst } from './activationStatistic.js';
import { createAdaIcl } from './adaIcl.js';
import { kCenterGreedy } from './kCenterGreedy.js';
import { kMeansPlusPlus } from './kMeansPlusPlus.js';
import { labelBalancedRandom } from './labelBalancedRandom.js';
import { randomSelection } from './randomSelection.js';
import { saeCoverage } from './saeCoverage.js';
import { saeDiverse } from './saeDiverse.js';
import { SelectionError, type SelectionStrategy } from './selectionStrategy.js';
import { topQuality } from './topQuality.js';
import { uncertainty } from './uncertainty.js';
import { createVoteK, type VoteKOptions } from './voteK.js';

/** Every budget strategy by the name users type (KATE and BM25 pick per query: see `kateNeighbours`, `bm25Neighbours`). */
export const strategyNames = [
  'random',
  'label-balanced-random',
  'highest-first',
  'lowest-first',
  'k-center-greedy',
  'k-means++',
  'vote-k',
  'top-quality',
  'uncertainty',
  'adaicl',
  'sae-coverage',
  'sae-diverse',
] as const;

export type StrategyName = (typeof strategyNames)[number];

export type StrategyOptions = VoteKOptions;

export function isStrategyName(name: string): name is StrategyName {
  return (strategyNames as readonly string[]).includes(name);
}

const fixed: Record<Exclude<StrategyName, 'vote-k'>, SelectionStrategy> = {
  random: randomSelection,
  'label-balanced-random': labelBalancedRandom,
  'highest-first': highestFirst,
  'lowest-first': lowestFirst,
  'k-center-greedy': kCenterGreedy,
  'k-means++': kMeansPlusPlus,
  'top-quality': topQuality,
  uncertainty,
  adaicl: createAdaIcl(),
  'sae-coverage': saeCoverage,
  'sae-diverse': saeDiverse,
};

/** The strategy called `name`; options only matter to vote-k. */
export function strategyByName(name: string, options: StrategyOptions = {}): SelectionStrategy {
  if (!isStrategyName(name)) throw new SelectionError(name, `unknown selection strategy; known: ${strategyNames.join(', ')}`);
  return name === 'vote-k' ? createVoteK(options) : fixed[name];
}

/**
 * Selection happens before a candidate's label is known, so a signal computed over a span that
 * shows the label (`span: demonstration`, offered for the correlation analysis only) would leak
 * the answer into the choice. Throws for that span; any other span kind passes.
 */
export function assertSignalUsableForSelection(spanKind: string): void {
  if (spanKind === 'demonstration') {
    throw new SelectionError('selection', 'signals computed with `span: demonstration` include the candidate\'s label, which selection must not see; compute the selection signal with the default input-only span');
  }
}
