import { checkContext, remainingPositions, type Selection, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';

/**
 * sae-coverage: greedy maximum coverage of the pool's sparse-autoencoder features, weighted by
 * activation. Each candidate brings the latents active on its span, each weighing its activation
 * summed over the span; the next pick is the candidate whose not-yet-covered latents weigh the
 * most (ties to the lower pool position), and its latents are then covered. Labelled examples
 * cover theirs from the start. When every candidate left adds nothing, coverage starts over (as
 * AdaICL's does), so a budget larger than the features' reach still picks by weight. Score: the
 * weight the pick added. No randomness: the seed changes nothing.
 */
export const saeCoverage: SelectionStrategy = {
  name: 'sae-coverage',
  needs: ['features'],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    const { pool, budget } = context;
    const remaining = remainingPositions(pool.length, taken);
    const covered = new Set<number>();
    for (const p of taken) for (const latent of pool[p]!.features!.keys()) covered.add(latent);
    const gain = (p: number): number => {
      let sum = 0;
      for (const [latent, weight] of pool[p]!.features!) if (!covered.has(latent)) sum += weight;
      return sum;
    };
    const out: Selection[] = [];
    while (out.length < budget) {
      let best = remaining[0]!;
      let bestGain = gain(best);
      for (const p of remaining) {
        const g = gain(p);
        if (g > bestGain) [best, bestGain] = [p, g];
      }
      if (bestGain <= 0 && covered.size > 0) {
        covered.clear();
        continue;
      }
      out.push({ position: best, score: bestGain });
      remaining.splice(remaining.indexOf(best), 1);
      for (const latent of pool[best]!.features!.keys()) covered.add(latent);
    }
    return out;
  },
};
