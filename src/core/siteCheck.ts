// The architecture-independent self-check of the site table (src/core/sites.ts): in every layer the
// residual stream after the block must equal the residual stream before the MLP plus what the MLP
// adds, resid_post = resid_mid + mlp_out. If the table named the wrong tensor for any of the three,
// the identity breaks by far more than rounding. The engine measures (model/checkSites); this file
// judges, so `icl-lab check-model` and `icl-lab run` give the same verdict.
import type { CheckSiteName } from './sites.js';

/** A fixed text of a few dozen tokens with what real models react to: delimiters, digits, a newline. */
export const siteCheckText = 'The quick brown fox jumps over the lazy dog. In 1905, Einstein wrote four papers; each one changed physics.\nQ: What is 12 + 7? A: 19.';

/**
 * Largest accepted max|resid_post − resid_mid − mlp_out| / max|resid_post| per layer.
 * llama.cpp forms resid_post as one float32 addition of the other two, so the only error is that
 * addition's rounding: at most 2^-24 ≈ 6e-8 of |resid_post| (the difference itself is taken in
 * float64). The three sites come from three decodes of the same window, bitwise identical on CPU;
 * 1e-5 leaves two orders of magnitude for GPU kernels that round a few ulps differently between
 * decodes, while a wrong tensor misses by 1e-3 or more (test/engine/siteCheck.test.ts).
 */
export const siteCheckTolerance = 1e-5;

/** One layer's figures, as the engine measures them over every token of the text. */
export interface SiteCheckLayer {
  readonly layer: number;
  /** max over tokens and dimensions of |resid_post − resid_mid − mlp_out|. */
  readonly maxResidual: number;
  /** max |resid_post|: the yardstick for maxResidual. */
  readonly scale: number;
}

/** What model/checkSites returns. */
export interface SiteCheckMeasurement {
  readonly architecture: string;
  /** Tokens checked (start tokens included). */
  readonly tokens: number;
  /** The tensor each site was read from, e.g. `ffn_inp-<layer>`. */
  readonly tensors: Readonly<Record<CheckSiteName, string>>;
  readonly layers: readonly SiteCheckLayer[];
}

export interface SiteCheckLayerVerdict extends SiteCheckLayer {
  /** maxResidual / scale. */
  readonly relative: number;
  readonly passed: boolean;
}

/** The verdict, as printed by `icl-lab check-model` and recorded in run.json (`model.siteCheck`). */
export interface SiteCheckResult extends Omit<SiteCheckMeasurement, 'layers'> {
  readonly passed: boolean;
  readonly tolerance: number;
  /** The layer with the largest relative residual. */
  readonly worstLayer: number;
  readonly layers: readonly SiteCheckLayerVerdict[];
}

export function judgeSiteCheck(measurement: SiteCheckMeasurement, tolerance: number = siteCheckTolerance): SiteCheckResult {
  const layers = measurement.layers.map((l) => {
    const relative = l.scale > 0 ? l.maxResidual / l.scale : l.maxResidual === 0 ? 0 : Infinity;
    // Written so that NaN (a broken tensor) fails.
    return { ...l, relative, passed: relative <= tolerance };
  });
  let worstLayer = 0;
  layers.forEach((l, i) => {
    if (!(l.relative <= layers[worstLayer]!.relative)) worstLayer = i;
  });
  return {
    architecture: measurement.architecture,
    tokens: measurement.tokens,
    tensors: measurement.tensors,
    passed: layers.length > 0 && layers.every((l) => l.passed),
    tolerance,
    worstLayer: layers[worstLayer]?.layer ?? 0,
    layers,
  };
}

/** One line: which architecture, which tensors, the worst layer and its figures. */
export function describeSiteCheck(result: SiteCheckResult, model: string): string {
  const worst = result.layers.find((l) => l.layer === result.worstLayer);
  const figures = worst
    ? `layer ${worst.layer}: max |resid_post − resid_mid − mlp_out| = ${figure(worst.maxResidual)}, ${figure(worst.relative)} of max |resid_post| = ${figure(worst.scale)}`
    : 'no layer was measured';
  const failed = result.layers.filter((l) => !l.passed).length;
  const tensors = `${result.tensors.resid_post} = ${result.tensors.resid_mid} + ${result.tensors.mlp_out}`;
  return result.passed
    ? `site check passed for ${model} (architecture "${result.architecture}", ${tensors}): worst ${figures}`
    : `site check failed for ${model}: architecture "${result.architecture}" does not satisfy ${tensors} in ${failed} of ${result.layers.length} layers ` +
        `(worst ${figures}; tolerance ${figure(result.tolerance)}), so its MLP output site is not what src/core/sites.ts says`;
}

/** 3 significant digits, in exponent notation when far from 1. */
export function figure(value: number): string {
  const size = Math.abs(value);
  return size === 0 || (size >= 1e-3 && size < 1e5) ? String(Number(value.toPrecision(3))) : Number(value.toPrecision(3)).toExponential();
}

/** A check recorded in run.json, if it is one and it passed. */
export function passedSiteCheck(value: unknown): SiteCheckResult | undefined {
  const check = value as Partial<SiteCheckResult> | undefined;
  return check && typeof check === 'object' && check.passed === true && Array.isArray(check.layers) ? (check as SiteCheckResult) : undefined;
}
