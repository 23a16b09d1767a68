import { checkContext, remainingPositions, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';

type RankedField = 'statistic' | 'quality' | 'uncertainty';

/**
 * A strategy that takes the remaining candidates in order of one number, ties to the lower pool
 * position; the seed plays no part.
 */
export function rankedStrategy(name: string, field: RankedField, order: 'highest' | 'lowest'): SelectionStrategy {
  const sign = order === 'highest' ? -1 : 1;
  return {
    name,
    needs: [field],
    select(context: SelectionContext) {
      const taken = checkContext(name, [field], context);
      const value = (p: number): number => context.pool[p]![field]!;
      return remainingPositions(context.pool.length, taken)
        .sort((a, b) => sign * (value(a) - value(b)) || a - b)
        .slice(0, context.budget)
        .map((position) => ({ position, score: value(position) }));
    },
  };
}
