// The one place that knows llama.cpp's graph tensor names. Everything else speaks site names
// (`blocks.{l}.mlp_out`, as TransformerLens does) and asks this table how to find them.

/** Activation sites we can read from a llama.cpp graph. Shapes are [tokens, d_model]. */
export type SiteKind = 'mlp_out';

/** Which occurrence of a tensor name within one layer is the one we want. */
export type TensorOccurrence = 'first';

export interface TensorRule {
  /** Tensor name prefix; llama.cpp appends `-<layer>`. */
  readonly tensorPrefix: string;
  /**
   * Several graph nodes may carry the same name in one layer: in `llama` the residual sum right
   * after the MLP is also named `ffn_out-<l>` (then renamed `l_out-<l>` unless a control vector is
   * loaded). The MLP's own output is always built first, so we take the first per layer.
   */
  readonly occurrence: TensorOccurrence;
}

/** Default rule: the MLP output before the residual add is `ffn_out-<l>`. */
const mlpOutDefault: TensorRule = { tensorPrefix: 'ffn_out', occurrence: 'first' };

/**
 * Architectures whose MLP output tensor is named differently. In gemma2/gemma3 `ffn_out` is before
 * the post-FFN norm; what is added to the residual stream is `ffn_post_norm`.
 */
const mlpOutByArchitecture: Readonly<Record<string, TensorRule>> = {
  gemma2: { tensorPrefix: 'ffn_post_norm', occurrence: 'first' },
  gemma3: { tensorPrefix: 'ffn_post_norm', occurrence: 'first' },
};

export function tensorRuleFor(site: SiteKind, architecture: string): TensorRule {
  switch (site) {
    case 'mlp_out':
      return mlpOutByArchitecture[architecture] ?? mlpOutDefault;
  }
}
