import { SeededRandom } from './random.js';

// Attention-masking strategies for reading an example's activations (Osman et al., 2026).
//   isolated      — each example alone (after BOS): it sees only itself.
//   shared-prefix — block-diagonal: every example sees a shared prefix and itself, nothing else.
//   in-context    — causal over a whole k-shot prompt; activations read for one example's span.
export const maskStrategies = ['isolated', 'shared-prefix', 'in-context'] as const;
export type MaskStrategy = (typeof maskStrategies)[number];

/**
 * For the in-context mask: `shots` demonstrations for each of `count` examples, drawn without
 * replacement from the other examples, seeded per example so adding rows never changes earlier
 * examples' prompts.
 */
export function inContextDemonstrations(count: number, shots: number, seed: number): number[][] {
  const out: number[][] = [];
  for (let example = 0; example < count; example++) {
    const random = new SeededRandom((seed * 1_000_003 + example) >>> 0);
    out.push(random.sample(count, shots, new Set([example])));
  }
  return out;
}
