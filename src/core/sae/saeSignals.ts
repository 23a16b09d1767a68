// From the pool's sparse codes to what the study reads: per-example signals (stats.csv rows of the
// derived site `sae`, so the correlation grid, its length and noise controls and the heatmaps
// take them as any other statistic), the candidates' feature sums (sae-coverage, sae-diverse), and
// features.json for the Features panel.
import type { DerivedStatsRow } from '../format/statsCsv.js';
import { spearman } from '../stats/spearman.js';
import { signalsOfCodes, type SparseCode } from './topKSae.js';
import type { SaeFileCodes } from './saeRunner.js';

/** The signals every example gets, in stats.csv's column order; then one `max_f<latent>` column per top feature. */
export const saeSignalStatistics = ['distinct_features', 'feature_entropy', 'reconstruction_error'] as const;

/** The stats.csv column of a feature's largest activation over an example's span. */
export function maxActivationStatistic(latent: number): string {
  return `max_f${latent}`;
}

/** Each token's code of one file (−1 slots and non-positive values dropped), in token order. */
export function tokenCodes(codes: SaeFileCodes): SparseCode[] {
  const out: SparseCode[] = [];
  const k = codes.tokens === 0 ? 0 : codes.latents.length / codes.tokens;
  if (!Number.isInteger(k) || codes.values.length !== codes.latents.length) throw new Error(`${codes.file}: codes of ${codes.latents.length} latents and ${codes.values.length} values do not cut into ${codes.tokens} tokens`);
  for (let t = 0; t < codes.tokens; t++) {
    const latents: number[] = [];
    const values: number[] = [];
    for (let j = t * k; j < (t + 1) * k; j++) {
      if (codes.latents[j]! >= 0 && codes.values[j]! > 0) {
        latents.push(codes.latents[j]!);
        values.push(codes.values[j]!);
      }
    }
    out.push({ latents: Int32Array.from(latents), values: Float32Array.from(values) });
  }
  return out;
}

/** One pool example's codes, as the phase holds them. */
export interface ExampleCodes {
  readonly example: number;
  readonly tokens: readonly SparseCode[];
  readonly relativeError: ArrayLike<number>;
}

/** Tokens each latent is active on, over every example. */
export function activeTokenCounts(examples: readonly ExampleCodes[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of examples) for (const code of e.tokens) for (const latent of code.latents) counts.set(latent, (counts.get(latent) ?? 0) + 1);
  return counts;
}

/** The `count` latents active on the most tokens, ties to the lower latent; never-active latents are not listed. */
export function mostActiveLatents(counts: ReadonlyMap<number, number>, count: number): number[] {
  return [...counts.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, count)
    .map(([latent]) => latent);
}

/** The stats.csv columns of the `sae` site: the signals, then each top feature's max activation. */
export function saeStatisticColumns(topLatents: readonly number[]): string[] {
  return [...saeSignalStatistics, ...topLatents.map(maxActivationStatistic)];
}

/**
 * Each example's row of the `sae` site at `layer`, isolated mask (the spans the SAE read), pooling
 * `all` (every token of the span): distinct active latents, the entropy of the latents' summed
 * activation, the mean relative reconstruction error and each top latent's largest activation (0
 * where it is not active on the span). Activations are in the SAE's normalised units.
 */
export function saeStatsRows(examples: readonly ExampleCodes[], topLatents: readonly number[], layer: number): DerivedStatsRow[] {
  return examples.map((e) => {
    const s = signalsOfCodes(e.tokens, e.relativeError);
    return {
      example: e.example,
      layer,
      mask: 'isolated',
      pooling: 'all',
      tokenCount: e.tokens.length,
      values: [s.distinctFeatures, s.featureEntropy, s.reconstructionError, ...topLatents.map((l) => s.maxActivation.get(l) ?? 0)],
    };
  });
}

/** An example's activation summed per latent over its span: the candidate's `features`. */
export function summedActivations(tokens: readonly SparseCode[]): Map<number, number> {
  const sums = new Map<number, number>();
  for (const code of tokens) code.latents.forEach((latent, j) => sums.set(latent, (sums.get(latent) ?? 0) + code.values[j]!));
  return new Map([...sums.entries()].sort((a, b) => a[0] - b[0]));
}

