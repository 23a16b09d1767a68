// The run configuration of `icl-lab run CONFIG --out DIR`: a JSON or YAML file naming the model,
// the data and every choice of the study (masks, layers, statistics, quality, selection,
// evaluation, engine). It is checked against a JSON Schema (every problem at once, each naming its
// key, `selection.budgets[2]: …`), then by the checks a schema cannot express, and resolved to a
// complete object with defaults filled in and paths made absolute.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { datasetFormatOf, datasetFormats, type DatasetFormat } from '../dataset/datasetFormat.js';
import type { ClassLabel } from '../dataset/datasetSpec.js';
import { jsonSyntaxError } from '../dataset/jsonSyntax.js';
import { maskStrategies, spanKinds, type MaskStrategy, type SpanKind } from '../masks.js';
import { defaultInfluenceAppearances, qualityEstimators, type QualityEstimator } from '../quality/exampleQuality.js';
import { labelScorings, type LabelScoring } from '../quality/promptEvaluation.js';
import { retrievalStrategies } from '../selection/retrieval.js';
import { siteNames, type SiteName } from '../sites.js';
import type { StrategyName } from '../selection/strategyRegistry.js';
import { activationStatistics, poolings, type Pooling } from '../stats/activationStatistics.js';
import { gpuChoices, type GpuChoice } from '../../engine/protocol.js';

/** A layer named by number (0-based), or relative to the model's depth: `middle` = ⌊layers / 2⌋, `last` = layers − 1. */
export type LayerSpec = number | 'middle' | 'last';

/** The selection strategies a run can compare: the budget strategies, KATE and BM25 (which pick per query). */
export type RunStrategyName = StrategyName | 'kate' | 'bm25';

/** Strategies that retrieve demonstrations per test query from the budget random selection labelled. */
export const retrievalStrategyNames = retrievalStrategies;

/**
 * Where the vectors of the similarity strategies come from: `model`, the run model's own token-mean
 * activation at `selection.vectorSite` and `selection.vectorLayer` (default the residual stream
 * after the last layer; see `selectionEmbedding` in runExperiment), or the absolute path of a GGUF
 * embedding model (node-llama-cpp's embedding API; written relative to the config file's folder in
 * the config).
 */
export type EmbeddingSource = 'model' | (string & {});
export const ownModelEmbedding = 'model';

/** The site that embedded examples (with vectorLayer, default middle then) before `selection.vectorSite` existed. */
export const vectorSiteBeforeOption: SiteName = 'mlp_out';

/** Strategies that compare example vectors (selection.embedding): a run with none computes no vectors. */
export const vectorStrategyNames: readonly RunStrategyName[] = ['k-center-greedy', 'k-means++', 'vote-k', 'adaicl', 'kate'];

/** Strategies that read the labels or the label distribution: a generative task has neither. */
export const classificationOnlyStrategies: readonly RunStrategyName[] = ['uncertainty', 'adaicl', 'label-balanced-random'];

/** Strategies that rank by the run's sparse autoencoder: they need the `sae:` key. */
export const saeStrategies: readonly RunStrategyName[] = ['sae-coverage', 'sae-diverse'];

/** The strategies a run compares when the config names none: every one the task can run (the SAE's with `sae:` only). */
export function defaultStrategies(task: TaskType, withSae = false): RunStrategyName[] {
  return runStrategyNames.filter((s) => (task === 'classification' || !classificationOnlyStrategies.includes(s)) && (withSae || !saeStrategies.includes(s)));
}

/** Every strategy a run knows, in the order a run compares them by default. */
export const runStrategyNames: readonly RunStrategyName[] = [
  'random',
  'label-balanced-random',
  'highest-first',
  'lowest-first',
  'k-center-greedy',
  'k-means++',
  'vote-k',
  'uncertainty',
  'adaicl',
  'kate',
  'bm25',
  'top-quality',
  'sae-coverage',
  'sae-diverse',
];

export const taskTypes = ['classification', 'generative'] as const;
export type TaskType = (typeof taskTypes)[number];

/** The metrics each task's prompt evaluation produces (src/core/quality/promptEvaluation.ts). */
export const taskMetrics: Readonly<Record<TaskType, readonly string[]>> = {
  classification: ['gold_logprob', 'accuracy'],
  generative: ['reference_loglik', 'em', 'f1', 'rouge_l'],
};

/** Metric example quality is measured with, when the config names none. */
export const defaultQualityMetric: Readonly<Record<TaskType, string>> = { classification: 'gold_logprob', generative: 'reference_loglik' };

/** Metric selected prompts are evaluated with on the test split, when the config names none. */
export const defaultEvaluationMetric: Readonly<Record<TaskType, string>> = { classification: 'accuracy', generative: 'em' };

/** The statistics that can rank examples: all but top_dim, which names a dimension. */
const correlatedStatistics: readonly string[] = activationStatistics.filter((s) => s !== 'top_dim');

