import { SeededRandom } from '../random.js';
import { checkContext, remainingPositions, type Selection, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';

/**
 * Random draws balanced over the gold labels: each next pick comes from the label with the fewest
 * examples so far (labelled ones counted), ties broken by a seeded order of the labels, and is a
 * uniform draw among that label's remaining candidates; a label with none left drops out. Score:
 * how many of its label were chosen before it. It reads the labels selection is meant to spare, so
 * like top-quality it is a reference, not a practical strategy.
 */
export const labelBalancedRandom: SelectionStrategy = {
  name: 'label-balanced-random',
  needs: ['label'],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    const { pool, budget } = context;
    const rng = new SeededRandom(context.seed);
    const labels = [...new Set(pool.map((c) => c.label!))].sort();
    const tieOrder = rng.sample(labels.length, labels.length);
    const rank = new Map(labels.map((l, i) => [l, tieOrder.indexOf(i)]));
    const count = new Map(labels.map((l) => [l, 0]));
    for (const p of taken) count.set(pool[p]!.label!, count.get(pool[p]!.label!)! + 1);
    const open = new Map(labels.map((l) => [l, [] as number[]]));
    for (const p of remainingPositions(pool.length, taken)) open.get(pool[p]!.label!)!.push(p);
    const out: Selection[] = [];
    while (out.length < budget) {
      const label = labels.filter((l) => open.get(l)!.length > 0).sort((a, b) => count.get(a)! - count.get(b)! || rank.get(a)! - rank.get(b)!)[0]!;
      const list = open.get(label)!;
      const position = list.splice(rng.int(list.length), 1)[0]!;
      out.push({ position, score: count.get(label)! });
      count.set(label, count.get(label)! + 1);
    }
    return out;
  },
};