// ---- features.json (the Features panel reads exactly this shape) ------------------------------

export interface FeaturesFile {
  readonly model: string;
  readonly site: string;
  readonly layer: number;
  readonly latents: number;
  readonly k: number;
  readonly features: readonly FeatureEntry[];
}

export interface FeatureEntry {
  readonly latent: number;
  /** Share of the pool's tokens where it is active. */
  readonly density: number;
  /** Spearman ρ of each example's max activation of the feature (0 where inactive) with its quality; null where undefined. */
  readonly qualityRho: number | null;
  /** Its two-sided p. */
  readonly qualityP: number | null;
  readonly examples: readonly FeatureExample[];
}

export interface FeatureExample {
  readonly example: number;
  readonly id: string;
  readonly maxActivation: number;
  /** The span's tokens with this feature's activation on each (0 where inactive). */
  readonly tokens: readonly { readonly text: string; readonly activation: number }[];
}

/** Features listed in features.json, and examples per feature. */
export const featuresFileLimits = { features: 64, examples: 8 } as const;

export interface FeaturesFileInput {
  readonly model: string;
  readonly site: string;
  readonly layer: number;
  readonly latents: number;
  readonly k: number;
  readonly examples: readonly (ExampleCodes & { readonly id: string })[];
  /** Quality by example (the run's estimator and metric); examples without one are left out of ρ. */
  readonly quality: ReadonlyMap<number, number>;
  /** The span's token pieces, one per token (tokenPieces of the span text). */
  readonly pieces: (example: number) => Promise<readonly string[]>;
}

/**
 * features.json: the `features` latents densest over the pool's tokens (ties to the lower latent),
 * each with its `examples` examples of largest max activation (ties to the earlier pool example),
 * their tokens and the feature's activation on each.
 */
export async function featuresFile(input: FeaturesFileInput, limits: { features: number; examples: number } = featuresFileLimits): Promise<FeaturesFile> {
  const counts = activeTokenCounts(input.examples);
  const totalTokens = input.examples.reduce((n, e) => n + e.tokens.length, 0);
  const top = mostActiveLatents(counts, limits.features);
  const maxOf = input.examples.map((e) => {
    const max = new Map<number, number>();
    for (const code of e.tokens) code.latents.forEach((l, j) => max.set(l, Math.max(max.get(l) ?? 0, code.values[j]!)));
    return max;
  });
  const withQuality = input.examples.map((_, i) => i).filter((i) => input.quality.has(input.examples[i]!.example));
  const piecesCache = new Map<number, readonly string[]>();
  const piecesOf = async (example: number): Promise<readonly string[]> => {
    if (!piecesCache.has(example)) piecesCache.set(example, await input.pieces(example));
    return piecesCache.get(example)!;
  };
  const features: FeatureEntry[] = [];
  for (const latent of top) {
    const { rho, p } = spearman(
      withQuality.map((i) => maxOf[i]!.get(latent) ?? 0),
      withQuality.map((i) => input.quality.get(input.examples[i]!.example)!),
    );
    const ranked = input.examples
      .map((e, i) => ({ e, max: maxOf[i]!.get(latent) ?? 0 }))
      .filter((x) => x.max > 0)
      .sort((a, b) => b.max - a.max)
      .slice(0, limits.examples);
    const examples: FeatureExample[] = [];
    for (const { e, max } of ranked) {
      const pieces = await piecesOf(e.example);
      examples.push({
        example: e.example,
        id: e.id,
        maxActivation: max,
        tokens: e.tokens.map((code, t) => {
          const j = code.latents.indexOf(latent);
          return { text: pieces[t] ?? '', activation: j >= 0 ? code.values[j]! : 0 };
        }),
      });
    }
    features.push({ latent, density: totalTokens === 0 ? 0 : counts.get(latent)! / totalTokens, qualityRho: finiteOrNull(rho), qualityP: finiteOrNull(p), examples });
  }
  return { model: input.model, site: input.site, layer: input.layer, latents: input.latents, k: input.k, features };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