/** A run configuration resolved: defaults filled in, paths absolute. */
export interface RunConfig {
  /** Absolute path of the config file. */
  readonly configFile: string;
  /** Absolute path of the GGUF model. */
  readonly model: string;
  /** Absolute path of the run folder, used when `--out` gives none. */
  readonly output?: string;
  readonly data: {
    /** Absolute path of the dataset file. */
    readonly file: string;
    /** Default: from the file's extension. */
    readonly format?: DatasetFormat;
    /** Fields making up an example's input, in order (the config may give one as a plain string). */
    readonly inputs: readonly string[];
    /** Field holding a unique id; default: the row index. */
    readonly id?: string;
    /** Field holding the label (classification) or the reference answer(s) (generative). */
    readonly target: string;
    /** Default: classification. */
    readonly task: TaskType;
    /**
     * Classification: the label set, from a list of `{value, verbalizer}` or a map `{"0": "negative"}`
     * (in JavaScript's key order: integer-like values ascending, then as written). Absent: inferred from the data.
     */
    readonly labels?: readonly ClassLabel[];
    /**
     * Human labels (Label Selected Examples' `<data>.labels.jsonl`, one `{id, label}` record per
     * line): they win over the file's, and rows labelled nowhere are left out of the run.
     */
    readonly humanLabels?: string;
    /** A JSON file mapping each label value to its verbalizer (as the shared datasets' labels.json); instead of `labels`. */
    readonly verbalizers?: string;
  };
  /** Split sizes: test 100, probe 50 by default; pool absent means the rest of the rows. */
  readonly split: { readonly test: number; readonly probe: number; readonly pool?: number };
  /** Absolute path of a *.icl.tmpl prompt template; absent: the built-in template for the task. */
  readonly template?: string;
  /**
   * Replaces the template's @instruction in every prompt, and so in the shared-prefix and in-context
   * masks, which show the k-shot prompt's own text; absent: the template's.
   */
  readonly instruction?: string;
  /** Masks activations are read under; default all three. */
  readonly masks: readonly MaskStrategy[];
  /**
   * Activation sites read (src/core/sites.ts): each block's MLP output (`mlp_out`, the default and
   * the paper's) and/or the residual stream after the block (`resid_post`, where Sun et al. find
   * massive activations). Each site has its own rows in stats.csv and cells in correlations.csv.
   */
  readonly sites: readonly SiteName[];
  /** What each mask's span holds (src/core/masks.ts): the input as a demonstration shows it (default), or the whole demonstration, label included (correlation analysis only). */
  readonly span: SpanKind;
  /** Demonstrations before each example under the in-context mask; default 4. */
  readonly inContextShots: number;
  /** stats.csv statistics entering correlations.csv; default every one but top_dim. */
  readonly statistics: readonly string[];
  /** Poolings entering correlations.csv; default all. */
  readonly poolings: readonly Pooling[];
  /** Layers whose activations are read; default all. */
  readonly layers: 'all' | readonly number[];
  readonly quality: {
    /** Default one-shot. */
    readonly estimator: QualityEstimator;
    /** Quality metric strategies and top-quality use; default gold_logprob (classification) or reference_loglik (generative). */
    readonly metric: string;
    /** Influence: demonstrations per random prompt; default 4. */
    readonly shots: number;
    /** Influence: prompts drawn; absent: enough for `influenceAppearances`. */
    readonly prompts?: number;
    /** Influence: prompts each candidate appears in at least (when `prompts` is absent); default 16. */
    readonly influenceAppearances: number;
  };
  readonly selection: {
    /** Strategies compared; default all of `runStrategyNames`. */
    readonly strategies: readonly RunStrategyName[];
    /** Demonstration budgets, ascending; default 4, 8, 16, 32. */
    readonly budgets: readonly number[];
    /** Rounds each budget is chosen in; default 1. */
    readonly rounds: number;
    /** Selection seeds; default 0, 1, 2. */
    readonly seeds: readonly number[];
    /** The activation statistic highest-first and lowest-first rank by. */
    readonly statistic: { readonly mask: MaskStrategy; readonly site: SiteName; readonly layer: LayerSpec; readonly statistic: string; readonly pooling: Pooling };
    /** With `embedding: model`: the site and layer whose token-mean activation is the vector of the similarity strategies; default resid_post, last. */
    readonly vectorSite: SiteName;
    readonly vectorLayer: LayerSpec;
    /** vote-k's options (src/core/selection/voteK.ts): neighbours default 150 (Su et al.'s k), rho default 10. */
    readonly voteK: { readonly neighbours: number; readonly rho: number };
    /** The vectors of vote-k, AdaICL, k-center-greedy, k-means++ and KATE: `model`, the run's own model (default). */
    readonly embedding: EmbeddingSource;
    /** Demonstrations KATE and BM25 retrieve per test query from the budget's labelled examples; default 4. */
    readonly retrievalShots: number;
  };
  /** Metric on the test split; default accuracy (classification) or em (generative). */
  /** Metric on the test split (default accuracy or em), and bootstrap resamples of the curves' intervals (default 1000). */
  readonly evaluation: { readonly metric: string; readonly bootstrap: number };
  /**
   * Bootstrap resamples of each correlation's interval (default 1000); resamples of the headline's
   * max-aware interval, which re-selects the largest |ρ| over the grid in each (default 500); and
   * permutations of quality for its family-wise p (default 500). 0 turns one off.
   */
  readonly correlation: { readonly bootstrap: number; readonly maxBootstrap: number; readonly permutations: number };
  /** Seed of the split, the quality estimator and the in-context demonstrations; default 0. */
  readonly seed: number;
  /** Engine settings; defaults gpu auto, contextSize 4096, batchSize 512, maxSequences 64, threads 0, exact false. */
  readonly engine: {
    readonly gpu: GpuChoice;
    readonly contextSize: number;
    readonly batchSize: number;
    readonly maxSequences: number;
    readonly threads: number;
    readonly exact: boolean;
  };
  /** Examples whose raw activations feed the histograms; default 8. */
  readonly histogramExamples: number;
  /** How classification labels are compared (src/core/quality/promptEvaluation.ts); default mean. */
  readonly scoring: { readonly labels: LabelScoring };
  /** A sparse autoencoder trained on the pool's activations (the `sae` phase, src/core/experiment/saePhase.ts); absent: none. */
  readonly sae?: SaeConfig;
}

/**
 * The `sae:` key resolved (`sae: {}` = every default). A TopK SAE (Gao et al., 2024) on one site and
 * layer; the values that depend on the model or the data (auxK, learningRate, deadWindowTokens
 * when absent) are resolved by the phase and recorded in sae.json.
 */
export interface SaeConfig {
  /** Activations it is trained on; default mlp_out. */
  readonly site: SiteName;
  /** Default middle (⌊layers / 2⌋). */
  readonly layer: LayerSpec;
  /** Latents per input dimension; default 8. */
  readonly expansion: number;
  /** Active latents per token; default 32. */
  readonly k: number;
  /** Dead latents in the auxiliary loss per token; absent: width / 2. */
  readonly auxK?: number;
  /** Weight of the auxiliary loss; default 1/32. */
  readonly auxCoefficient: number;
  /** Tokens per optimiser step; default 1024. */
  readonly batchSize: number;
  /** Passes over the training tokens; default 10. */
  readonly epochs: number;
  /** Adam's step size; absent: 2e-4 / √(latents / 2¹⁴) (Gao et al.'s scaling). */
  readonly learningRate?: number;
  /** A latent is dead when it fired on none of the last this-many training tokens; absent: one epoch's tokens. */
  readonly deadWindowTokens?: number;
  /** Most activation tokens trained and held out (pool spans first, then the extra text); default 200000. */
  readonly maxTokens: number;
  /** Absolute path of an extra unlabelled text file, one text per line, trained on beside the pool. */
  readonly text?: string;
  /** Share of the examples (and text lines) held out for the evaluation, by a seeded draw; default 0.1. */
  readonly heldOutShare: number;
  /** Seed of the held-out draw and of the initialisation; default the run's seed. */
  readonly seed: number;
  /** Features (the most often active over the pool) that get their own max-activation statistic; default 16. */
  readonly topFeatures: number;
}

/** The SAE settings `sae: {}` gives (seed: the run's). */
export const saeDefaults = {
  site: 'mlp_out',
  layer: 'middle',
  expansion: 8,
  k: 32,
  auxCoefficient: 1 / 32,
  batchSize: 1024,
  epochs: 10,
  maxTokens: 200_000,
  heldOutShare: 0.1,
  topFeatures: 16,
} as const satisfies Partial<SaeConfig>;

/** The label scoring of runs whose run.json predates `scoring`: they summed each label's log-probabilities. */
export const labelScoringBeforeOption: LabelScoring = 'sum';
// mean: length-robust, and the same as sum for one-token labels, so such runs keep their figures;
// calibration costs a query per prompt and changes what gold_logprob means (an option).
export const defaultLabelScoring: LabelScoring = 'mean';

/** Everything wrong with a config file, one problem per line, each naming the file and the key. */
export class RunConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join('\n'));
    this.name = 'RunConfigError';
  }
}

// ---------------------------------------------------------------------------------------------
// The schema

type Schema = Record<string, unknown>;

const wholeNumber = (minimum: number, description: string, defaultValue?: number): Schema => ({
  type: 'integer',
  minimum,
  description,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
});

