// A TopK sparse autoencoder (Gao et al., 2024, "Scaling and evaluating sparse autoencoders") as the
// study reads it: the forward pass of trained weights, the evaluation figures SAELens reports, and
// the per-example signals the feature strategies rank by. Training lives in the engine; this is
// the pure arithmetic both the engine's checks and the study share.
//
// Shapes: W_enc [latents, width] (row i encodes latent i), W_dec [width, latents] (column i is
// latent i's unit-norm direction), b_enc [latents], b_dec [width], x [width].

export interface TopKSaeWeights {
  readonly width: number;
  readonly latents: number;
  readonly k: number;
  /** [latents × width], row-major. */
  readonly encoder: Float32Array;
  /** [width × latents], row-major: element (d, i) at d * latents + i. */
  readonly decoder: Float32Array;
  readonly encoderBias: Float32Array;
  readonly decoderBias: Float32Array;
}

/** One token's code: the k active latents (largest pre-activations, ties to the lower index) and their values. */
export interface SparseCode {
  readonly latents: Int32Array;
  readonly values: Float32Array;
}

export function checkWeights(sae: TopKSaeWeights): void {
  const { width, latents, k } = sae;
  if (!(Number.isInteger(k) && k >= 1 && k <= latents)) throw new Error(`sae: k must be a whole number in 1..${latents}, got ${k}`);
  if (sae.encoder.length !== latents * width) throw new Error(`sae: encoder holds ${sae.encoder.length} values, expected ${latents} × ${width}`);
  if (sae.decoder.length !== width * latents) throw new Error(`sae: decoder holds ${sae.decoder.length} values, expected ${width} × ${latents}`);
  if (sae.encoderBias.length !== latents) throw new Error(`sae: encoder bias holds ${sae.encoderBias.length} values, expected ${latents}`);
  if (sae.decoderBias.length !== width) throw new Error(`sae: decoder bias holds ${sae.decoderBias.length} values, expected ${width}`);
}

/**
 * z = TopK(W_enc (x − b_dec) + b_enc): the k largest pre-activations kept, the rest zero. As in
 * Gao et al. (and SAELens' TopK), kept values pass through ReLU, so a kept negative is zero and
 * not active.
 */
export function encode(sae: TopKSaeWeights, x: ArrayLike<number>): SparseCode {
  const { width, latents, k } = sae;
  const centred = new Float64Array(width);
  for (let d = 0; d < width; d++) centred[d] = x[d]! - sae.decoderBias[d]!;
  const pre = new Float64Array(latents);
  for (let i = 0; i < latents; i++) {
    let sum = sae.encoderBias[i]!;
    const row = i * width;
    for (let d = 0; d < width; d++) sum += sae.encoder[row + d]! * centred[d]!;
    pre[i] = sum;
  }
  const order = Array.from({ length: latents }, (_, i) => i).sort((a, b) => pre[b]! - pre[a]! || a - b);
  const kept = order.slice(0, k).filter((i) => pre[i]! > 0);
  return { latents: Int32Array.from(kept), values: Float32Array.from(kept, (i) => pre[i]!) };
}

/** x̂ = W_dec z + b_dec. */
export function decode(sae: TopKSaeWeights, code: SparseCode): Float64Array {
  const { width, latents } = sae;
  const out = Float64Array.from(sae.decoderBias);
  code.latents.forEach((latent, j) => {
    const value = code.values[j]!;
    for (let d = 0; d < width; d++) out[d]! += sae.decoder[d * latents + latent]! * value;
  });
  return out;
}

export interface ReconstructionFigures {
  /** Fraction of variance explained: 1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖², over the given tokens. */
  readonly varianceExplained: number;
  /** Mean number of active latents per token. */
  readonly l0: number;
  /** Mean squared error per token (Σ over dimensions, mean over tokens). */
  readonly mse: number;
  readonly tokens: number;
}

