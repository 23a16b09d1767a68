import { SeededRandom } from '../random.js';
import { checkContext, remainingPositions, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';
import { squaredEuclidean } from './vectorDistance.js';

/**
 * k-means++ seeding (Arthur & Vassilvitskii, 2007) as in BADGE: each next candidate is drawn with
 * probability proportional to D², its squared Euclidean distance to the nearest point chosen so far
 * (labelled ones included); the first, when nothing is labelled, uniformly. Score: D² when drawn;
 * a uniform first draw, which had no D², scores the largest D² it leaves (to the farthest
 * candidate), so every score is finite. When every remaining D² is 0 (duplicates), draws uniformly.
 */
export const kMeansPlusPlus: SelectionStrategy = {
  name: 'k-means++',
  needs: ['vector'],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    const { pool, budget } = context;
    const rng = new SeededRandom(context.seed);
    const remaining = remainingPositions(pool.length, taken);
    const d2 = new Float64Array(pool.length).fill(Infinity);
    const choose = (centre: number): void => {
      const v = pool[centre]!.vector!;
      for (const p of remaining) d2[p] = Math.min(d2[p]!, squaredEuclidean(pool[p]!.vector!, v));
    };
    for (const p of taken) choose(p);
    const out: { position: number; score: number }[] = [];
    while (out.length < budget) {
      let total = 0;
      for (const p of remaining) total += d2[p]!;
      let drawn: number;
      if (!Number.isFinite(total) || total === 0) drawn = remaining[rng.int(remaining.length)]!;
      else {
        const target = rng.next() * total;
        let cumulative = 0;
        // Rounding can leave the target just above the last sum: fall back to the last positive D².
        drawn = -1;
        for (const p of remaining) {
          if (d2[p]! === 0) continue;
          drawn = p;
          cumulative += d2[p]!;
          if (cumulative > target) break;
        }
      }
      const v = pool[drawn]!.vector!;
      out.push({ position: drawn, score: Number.isFinite(d2[drawn]!) ? d2[drawn]! : remaining.reduce((far, p) => Math.max(far, squaredEuclidean(pool[p]!.vector!, v)), 0) });
      remaining.splice(remaining.indexOf(drawn), 1);
      choose(drawn);
    }
    return out;
  },
};