const uniqueList = (items: Schema, description: string, defaultValue?: readonly unknown[]): Schema => ({
  type: 'array',
  items,
  minItems: 1,
  uniqueItems: true,
  description,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
});

const layerSpec = (description: string): Schema => ({
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', enum: ['middle', 'last'] },
  ],
  description,
  default: 'middle',
});

/** Sites a run reads when the config names none: the MLP output, as the paper. */
const defaultSites: readonly SiteName[] = ['mlp_out'];

const allMetrics = [...taskMetrics.classification, ...taskMetrics.generative];

/** JSON Schema (draft-07) of a run config file, also fit for VS Code's jsonValidation. */
export const runConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'ICL Activation Lab run configuration',
  description: 'The configuration of `icl-lab run CONFIG --out DIR`. Relative paths are read from the folder of this file.',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'data'],
  properties: {
    $schema: { type: 'string', description: 'The JSON Schema of this file (for editors; the run ignores it).' },
    model: { type: 'string', minLength: 1, pattern: '\\.[gG][gG][uU][fF]$', description: 'The GGUF model file.' },
    output: { type: 'string', minLength: 1, description: 'The run folder, when `--out` gives none.' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['file', 'inputs', 'target'],
      description: 'The dataset and what its fields mean.',
      properties: {
        file: { type: 'string', minLength: 1, description: 'The dataset file (.jsonl, .json, .csv or .tsv).' },
        format: { type: 'string', enum: [...datasetFormats], description: 'The file format; default: from the extension.' },
        inputs: {
          anyOf: [
            { type: 'string', minLength: 1 },
            { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
          ],
          description: 'The field(s) making up an example\'s input, in order: "text", or ["premise", "hypothesis"].',
        },
        id: { type: 'string', minLength: 1, description: 'Field holding a unique id; default: the row index.' },
        humanLabels: { type: 'string', minLength: 1, description: 'Human labels beside the data (<data>.labels.jsonl, one {id, label} record per line, written by Label Selected Examples); rows labelled nowhere are left out.' },
        verbalizers: { type: 'string', minLength: 1, description: 'Classification: a JSON file mapping each label value to the words the model should produce ({"0": "negative", "1": "positive"}), instead of labels.' },
        labelsFile: { type: 'string', description: 'Renamed: humanLabels (the human-labels sidecar); a label → verbalizer map goes in verbalizers.' },
        target: { type: 'string', minLength: 1, description: 'Field holding the label (classification) or the reference answer(s) (generative).' },
        task: { type: 'string', enum: [...taskTypes], default: 'classification', description: 'The kind of task.' },
        labels: {
          anyOf: [
            {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['value', 'verbalizer'],
                properties: {
                  value: { type: ['string', 'number', 'boolean'], description: 'The label as written in the data.' },
                  verbalizer: { type: 'string', minLength: 1, description: 'The words the model should produce for it.' },
                },
              },
            },
            { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
          ],
          description: 'Classification: the label set, as a list of {value, verbalizer} or a map from value to verbalizer; default: inferred from the data.',
        },
      },
    },
    split: {
      type: 'object',
      additionalProperties: false,
      description: 'How many rows go to each split.',
      properties: {
        test: wholeNumber(1, 'Rows of the test split, where selected prompts are evaluated.', 100),
        probe: wholeNumber(1, 'Rows of the probe split, where example quality is measured.', 50),
        pool: wholeNumber(1, 'Rows of the candidate pool; default: the rest.'),
      },
    },
    template: { type: 'string', minLength: 1, pattern: '\\.icl\\.tmpl$', description: 'A prompt template (*.icl.tmpl); default: the built-in one for the task.' },
    instruction: { type: 'string', description: "Replaces the template's @instruction in every prompt and in the shared-prefix and in-context masks; default: the template's." },
    masks: uniqueList({ type: 'string', enum: [...maskStrategies] }, 'Attention masks activations are read under.', maskStrategies),
    sites: uniqueList(
      { type: 'string', enum: [...siteNames] },
      "Activation sites read, each with its own stats.csv rows and correlation cells: mlp_out = each block's MLP output (TransformerLens hook_mlp_out), resid_post = the residual stream after the block (hook_resid_post).",
      defaultSites,
    ),
    span: {
      type: 'string',
      enum: [...spanKinds],
      default: 'input',
      description: 'What each mask reads: the input as a demonstration shows it, without the label (input), or the whole demonstration with its label (demonstration: for the correlation analysis only; strategies refuse it).',
    },
    inContextShots: wholeNumber(1, 'Demonstrations before each example under the in-context mask.', 4),
    statistics: uniqueList({ type: 'string', enum: [...activationStatistics] }, 'Statistics entering correlations.csv.', correlatedStatistics),
    poolings: uniqueList({ type: 'string', enum: [...poolings] }, 'Poolings entering correlations.csv.', poolings),
    layers: {
      anyOf: [
        { type: 'string', enum: ['all'] },
        { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true },
      ],
      default: 'all',
      description: 'Layers whose activations are read: "all", or a list of 0-based layer numbers.',
    },
    quality: {
      type: 'object',
      additionalProperties: false,
      description: 'How example quality is measured.',
      properties: {
        estimator: { type: 'string', enum: [...qualityEstimators], default: 'one-shot', description: 'One-shot gain or k-shot influence.' },
        metric: { type: 'string', enum: allMetrics, description: 'Quality metric; default gold_logprob (classification) or reference_loglik (generative).' },
        shots: wholeNumber(1, 'Influence: demonstrations per random prompt.', 4),
        prompts: wholeNumber(1, 'Influence: prompts drawn; default: enough for influenceAppearances.'),
        influenceAppearances: wholeNumber(1, 'Influence: prompts each candidate appears in, at least (when prompts is absent).', defaultInfluenceAppearances),
      },
    },
    selection: {
      type: 'object',
      additionalProperties: false,
      description: 'The selection strategies compared and their settings.',
      properties: {
        strategies: uniqueList({ type: 'string', enum: runStrategyNames }, 'Strategies compared.', runStrategyNames),
        budgets: uniqueList(wholeNumber(1, 'Demonstrations chosen.'), 'Budgets, ascending.', [4, 8, 16, 32]),
        rounds: wholeNumber(1, 'Rounds each budget is chosen in.', 1),
        seeds: uniqueList(wholeNumber(0, 'A seed.'), 'Selection seeds.', [0, 1, 2]),
        statistic: {
          type: 'object',
          additionalProperties: false,
          description: 'The activation statistic highest-first and lowest-first rank by.',
          properties: {
            mask: { type: 'string', enum: [...maskStrategies], description: 'Default: the first of masks.' },
            site: { type: 'string', enum: [...siteNames], description: 'Default: the first of sites.' },
            layer: layerSpec('Layer number, middle or last.'),
            statistic: { type: 'string', enum: [...activationStatistics], default: 'kurtosis', description: 'A statistic other than top_dim.' },
            pooling: { type: 'string', enum: [...poolings], default: 'all' },
          },
        },
        vectorSite: {
          type: 'string',
          enum: [...siteNames],
          default: 'resid_post',
          description: 'With embedding: model, the site whose token-mean activation (isolated mask) embeds each example: resid_post, the residual stream (default), or mlp_out (with vectorLayer: middle, the embedding earlier versions used).',
        },
        vectorLayer: { ...layerSpec('With embedding: model, the layer of vectorSite that embeds each example.'), default: 'last' },
        voteK: {
          type: 'object',
          additionalProperties: false,
          description: 'vote-k settings.',
          properties: {
            neighbours: wholeNumber(1, 'k of the k-NN graph (Su et al. use 150; capped at the pool size − 1).', 150),
            rho: { type: 'number', exclusiveMinimum: 1, default: 10, description: 'Discount base ρ > 1.' },
          },
        },
        embedding: {
          type: 'string',
          anyOf: [{ const: 'model' }, { pattern: '\\.gguf$' }],
          default: 'model',
          description: 'Vectors of vote-k, AdaICL, k-center-greedy, k-means++ and KATE, mean-centred and L2-normalised: model = the run model\'s token-mean activation at vectorSite and vectorLayer (default the residual stream after the last layer); or a GGUF embedding model (path relative to this file), run through node-llama-cpp\'s embedding API on each example\'s input span.',
        },
        retrievalShots: wholeNumber(1, 'Demonstrations KATE and BM25 retrieve per test query from the examples random selection labelled at each budget (at most the budget).', 4),
      },
    },
    evaluation: {
      type: 'object',
      additionalProperties: false,
      description: 'How selected prompts are evaluated on the test split.',
      properties: {
        metric: { type: 'string', enum: allMetrics, description: 'Default accuracy (classification) or em (generative).' },
        bootstrap: wholeNumber(0, 'Bootstrap resamples of the learning curves\' intervals over test items and of each strategy\'s difference from random.', 1000),
      },
    },
    correlation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bootstrap: wholeNumber(0, 'Bootstrap resamples of each interval.', 1000),
        maxBootstrap: wholeNumber(0, "Bootstrap resamples of the headline's max-aware interval (the largest |ρ| re-selected over the grid in each).", 500),
        permutations: wholeNumber(0, "Permutations of quality for the headline's family-wise p (the largest |ρ| over the grid under the null).", 500),
      },
    },
    seed: wholeNumber(0, 'Seed of the split, the quality estimator and the in-context demonstrations.', 0),
    engine: {
      type: 'object',
      additionalProperties: false,
      description: 'llama.cpp engine settings.',
      properties: {
        gpu: { type: 'string', enum: [...gpuChoices], default: 'auto' },
        contextSize: wholeNumber(1, 'Tokens per context window.', 4096),
        batchSize: wholeNumber(1, 'Tokens per llama_decode call.', 512),
        maxSequences: wholeNumber(1, 'Sequences decoded together.', 64),
        threads: wholeNumber(0, 'CPU threads (0: llama.cpp decides).', 0),
        exact: { type: 'boolean', default: false, description: 'F32 KV cache and no flash attention: numerically exact activations.' },
      },
    },
    histogramExamples: wholeNumber(0, 'Examples whose raw activations feed the histograms.', 8),
    sae: {
      type: 'object',
      additionalProperties: false,
      description:
        'A TopK sparse autoencoder (Gao et al., 2024) trained on the pool spans\' activations at one site and layer (sae: {} = every default): its features become statistics of the site `sae` in stats.csv and correlations.csv, and the strategies sae-coverage and sae-diverse. Weights and sae.json in the run folder\'s sae/.',
      properties: {
        site: { type: 'string', enum: [...siteNames], default: saeDefaults.site, description: 'Activations it is trained on.' },
        layer: layerSpec('Layer number, middle or last.'),
        expansion: wholeNumber(1, 'Latents per input dimension (latents = width × expansion).', saeDefaults.expansion),
        k: wholeNumber(1, 'Active latents per token (TopK).', saeDefaults.k),
        auxK: wholeNumber(1, 'Dead latents the auxiliary loss reconstructs the residual with, per token; default 2 × k (Gao et al. use width / 2, which costs twice the step on a CPU).'),
        auxCoefficient: { type: 'number', minimum: 0, default: saeDefaults.auxCoefficient, description: 'Weight of the auxiliary loss on dead latents.' },
        batchSize: wholeNumber(1, 'Tokens per optimiser step.', saeDefaults.batchSize),
        epochs: wholeNumber(1, 'Passes over the training tokens.', saeDefaults.epochs),
        learningRate: { type: 'number', exclusiveMinimum: 0, description: "Adam's step size; default 2e-4 / sqrt(latents / 16384) (Gao et al.'s scaling with the number of latents)." },
        deadWindowTokens: wholeNumber(1, 'A latent is dead when it fired on none of the last this-many training tokens; default one epoch\'s tokens.'),
        maxTokens: wholeNumber(1, 'Most activation tokens taken (pool spans first, then the extra text, whole texts in order).', saeDefaults.maxTokens),
        text: { type: 'string', minLength: 1, description: 'An extra unlabelled text file (one text per line, relative to this file) whose activations are trained on beside the pool\'s.' },
        heldOutShare: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: saeDefaults.heldOutShare, description: 'Share of the examples (and text lines) held out, by a seeded draw, for variance explained and loss recovered.' },
        seed: wholeNumber(0, "Seed of the held-out draw and the initialisation; default the run's seed."),
        topFeatures: wholeNumber(0, 'Features (the most often active over the pool) each given a max-activation statistic in stats.csv.', saeDefaults.topFeatures),
      },
    },
    scoring: {
      type: 'object',
      additionalProperties: false,
      description: 'How a classification prompt decides between its labels, in quality and evaluation alike.',
      properties: {
        labels: {
          type: 'string',
          enum: [...labelScorings],
          default: 'mean',
          description:
            "sum: each label's summed token log-probability (multi-token labels lose); mean: per token; calibrated: contextual calibration (Zhao et al., 2021) against a content-free \"N/A\" query under the same prompt, which cancels label length and the prompt's own label bias.",
        },
      },
    },
  },
} as const;

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator(): ReturnType<Ajv['compile']> {
  compiled ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true }).compile(runConfigSchema);
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Reading the file