/** The figures SAELens reports for reconstruction, over held-out tokens (rows of `tokens`, each `width` long). */
export function reconstructionFigures(sae: TopKSaeWeights, tokens: readonly ArrayLike<number>[]): ReconstructionFigures {
  const { width } = sae;
  if (tokens.length === 0) throw new Error('sae: no tokens to evaluate');
  const mean = new Float64Array(width);
  for (const x of tokens) for (let d = 0; d < width; d++) mean[d]! += x[d]! / tokens.length;
  let residual = 0;
  let total = 0;
  let active = 0;
  for (const x of tokens) {
    const code = encode(sae, x);
    active += code.latents.length;
    const xHat = decode(sae, code);
    for (let d = 0; d < width; d++) {
      residual += (x[d]! - xHat[d]!) ** 2;
      total += (x[d]! - mean[d]!) ** 2;
    }
  }
  return { varianceExplained: total === 0 ? NaN : 1 - residual / total, l0: active / tokens.length, mse: residual / tokens.length, tokens: tokens.length };
}

/**
 * Latents that fired on none of the last `window` tokens (the dead-latent count of Gao et al. and
 * SAELens, there over the last 10M tokens of training).
 */
export function deadLatents(sae: TopKSaeWeights, recentTokens: readonly ArrayLike<number>[]): number[] {
  const fired = new Uint8Array(sae.latents);
  for (const x of recentTokens) for (const latent of encode(sae, x).latents) fired[latent] = 1;
  const dead: number[] = [];
  fired.forEach((f, i) => {
    if (!f) dead.push(i);
  });
  return dead;
}

/**
 * The downstream check: the share of the next-token loss that splicing the reconstruction in
 * recovers, between zero-ablating the site and leaving it clean: (L_zero − L_sae) / (L_zero − L_clean).
 * 1: as good as the model; 0: no better than deleting the site.
 */
export function lossRecovered(cleanLoss: number, saeLoss: number, zeroAblatedLoss: number): number {
  const span = zeroAblatedLoss - cleanLoss;
  return span === 0 ? NaN : (zeroAblatedLoss - saeLoss) / span;
}

/** Per example, over its span's tokens: what the feature strategies rank by. */
export interface FeatureSignals {
  /** Distinct latents active on any token of the span. */
  readonly distinctFeatures: number;
  /** Shannon entropy (nats) of the latents' summed activation mass over the span, normalised to a distribution. */
  readonly featureEntropy: number;
  /** Mean over the span's tokens of ‖x − x̂‖² / ‖x‖² (the SAE-GPS signal: how badly the SAE explains the example). */
  readonly reconstructionError: number;
  /** Each latent's largest activation over the span (latent → value), for "max activation of the top features". */
  readonly maxActivation: ReadonlyMap<number, number>;
}

export function featureSignals(sae: TopKSaeWeights, span: readonly ArrayLike<number>[]): FeatureSignals {
  if (span.length === 0) throw new Error('sae: an empty span has no features');
  const codes: SparseCode[] = [];
  const errors = new Float64Array(span.length);
  span.forEach((x, t) => {
    const code = encode(sae, x);
    codes.push(code);
    const xHat = decode(sae, code);
    let num = 0;
    let den = 0;
    for (let d = 0; d < sae.width; d++) {
      num += (x[d]! - xHat[d]!) ** 2;
      den += x[d]! ** 2;
    }
    errors[t] = den === 0 ? 0 : num / den;
  });
  return signalsOfCodes(codes, errors);
}

/**
 * The signals of a span from its tokens' codes and relative reconstruction errors (what the
 * engine's encoder returns): featureSignals without the weights. No tokens: NaN error and entropy.
 */
export function signalsOfCodes(codes: readonly SparseCode[], relativeErrors: ArrayLike<number>): FeatureSignals {
  const mass = new Map<number, number>();
  const maxActivation = new Map<number, number>();
  let error = 0;
  codes.forEach((code, t) => {
    code.latents.forEach((latent, j) => {
      const v = code.values[j]!;
      mass.set(latent, (mass.get(latent) ?? 0) + v);
      maxActivation.set(latent, Math.max(maxActivation.get(latent) ?? -Infinity, v));
    });
    error += relativeErrors[t]!;
  });
  const total = [...mass.values()].reduce((a, b) => a + b, 0);
  let entropy = 0;
  for (const m of mass.values()) {
    const p = m / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  if (codes.length === 0) return { distinctFeatures: 0, featureEntropy: NaN, reconstructionError: NaN, maxActivation };
  return { distinctFeatures: mass.size, featureEntropy: total > 0 ? entropy : 0, reconstructionError: error / codes.length, maxActivation };
}
