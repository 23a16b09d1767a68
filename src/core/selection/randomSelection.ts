import { SeededRandom } from '../random.js';
import { checkContext, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';

/** Uniform draws without replacement; score 0, since no candidate is preferred. */
export const randomSelection: SelectionStrategy = {
  name: 'random',
  needs: [],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    return new SeededRandom(context.seed).sample(context.pool.length, context.budget, taken).map((position) => ({ position, score: 0 }));
  },
};