/** Reads, checks and resolves the config file; a RunConfigError lists every problem. */
export async function loadRunConfig(file: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunConfigError(file, [`${file}: ${code === 'ENOENT' ? 'file not found' : (error as Error).message}`]);
  }
  return parseRunConfig(text, file);
}

/**
 * Checks and resolves config text. `file` names the file in messages, tells JSON (`.json`) from
 * YAML (anything else), and is the folder relative paths are read from.
 */
export function parseRunConfig(text: string, file: string): RunConfig {
  const raw = path.extname(file).toLowerCase() === '.json' ? parseJson(text, file) : parseYaml(text, file);
  return resolveRunConfig(raw, file);
}

function parseJson(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(body);
  } catch (error) {
    const syntax = jsonSyntaxError(body);
    if (!syntax) throw new RunConfigError(file, [`${file}: malformed JSON (${(error as Error).message})`]);
    const problem = syntax.offset >= body.length ? 'unexpected end of file' : syntax.problem;
    const { line, column } = lineColumn(body, syntax.offset);
    throw new RunConfigError(file, [`${file}:${line}:${column}: malformed JSON: ${problem}`]);
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new RunConfigError(
      file,
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${file}:${line}:${col}: ${error.message}`;
      }),
    );
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias bomb (or any failure to build the values) is the config's fault: name the file.
    throw new RunConfigError(file, [`${file}: ${(error as Error).message}`]);
  }
}

// ---------------------------------------------------------------------------------------------
// Schema errors as readable problems

type JsonKind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

function kindOf(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean' || typeof value === 'string') return typeof value as JsonKind;
  return 'object';
}

/** A value as a message shows it: strings quoted, numbers as written, lists and mappings by kind. */
function show(value: unknown): string {
  switch (kindOf(value)) {
    case 'array':
      return (value as unknown[]).length === 0 ? 'an empty list' : 'a list';
    case 'object':
      return 'a mapping';
    default:
      return JSON.stringify(value) ?? String(value);
  }
}

/** What a schema asks for, in words: "a whole number ≥ 1", "a list of non-empty strings". */
function describe(schema: Schema): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(describe).join(' or ');
  if (Array.isArray(schema.enum)) {
    const choices = schema.enum as unknown[];
    return choices.length === 1 ? JSON.stringify(choices[0]) : `one of ${choices.join(', ')}`;
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length === 0) return 'a value';
  return types.map((type) => describeType(type, schema)).join(' or ');
}

function describeType(type: string, schema: Schema): string {
  const bounds = (): string => {
    const parts: string[] = [];
    if (typeof schema.minimum === 'number') parts.push(`≥ ${schema.minimum}`);
    if (typeof schema.exclusiveMinimum === 'number') parts.push(`> ${schema.exclusiveMinimum}`);
    if (typeof schema.maximum === 'number') parts.push(`≤ ${schema.maximum}`);
    if (typeof schema.exclusiveMaximum === 'number') parts.push(`< ${schema.exclusiveMaximum}`);
    return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
  };
  switch (type) {
    case 'integer':
      return `a whole number${bounds()}`;
    case 'number':
      return `a number${bounds()}`;
    case 'string':
      return schema.minLength === 1 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return isSchema(schema.items) ? `a list of ${plural(schema.items)}` : 'a list';
    case 'object':
      if (isSchema(schema.properties)) return `a mapping with keys ${Object.keys(schema.properties).join(', ')}`;
      if (isSchema(schema.additionalProperties)) return `a mapping to ${plural(schema.additionalProperties)}`;
      return 'a mapping';
    default:
      return type;
  }
}

function plural(items: Schema): string {
  if (Array.isArray(items.enum)) return `names among ${(items.enum as unknown[]).join(', ')}`;
  return describe(items).replace(/^an? (non-empty )?(whole number|number|string|mapping)/, (_, nonEmpty: string | undefined, noun: string) => `${nonEmpty ?? ''}${noun}s`);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON pointer → its keys. */
function pointerKeys(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A readable key path: `selection.budgets[2]`, `data.labels["0"]`. */
function keyPath(keys: readonly (string | number)[]): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** The pointer's keys, array positions as numbers (found by walking the data). */
function typedKeys(data: unknown, pointer: string): (string | number)[] {
  const keys: (string | number)[] = [];
  let node = data;
  for (const key of pointerKeys(pointer)) {
    if (Array.isArray(node)) {
      keys.push(Number(key));
      node = node[Number(key)];
    } else {
      keys.push(key);
      node = isSchema(node) ? node[key] : undefined;
    }
  }
  return keys;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key `key` is most likely a typo of, if any is close. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(fold(key), fold(candidate));
    const allowed = Math.max(2, Math.floor(Math.max(key.length, candidate.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

interface Problem {
  /** JSON pointer of the key the problem is about (for skipping checks on broken keys). */
  readonly pointer: string;
  readonly message: string;
}

function schemaProblems(errors: readonly ErrorObject[], data: unknown): Problem[] {
  // anyOf: the branch errors are read only through their anyOf error, which reports what is wrong
  // inside a list or mapping by the one branch of that kind, and otherwise what the alternatives are.
  const anyOfErrors = errors.filter((e) => e.keyword === 'anyOf');
  const underAnyOf = (e: ErrorObject): boolean =>
    anyOfErrors.some((a) => a !== e && e.schemaPath.startsWith(`${a.schemaPath}/`) && (e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`)));
  const problems: Problem[] = [];
  for (const error of errors) {
    if (underAnyOf(error)) continue;
    problems.push(...problemsOf(error, errors, data));
  }
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.message) && seen.add(p.message));
}

