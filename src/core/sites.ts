// The one place that knows llama.cpp's graph tensor names. Everything else speaks site names
// (`blocks.{l}.mlp_out`, `blocks.{l}.resid_post`, as TransformerLens does) and asks this table how
// to find them. An architecture is listed only where its graph builder was read and the self-check
// (`icl-lab check-model`: resid_post − resid_mid = mlp_out in every layer) passes; any other
// architecture is refused by name instead of silently reading a tensor that may be something else.

/** Activation sites a run can read. Shapes are [tokens, d_model]. */
export const siteNames = ['mlp_out', 'resid_post'] as const;
export type SiteName = (typeof siteNames)[number];

/**
 * Sites whose statistics are computed from a tensor site's activations rather than read from the
 * graph, so they have no tensor here: `sae`, the features of the run's sparse autoencoder
 * (src/core/experiment/saePhase.ts), one row per example at the autoencoder's layer. stats.csv and
 * correlations.csv hold them as rows of their site, after the tensor sites.
 */
export const derivedSiteNames = ['sae'] as const;
export type DerivedSiteName = (typeof derivedSiteNames)[number];

/** Every site a stats.csv row can name, in the study's order. */
export const statsSiteNames = [...siteNames, ...derivedSiteNames] as const;

/** Sites the self-check reads besides the study's: the residual stream just before the MLP. */
export type CheckSiteName = SiteName | 'resid_mid';

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

const rule = (tensorPrefix: string): TensorRule => ({ tensorPrefix, occurrence: 'first' });

/**
 * Per architecture: the residual stream before the MLP (`resid_mid`), the MLP's contribution to the
 * residual stream (`mlp_out`) and the residual stream after the block (`resid_post`).
 *   - llama, qwen2: `ffn_inp = attn + x`, `ffn_out = FFN(norm(ffn_inp))`, `l_out = ffn_out + ffn_inp`.
 *   - gemma3: `sa_out = post_attn_norm(attn) + x`; `ffn_out` is before the post-FFN norm, and what is
 *     added to the stream is `ffn_post_norm`; `l_out = ffn_post_norm + sa_out`.
 * gemma2 is not listed: its `ffn_post_norm` carries no layer suffix in llama.cpp's graph, so a layer
 * cannot be told from another by name.
 */
const siteTensors: Readonly<Record<string, Readonly<Record<CheckSiteName, TensorRule>>>> = {
  llama: { resid_mid: rule('ffn_inp'), mlp_out: rule('ffn_out'), resid_post: rule('l_out') },
  qwen2: { resid_mid: rule('ffn_inp'), mlp_out: rule('ffn_out'), resid_post: rule('l_out') },
  gemma3: { resid_mid: rule('sa_out'), mlp_out: rule('ffn_post_norm'), resid_post: rule('l_out') },
};

/** Architectures whose sites this table knows. */
export const knownArchitectures: readonly string[] = Object.keys(siteTensors);

/** A model whose architecture's sites are not known for sure. */
export class UnknownArchitectureError extends Error {
  constructor(readonly architecture: string) {
    super(
      `architecture "${architecture}" is not in the site table (src/core/sites.ts knows ${knownArchitectures.join(', ')}): ` +
        `its MLP output tensor is not known for sure, so nothing is read rather than possibly the wrong tensor`,
    );
    this.name = 'UnknownArchitectureError';
  }
}

export function tensorRuleFor(site: CheckSiteName, architecture: string): TensorRule {
  const tensors = siteTensors[architecture];
  if (!tensors) throw new UnknownArchitectureError(architecture);
  return tensors[site];
}

export function isSiteName(value: unknown): value is SiteName {
  return typeof value === 'string' && (siteNames as readonly string[]).includes(value);
}
