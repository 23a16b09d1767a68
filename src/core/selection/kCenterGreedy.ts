import { SeededRandom } from '../random.js';
import { checkContext, remainingPositions, type Selection, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';
import { squaredEuclidean } from './vectorDistance.js';

/**
 * k-center greedy (Sener & Savarese, 2018): repeatedly take the candidate farthest (Euclidean) from
 * everything chosen so far, starting from the labelled set, or from one seeded random candidate
 * when nothing is labelled yet. Score: the distance to the nearest chosen point when chosen; a
 * seeded first point, which had nothing to be far from, scores its distance to the farthest
 * candidate (the radius it covers alone: the score the next pick gets), so every score is finite.
 */
export const kCenterGreedy: SelectionStrategy = {
  name: 'k-center-greedy',
  needs: ['vector'],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    const { pool } = context;
    return farthestFirst(context, taken, (a, b) => squaredEuclidean(pool[a]!.vector!, pool[b]!.vector!));
  },
};

/**
 * The k-center greedy loop over any squared distance between pool positions (k-center-greedy's
 * pooled vectors, sae-diverse's sparse codes): `context.budget` positions not in `taken`.
 */
export function farthestFirst(context: SelectionContext, taken: ReadonlySet<number>, squaredDistance: (a: number, b: number) => number): Selection[] {
  const { pool, budget } = context;
  const remaining = remainingPositions(pool.length, taken);
  // Squared distance from each pool position to its nearest chosen point.
  const nearest = new Float64Array(pool.length).fill(Infinity);
  const choose = (centre: number): void => {
    for (const p of remaining) nearest[p] = Math.min(nearest[p]!, squaredDistance(p, centre));
  };
  for (const p of taken) choose(p);
  const out: Selection[] = [];
  while (out.length < budget) {
    let best: number;
    if (taken.size === 0 && out.length === 0) best = remaining[new SeededRandom(context.seed).int(remaining.length)]!;
    else {
      best = remaining[0]!;
      for (const p of remaining) if (nearest[p]! > nearest[best]!) best = p;
    }
    const chosen = best;
    out.push({ position: chosen, score: Math.sqrt(Number.isFinite(nearest[chosen]!) ? nearest[chosen]! : remaining.reduce((far, p) => Math.max(far, squaredDistance(p, chosen)), 0)) });
    remaining.splice(remaining.indexOf(chosen), 1);
    choose(chosen);
  }
  return out;
}