function problemsOf(error: ErrorObject, errors: readonly ErrorObject[], data: unknown): Problem[] {
  const keys = typedKeys(data, error.instancePath);
  const at = (extra: (string | number)[], message: string, pointer = error.instancePath): Problem => {
    const where = keyPath([...keys, ...extra]);
    return { pointer, message: where === '' ? message : `${where}: ${message}` };
  };
  const schema = (error.parentSchema ?? {}) as Schema;
  const value = error.data;
  switch (error.keyword) {
    case 'anyOf': {
      const branches = (schema.anyOf ?? []) as Schema[];
      const kind = kindOf(value);
      const matching = branches
        .map((branch, i) => ({ branch, i }))
        .filter(({ branch }) => {
          const types = Array.isArray(branch.type) ? branch.type : [branch.type];
          return types.includes(kind) || (kind === 'integer' && types.includes('number'));
        });
      if (matching.length === 1 && (kind === 'array' || kind === 'object')) {
        const prefix = `${error.schemaPath}/${matching[0]!.i}/`;
        const inside = errors.filter(
          (e) => e.schemaPath.startsWith(prefix) && (e.instancePath === error.instancePath || e.instancePath.startsWith(`${error.instancePath}/`)),
        );
        if (inside.length > 0) return inside.flatMap((e) => problemsOf(e, errors, data));
      }
      return [at([], `must be ${describe(schema)}, got ${show(value)}`)];
    }
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(isSchema(schema.properties) ? schema.properties : {}).filter((k) => k !== '$schema');
      const near = closestKey(key, known);
      return [at([key], `unknown key (${near ? `did you mean "${near}"?` : `known keys: ${known.join(', ')}`})`, `${error.instancePath}/${key}`)];
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return [at([key], 'required key is missing', `${error.instancePath}/${key}`)];
    }
    case 'enum':
      return [at([], `${show(value)} is not one of ${(schema.enum as unknown[]).join(', ')}`)];
    case 'type':
      if (error.instancePath === '') {
        return [{ pointer: '', message: value === null ? 'the file holds no settings' : `the file must hold a mapping of settings, got ${show(value)}` }];
      }
      return [at([], `must be ${describe(schema)}, got ${show(value)}`)];
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return [at([], `must be ${describe(schema)}, got ${show(value)}`)];
    case 'minLength':
      return [at([], 'must not be empty')];
    case 'minItems':
      return [at([], schema.minItems === 1 ? 'must not be an empty list' : `must list at least ${String(schema.minItems)}`)];
    case 'minProperties':
      return [at([], 'must not be an empty mapping')];
    case 'uniqueItems': {
      const { i, j } = error.params as { i: number; j: number };
      const later = Math.max(i, j);
      return [at([later], `${show((value as unknown[])[later])} is listed twice`)];
    }
    case 'pattern':
      if (error.instancePath === '/model') return [at([], `must name a .gguf file, got ${show(value)}`)];
      if (error.instancePath === '/template') return [at([], `must name a *.icl.tmpl file, got ${show(value)}`)];
      return [at([], `must match ${String(schema.pattern)}, got ${show(value)}`)];
    default:
      return [at([], error.message ?? `fails ${error.keyword}`)];
  }
}

