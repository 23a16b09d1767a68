// Reading a run's sparse autoencoder back for the Features panel: RUN/sae/features.json (each
// feature's density, its correlation with example quality and its top activating examples, token by
// token) and the figures of RUN/sae/sae.json. Both are written by the SAE phase (`icl-lab sae RUN`);
// features.json is checked field by field (an error names the first bad path), sae.json is read
// defensively: only the known numeric figures are taken. No vscode import: tests call it directly.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export const saeFiles = {
  dir: 'sae',
  features: path.join('sae', 'features.json'),
  summary: path.join('sae', 'sae.json'),
} as const;

/** What a user is told when a run has no features.json (the Features command and panel). */
export const noSaeMessage = 'this run has no sparse autoencoder: add `sae: {}` to its config or run ICL Lab: Train Sparse Autoencoder…';
/** …and when no run in the runs folder has one. */
export const noRunWithSaeMessage = "no run has a sparse autoencoder yet: add `sae: {}` to a run's config or run ICL Lab: Train Sparse Autoencoder…";

export interface SaeToken {
  readonly text: string;
  /** NaN where the file has null. */
  readonly activation: number;
}

export interface SaeFeatureExample {
  /** The example's row index in the dataset (what the panels call an example). */
  readonly example: number;
  readonly id: string;
  readonly maxActivation: number;
  readonly tokens: readonly SaeToken[];
}

export interface SaeFeature {
  readonly latent: number;
  /** Fraction of tokens the latent is active on. */
  readonly density: number;
  /** Spearman ρ of the feature's per-example activation with example quality, and its p; NaN when absent. */
  readonly qualityRho: number;
  readonly qualityP: number;
  readonly examples: readonly SaeFeatureExample[];
}

export interface SaeFeaturesFile {
  readonly model: string;
  readonly site: string;
  readonly layer: number;
  readonly latents: number;
  readonly k: number;
  readonly features: readonly SaeFeature[];
}

type Fields = Record<string, unknown>;

class FeaturesJsonError extends Error {}

function fail(where: string, what: string, value: unknown): never {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 60);
  throw new FeaturesJsonError(`${where}: must be ${what}, got ${shown}`);
}

function object(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'an object', value);
  return value as Fields;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, 'an array', value);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, 'a string', value);
  return value;
}

function index(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(where, 'a whole number ≥ 0', value);
  return value;
}

/** A number, or null (JSON's stand-in for NaN) read as NaN. */
function numberOrNull(value: unknown, where: string): number {
  if (value === null) return NaN;
  if (typeof value !== 'number') fail(where, 'a number or null', value);
  return value;
}

/** features.json's parsed JSON, checked; throws an error naming the first bad field. */
export function parseSaeFeatures(value: unknown): SaeFeaturesFile {
  const top = object(value, 'features.json');
  return {
    model: string(top['model'], 'model'),
    site: string(top['site'], 'site'),
    layer: index(top['layer'], 'layer'),
    latents: index(top['latents'], 'latents'),
    k: index(top['k'], 'k'),
    features: array(top['features'], 'features').map((raw, f) => {
      const at = `features[${f}]`;
      const feature = object(raw, at);
      return {
        latent: index(feature['latent'], `${at}.latent`),
        density: numberOrNull(feature['density'], `${at}.density`),
        qualityRho: numberOrNull(feature['qualityRho'] ?? null, `${at}.qualityRho`),
        qualityP: numberOrNull(feature['qualityP'] ?? null, `${at}.qualityP`),
        examples: array(feature['examples'], `${at}.examples`).map((rawExample, e) => {
          const eat = `${at}.examples[${e}]`;
          const example = object(rawExample, eat);
          const id = example['id'];
          return {
            example: index(example['example'], `${eat}.example`),
            // Ids may be numbers in a dataset; shown as text either way.
            id: typeof id === 'number' ? String(id) : string(id, `${eat}.id`),
            maxActivation: numberOrNull(example['maxActivation'], `${eat}.maxActivation`),
            tokens: array(example['tokens'], `${eat}.tokens`).map((rawToken, t) => {
              const token = object(rawToken, `${eat}.tokens[${t}]`);
              return { text: string(token['text'], `${eat}.tokens[${t}].text`), activation: numberOrNull(token['activation'], `${eat}.tokens[${t}].activation`) };
            }),
          };
        }),
      };
    }),
  };
}

/** Reads and checks a features.json; errors name the file (and the bad field). */
export async function readSaeFeatures(file: string): Promise<SaeFeaturesFile> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file}: invalid JSON (${(error as Error).message})`);
  }
  try {
    return parseSaeFeatures(value);
  } catch (error) {
    if (error instanceof FeaturesJsonError) throw new Error(`${file}: ${error.message}`);
    throw error;
  }
}

/** The figures of sae.json the panel shows, in this order (any other field is ignored). */
export const saeFigureNames = ['varianceExplained', 'l0', 'deadLatents', 'lossRecovered', 'trainTokens', 'trainingMs', 'tokensPerSecond'] as const;
export type SaeFigureName = (typeof saeFigureNames)[number];

export interface SaeFigure {
  readonly name: SaeFigureName;
  readonly value: number;
}

/**
 * The known numeric figures of sae.json's parsed JSON: a top-level field, else the same field in an
 * object one level down (e.g. an `evaluation` block). Anything else (strings, arrays, NaN) is left out.
 */
export function saeFigures(value: unknown): SaeFigure[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const top = value as Fields;
  const nested = Object.values(top).filter((v): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v));
  const figures: SaeFigure[] = [];
  for (const name of saeFigureNames) {
    const found = [top[name], ...nested.map((n) => n[name])].find((v) => typeof v === 'number' && Number.isFinite(v));
    if (typeof found === 'number') figures.push({ name, value: found });
  }
  return figures;
}

/** sae.json's figures, or none when the file is missing or not JSON (the panel still shows the features). */
export async function readSaeFigures(file: string): Promise<SaeFigure[]> {
  try {
    return saeFigures(JSON.parse(await readFile(file, 'utf8')) as unknown);
  } catch {
    return [];
  }
}

/** Whether a run folder holds sae/features.json (the Features panel's input). */
export async function hasSaeFeatures(runDir: string): Promise<boolean> {
  return stat(path.join(runDir, saeFiles.features)).then(
    (s) => s.isFile(),
    () => false,
  );
}
