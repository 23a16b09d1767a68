// Attention-masking strategies for reading an example's activations (Osman et al., 2026).
//   isolated      — each example alone (after BOS): it sees only itself.
//   shared-prefix — block-diagonal: every example sees a shared prefix and itself, nothing else.
//   in-context    — causal over a whole k-shot prompt; activations read for one example's span.
export const maskStrategies = ['isolated', 'shared-prefix', 'in-context'] as const;
export type MaskStrategy = (typeof maskStrategies)[number];

export function isMaskStrategy(value: string): value is MaskStrategy {
  return (maskStrategies as readonly string[]).includes(value);
}