// ---------------------------------------------------------------------------------------------
// Resolving

function resolveRunConfig(raw: unknown, file: string): RunConfig {
  const validate = validator();
  const valid = validate(raw);
  const problems: Problem[] = valid ? [] : schemaProblems(validate.errors ?? [], raw);
  // Keys a schema problem is about (or inside, or around) are left to their defaults and to no
  // further check, so one mistake is reported once.
  const broken = problems.map((p) => p.pointer);
  const ok = (pointer: string): boolean => !broken.some((b) => b === pointer || b.startsWith(`${pointer}/`) || pointer.startsWith(`${b}/`));
  const get = <T>(pointer: string): T | undefined => {
    if (!ok(pointer)) return undefined;
    let node = raw;
    for (const key of pointerKeys(pointer)) {
      if (!isSchema(node) || !Object.hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return node as T;
  };
  const given = (pointer: string): boolean => get(pointer) !== undefined;
  const add = (pointer: string, keys: (string | number)[], message: string): void => {
    problems.push({ pointer, message: `${keyPath(keys)}: ${message}` });
  };

  const configFile = path.resolve(file);
  const folder = path.dirname(configFile);
  const filePath = (pointer: string, keys: string[]): string | undefined => {
    const value = get<string>(pointer);
    if (value === undefined) return undefined;
    if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
      add(pointer, keys, `"~" is not expanded: write the path in full, or relative to the config file's folder`);
      return undefined;
    }
    return path.resolve(folder, value);
  };

  const task = get<TaskType>('/data/task') ?? 'classification';
  const inputsValue = get<string | string[]>('/data/inputs');
  const inputs = typeof inputsValue === 'string' ? [inputsValue] : (inputsValue ?? []);
  const target = get<string>('/data/target') ?? '';
  const dataFile = filePath('/data/file', ['data', 'file']) ?? '';
  const format = get<DatasetFormat>('/data/format');
  const humanLabels = filePath('/data/humanLabels', ['data', 'humanLabels']);
  const verbalizers = filePath('/data/verbalizers', ['data', 'verbalizers']);
  // The old name held either file kind; a label map there ran with its lines skipped as unreadable labels.
  if (given('/data/labelsFile')) add('/data/labelsFile', ['data', 'labelsFile'], 'renamed: the human-labels sidecar (<data>.labels.jsonl) is data.humanLabels; a label → verbalizer map (labels.json) is data.verbalizers');
  if (given('/data/verbalizers') && task === 'generative') add('/data/verbalizers', ['data', 'verbalizers'], 'verbalizers apply only to classification (data.task is generative)');
  if (given('/data/labels') && given('/data/verbalizers')) add('/data/verbalizers', ['data', 'verbalizers'], 'give data.labels or data.verbalizers, not both');
  const labels = resolveLabels(get('/data/labels'), task, add);
  const masks = get<MaskStrategy[]>('/masks') ?? [...maskStrategies];
  const sites = get<SiteName[]>('/sites') ?? [...defaultSites];
  const split = { test: get<number>('/split/test') ?? 100, probe: get<number>('/split/probe') ?? 50, pool: get<number>('/split/pool') };
  const template = filePath('/template', ['template']);
  const output = filePath('/output', ['output']);
  const budgets = get<number[]>('/selection/budgets') ?? [4, 8, 16, 32];
  const layers = get<'all' | number[]>('/layers') ?? 'all';
  const quality = {
    estimator: get<QualityEstimator>('/quality/estimator') ?? 'one-shot',
    metric: get<string>('/quality/metric') ?? defaultQualityMetric[task],
    shots: get<number>('/quality/shots') ?? 4,
    prompts: get<number>('/quality/prompts'),
    influenceAppearances: get<number>('/quality/influenceAppearances') ?? defaultInfluenceAppearances,
  };
  const statistic = {
    mask: get<MaskStrategy>('/selection/statistic/mask') ?? masks[0]!,
    site: get<SiteName>('/selection/statistic/site') ?? sites[0]!,
    layer: get<LayerSpec>('/selection/statistic/layer') ?? 'middle',
    statistic: get<string>('/selection/statistic/statistic') ?? 'kurtosis',
    pooling: get<Pooling>('/selection/statistic/pooling') ?? 'all',
  };
  // A mapping under `sae` turns the SAE on, even one with a broken key (reported above, its default used meanwhile).
  const sae = isSchema(raw) && isSchema(raw['sae']) ? resolveSae() : undefined;
  function resolveSae(): SaeConfig {
    const optional = <K extends 'auxK' | 'learningRate' | 'deadWindowTokens'>(key: K): { [P in K]?: number } => {
      const value = get<number>(`/sae/${key}`);
      return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
    };
    const text = filePath('/sae/text', ['sae', 'text']);
    return {
      site: get<SiteName>('/sae/site') ?? saeDefaults.site,
      layer: get<LayerSpec>('/sae/layer') ?? saeDefaults.layer,
      expansion: get<number>('/sae/expansion') ?? saeDefaults.expansion,
      k: get<number>('/sae/k') ?? saeDefaults.k,
      ...optional('auxK'),
      auxCoefficient: get<number>('/sae/auxCoefficient') ?? saeDefaults.auxCoefficient,
      batchSize: get<number>('/sae/batchSize') ?? saeDefaults.batchSize,
      epochs: get<number>('/sae/epochs') ?? saeDefaults.epochs,
      ...optional('learningRate'),
      ...optional('deadWindowTokens'),
      maxTokens: get<number>('/sae/maxTokens') ?? saeDefaults.maxTokens,
      ...(text === undefined ? {} : { text }),
      heldOutShare: get<number>('/sae/heldOutShare') ?? saeDefaults.heldOutShare,
      seed: get<number>('/sae/seed') ?? get<number>('/seed') ?? 0,
      topFeatures: get<number>('/sae/topFeatures') ?? saeDefaults.topFeatures,
    };
  }
  const config: RunConfig = {
    configFile,
    model: filePath('/model', ['model']) ?? '',
    ...(output === undefined ? {} : { output }),
    data: {
      file: dataFile,
      ...(format === undefined ? {} : { format }),
      inputs,
      ...(given('/data/id') ? { id: get<string>('/data/id')! } : {}),
      target,
      task,
      ...(labels === undefined ? {} : { labels }),
      ...(humanLabels === undefined ? {} : { humanLabels }),
      ...(verbalizers === undefined ? {} : { verbalizers }),
    },
    split: split.pool === undefined ? { test: split.test, probe: split.probe } : { test: split.test, probe: split.probe, pool: split.pool },
    ...(template === undefined ? {} : { template }),
    ...(given('/instruction') ? { instruction: get<string>('/instruction')! } : {}),
    masks,
    sites,
    span: get<SpanKind>('/span') ?? 'input',
    inContextShots: get<number>('/inContextShots') ?? 4,
    statistics: get<string[]>('/statistics') ?? [...correlatedStatistics],
    poolings: get<Pooling[]>('/poolings') ?? [...poolings],
    layers,
    quality:
      quality.prompts === undefined
        ? { estimator: quality.estimator, metric: quality.metric, shots: quality.shots, influenceAppearances: quality.influenceAppearances }
        : { estimator: quality.estimator, metric: quality.metric, shots: quality.shots, prompts: quality.prompts, influenceAppearances: quality.influenceAppearances },
    selection: {
      strategies: get<RunStrategyName[]>('/selection/strategies') ?? defaultStrategies(task, sae !== undefined),
      budgets,
      rounds: get<number>('/selection/rounds') ?? 1,
      seeds: get<number[]>('/selection/seeds') ?? [0, 1, 2],
      statistic,
      vectorSite: get<SiteName>('/selection/vectorSite') ?? 'resid_post',
      vectorLayer: get<LayerSpec>('/selection/vectorLayer') ?? 'last',
      voteK: { neighbours: get<number>('/selection/voteK/neighbours') ?? 150, rho: get<number>('/selection/voteK/rho') ?? 10 },
      embedding: get<string>('/selection/embedding') === undefined || get<string>('/selection/embedding') === ownModelEmbedding ? ownModelEmbedding : (filePath('/selection/embedding', ['selection', 'embedding']) ?? ownModelEmbedding),
      retrievalShots: get<number>('/selection/retrievalShots') ?? 4,
    },
    evaluation: { metric: get<string>('/evaluation/metric') ?? defaultEvaluationMetric[task], bootstrap: get<number>('/evaluation/bootstrap') ?? 1000 },
    correlation: {
      bootstrap: get<number>('/correlation/bootstrap') ?? 1000,
      maxBootstrap: get<number>('/correlation/maxBootstrap') ?? 500,
      permutations: get<number>('/correlation/permutations') ?? 500,
    },
    seed: get<number>('/seed') ?? 0,
    engine: {
      gpu: get<GpuChoice>('/engine/gpu') ?? 'auto',
      contextSize: get<number>('/engine/contextSize') ?? 4096,
      batchSize: get<number>('/engine/batchSize') ?? 512,
      maxSequences: get<number>('/engine/maxSequences') ?? 64,
      threads: get<number>('/engine/threads') ?? 0,
      exact: get<boolean>('/engine/exact') ?? false,
    },
    histogramExamples: get<number>('/histogramExamples') ?? 8,
    scoring: { labels: get<LabelScoring>('/scoring/labels') ?? defaultLabelScoring },
    ...(sae === undefined ? {} : { sae }),
  };

  // The checks a schema cannot express.
  if (given('/data/target') && given('/data/inputs') && inputs.includes(target)) add('/data/target', ['data', 'target'], `"${target}" is also one of data.inputs`);
  if (format === undefined && given('/data/file') && ok('/data/format')) {
    try {
      datasetFormatOf(dataFile);
    } catch {
      add('/data/format', ['data', 'format'], `cannot tell the format from the extension of data.file; name one of ${datasetFormats.join(', ')}`);
    }
  }
  if (ok('/selection/budgets')) {
    budgets.forEach((budget, i) => {
      if (i > 0 && budget < budgets[i - 1]!) add('/selection/budgets', ['selection', 'budgets', i], `budgets must be in ascending order, got ${budget} after ${budgets[i - 1]}`);
    });
    if (split.pool !== undefined && ok('/split/pool')) {
      budgets.forEach((budget, i) => {
        if (budget > split.pool!) add('/selection/budgets', ['selection', 'budgets', i], `budget ${budget} is larger than the pool (split.pool is ${split.pool})`);
      });
    }
    const rounds = get<number>('/selection/rounds');
    const smallest = Math.min(...budgets);
    if (rounds !== undefined && rounds > smallest) {
      add('/selection/rounds', ['selection', 'rounds'], `${rounds} rounds need every budget to be at least ${rounds}, but the smallest budget is ${smallest}`);
    }
  }
  if (given('/selection/statistic/mask') && ok('/masks') && !masks.includes(statistic.mask)) {
    add('/selection/statistic/mask', ['selection', 'statistic', 'mask'], `"${statistic.mask}" is not one of the run's masks (${masks.join(', ')})`);
  }
  if (given('/selection/statistic/site') && ok('/sites') && !sites.includes(statistic.site)) {
    add('/selection/statistic/site', ['selection', 'statistic', 'site'], `"${statistic.site}" is not one of the run's sites (${sites.join(', ')}); add it to sites`);
  }
  if (statistic.statistic === 'top_dim') {
    add('/selection/statistic/statistic', ['selection', 'statistic', 'statistic'], `top_dim names a dimension and cannot rank examples; use one of ${correlatedStatistics.join(', ')}`);
  }
  if (given('/statistics')) {
    config.statistics.forEach((name, i) => {
      if (name === 'top_dim') add('/statistics', ['statistics', i], 'top_dim names a dimension and cannot enter correlations');
    });
  }
  if (typeof statistic.layer === 'number' && layers !== 'all' && ok('/layers') && !layers.includes(statistic.layer)) {
    add('/selection/statistic/layer', ['selection', 'statistic', 'layer'], `layer ${statistic.layer} is not one of the run's layers (${layers.join(', ')})`);
  }
  if (masks.includes('shared-prefix') && ok('/masks') && config.instruction !== undefined && config.instruction.trim() === '') {
    add('/instruction', ['instruction'], "the shared-prefix mask needs a non-empty instruction (leave the key out for the template's)");
  }
  if (sae === undefined && ok('/selection/strategies')) {
    config.selection.strategies.forEach((name, i) => {
      if (saeStrategies.includes(name)) add('/selection/strategies', ['selection', 'strategies', i], `${name} ranks by a sparse autoencoder's features, and the config has no \`sae:\` key: add \`sae: {}\` (every default) or leave ${name} out`);
    });
  }
  if (given('/quality/prompts') && given('/quality/influenceAppearances')) {
    add('/quality/influenceAppearances', ['quality', 'influenceAppearances'], 'give quality.prompts or quality.influenceAppearances, not both');
  }
  if (ok('/data/task')) {
    for (const [pointer, keys, metric] of [
      ['/quality/metric', ['quality', 'metric'], get<string>('/quality/metric')],
      ['/evaluation/metric', ['evaluation', 'metric'], get<string>('/evaluation/metric')],
    ] as const) {
      if (metric !== undefined && !taskMetrics[task].includes(metric)) {
        add(pointer, [...keys], `"${metric}" is not a ${task} metric (use one of ${taskMetrics[task].join(', ')})`);
      }
    }
  }
  if (split.pool !== undefined && ok('/split/pool')) {
    if (masks.includes('in-context') && ok('/masks') && config.inContextShots >= split.pool) {
      add('/inContextShots', ['inContextShots'], `${config.inContextShots} demonstrations per example need a pool of more than ${config.inContextShots} (split.pool is ${split.pool})`);
    }
    if (quality.estimator === 'influence' && quality.shots > split.pool) {
      add('/quality/shots', ['quality', 'shots'], `${quality.shots} demonstrations per prompt need a pool of at least ${quality.shots} (split.pool is ${split.pool})`);
    }
  }

  if (problems.length > 0) throw new RunConfigError(file, problems.map((p) => `${file}: ${p.message}`));
  return config;
}

function resolveLabels(
  value: unknown,
  task: TaskType,
  add: (pointer: string, keys: (string | number)[], message: string) => void,
): ClassLabel[] | undefined {
  if (value === undefined) return undefined;
  if (task !== 'classification') {
    add('/data/labels', ['data', 'labels'], 'labels apply only to classification (data.task is generative)');
    return undefined;
  }
  // Where each label's value and verbalizer are written, for messages.
  const entries: { valueKeys: (string | number)[]; verbalizerKeys: (string | number)[]; label: ClassLabel }[] = Array.isArray(value)
    ? (value as { value: unknown; verbalizer: string }[]).map((entry, i) => ({
        valueKeys: ['data', 'labels', i, 'value'],
        verbalizerKeys: ['data', 'labels', i, 'verbalizer'],
        label: { value: String(entry.value), verbalizer: entry.verbalizer },
      }))
    : Object.entries(value as Record<string, string>).map(([label, verbalizer]) => ({
        valueKeys: ['data', 'labels', label],
        verbalizerKeys: ['data', 'labels', label],
        label: { value: label, verbalizer },
      }));
  const values = new Set<string>();
  const verbalizers = new Map<string, string>();
  for (const { valueKeys, verbalizerKeys, label } of entries) {
    if (label.verbalizer.trim() === '') add('/data/labels', verbalizerKeys, 'the verbalizer is blank');
    if (values.has(label.value)) add('/data/labels', valueKeys, `label "${label.value}" is listed twice`);
    const other = verbalizers.get(label.verbalizer);
    if (other !== undefined) add('/data/labels', verbalizerKeys, `"${label.verbalizer}" is also the verbalizer of label "${other}"`);
    values.add(label.value);
    verbalizers.set(label.verbalizer, label.value);
  }
  return entries.map((e) => e.label);
}

// ---------------------------------------------------------------------------------------------
// Using a resolved config

/** The 0-based layer `spec` names in a model of `layerCount` layers; a RangeError when it has no such layer. */
export function resolveLayer(spec: LayerSpec, layerCount: number): number {
  const layer = spec === 'middle' ? Math.floor(layerCount / 2) : spec === 'last' ? layerCount - 1 : spec;
  if (!Number.isInteger(layer) || layer < 0 || layer >= layerCount) throw new RangeError(`layer ${String(spec)} is out of range: the model has ${layerCount} layers`);
  return layer;
}

/**
 * The config's layer choices that a model of `layerCount` layers cannot meet, each as `key: problem`
 * (`layers[2]: layer 40 is out of range: …`) without the file, which the caller names; empty when none.
 */
export function checkLayersAgainstModel(config: RunConfig, layerCount: number): string[] {
  const range = layerCount > 0 ? `the model has ${layerCount} layers (0–${layerCount - 1})` : 'the model has no layers';
  const problems: string[] = [];
  if (config.layers !== 'all') {
    config.layers.forEach((layer, i) => {
      if (layer >= layerCount) problems.push(`layers[${i}]: layer ${layer} is out of range: ${range}`);
    });
  }
  const specs: [string, LayerSpec][] = [
    ['selection.statistic.layer', config.selection.statistic.layer],
    ['selection.vectorLayer', config.selection.vectorLayer],
    ...(config.sae ? ([['sae.layer', config.sae.layer]] as [string, LayerSpec][]) : []),
  ];
  for (const [key, spec] of specs) {
    const layer = spec === 'middle' ? Math.floor(layerCount / 2) : spec === 'last' ? layerCount - 1 : spec;
    if (layer < 0 || layer >= layerCount) {
      problems.push(`${key}: layer ${typeof spec === 'number' ? spec : `${spec} (${layer})`} is out of range: ${range}`);
    } else if (key === 'selection.statistic.layer' && typeof spec !== 'number' && config.layers !== 'all' && !config.layers.includes(layer)) {
      problems.push(`${key}: ${spec} is layer ${layer}, which is not one of the run's layers (${config.layers.join(', ')})`);
    }
  }
  return problems;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The resolved config as plain JSON (for run.json): paths absolute, optional keys left out when absent. */
export function runConfigToJson(config: RunConfig): { [key: string]: Json } {
  return JSON.parse(JSON.stringify(config)) as { [key: string]: Json };
}

/**
 * The top-level keys whose values differ between two configs in their JSON form (as run.json
 * stores them), sorted: what `--resume` and `icl-lab merge` refuse to mix. Where the config file and
 * the run folder are (configFile, output) and how many CPU threads run it change no number.
 */
export function changedComputationKeys(a: unknown, b: unknown): string[] {
  const comparable = (config: unknown): Record<string, unknown> => {
    const copy = { ...((config ?? {}) as Record<string, unknown>) };
    if (copy['engine'] && typeof copy['engine'] === 'object') copy['engine'] = { ...(copy['engine'] as object), threads: undefined };
    // Runs from before sites existed read the MLP output only: the same computation as today's default.
    copy['sites'] ??= [...defaultSites];
    // Runs from before label scoring was an option summed each label's log-probabilities.
    copy['scoring'] ??= { labels: labelScoringBeforeOption };
    const selection = copy['selection'] as { statistic?: Record<string, unknown>; strategies?: unknown } | undefined;
    if (selection?.statistic && typeof selection.statistic === 'object' && !('site' in selection.statistic)) {
      copy['selection'] = { ...selection, statistic: { ...selection.statistic, site: defaultSites[0] } };
    }
    if (selection && typeof selection === 'object') {
      const strategies = Array.isArray(selection.strategies) ? (selection.strategies as string[]) : [];
      if (!strategies.some((s) => (vectorStrategyNames as readonly string[]).includes(s))) {
        // No strategy compares vectors: where they would come from changes nothing.
        copy['selection'] = { ...(copy['selection'] as object), vectorSite: undefined, vectorLayer: undefined };
      } else if (!('vectorSite' in selection)) {
        // Runs from before vectorSite existed embedded examples by their token-mean MLP output.
        copy['selection'] = { ...(copy['selection'] as object), vectorSite: vectorSiteBeforeOption };
      }
    }
    return copy;
  };
  const left = comparable(a);
  const right = comparable(b);
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].filter((key) => key !== 'configFile' && key !== 'output');
  return keys.filter((key) => canonicalJson(left[key]) !== canonicalJson(right[key])).sort();
}

/** JSON with every object's keys sorted: key order means nothing in a config. */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
