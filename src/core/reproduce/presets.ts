// The grids `icl-lab reproduce` runs: models × datasets, each cell one `icl-lab run` whose
// configuration is the preset's shared study settings, the dataset's own overrides, the model and
// the data. Presets are plain data; `--preset-file` reads the same shape from JSON or YAML, so a
// user can define their own grid.

/** A model of the grid: a catalogue name (downloaded or taken from the cache), or a local GGUF file. */
export type ReproduceModel =
  | { readonly id: string; readonly name?: string }
  | { readonly name: string; readonly file: string };

/** A dataset of the grid: a file under the datasets folder and what its fields mean. */
export interface ReproduceDataset {
  /** The cell folder's name: DIR/<model>/<name>/. */
  readonly name: string;
  /** The data file, relative to the datasets folder (`sst2/validation.jsonl`). */
  readonly file: string;
  readonly inputs: readonly string[];
  readonly target: string;
  readonly id?: string;
  readonly task: 'classification' | 'generative';
  /** Classification: a JSON object value → verbalizer, relative to the datasets folder (the shared datasets' labels.json). */
  readonly labelsJson?: string;
  /** The instruction of every prompt and of the shared-prefix and in-context masks. */
  readonly instruction: string;
  /** A *.icl.tmpl template's text, for inputs the built-in templates do not read (`{{text}}`, `{{question}}`). */
  readonly template?: string;
  /** Run-config keys that differ for this dataset (e.g. `split` where the file is small). */
  readonly study?: Readonly<Record<string, unknown>>;
}

export interface ReproducePreset {
  readonly name: string;
  readonly description: string;
  readonly models: readonly ReproduceModel[];
  readonly datasets: readonly ReproduceDataset[];
  /**
   * Run-config keys shared by every cell (split, masks, selection, quality, evaluation, correlation,
   * engine…). Strategies that need labels' distribution (uncertainty, adaicl, label-balanced-random)
   * are dropped from generative cells.
   */
  readonly study: Readonly<Record<string, unknown>>;
}


const cbTemplate = [
  '@instruction',
  'Does the premise entail the hypothesis? Answer entailment, contradiction or neutral.',
  '',
  '@demonstration',
  'Premise: {{premise}}',
  'Hypothesis: {{hypothesis}}',
  'Label: {{answer}}',
  '',
  '@separator',
  '\\n\\n',
  '',
  '@query',
  'Premise: {{premise}}',
  'Hypothesis: {{hypothesis}}',
  '',
  '@answer-prefix',
  '\\nLabel:',
  '',
].join('\n');

/** The seven datasets of ../shared/datasets (their README gives sources and licences). */
export const sharedDatasets: readonly ReproduceDataset[] = [
  // SST-2 validation: 872 whole sentences (train mixes in phrase-level fragments).
  { name: 'sst2', file: 'sst2/validation.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'sst2/labels.json', instruction: 'Classify the sentiment of each movie review as positive or negative.' },
  { name: 'ag_news', file: 'ag_news/test.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'ag_news/labels.json', instruction: 'Classify the topic of each news article as World, Sports, Business or Sci/Tech.' },
  { name: 'trec', file: 'trec/train.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'trec/labels.json', instruction: 'Classify what each question asks for: abbreviation, description, entity, human, location or numeric.' },
  { name: 'cb', file: 'cb/train.jsonl', inputs: ['premise', 'hypothesis'], target: 'label', id: 'id', task: 'classification', labelsJson: 'cb/labels.json', instruction: 'Does the premise entail the hypothesis? Answer entailment, contradiction or neutral.', template: cbTemplate },
  { name: 'subj', file: 'subj/all.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'subj/labels.json', instruction: 'Classify each sentence as subjective or objective.' },
  // GSM8K's target is `final` (the number after ####): direct answers, no worked solution, so greedy answers stay short.
  { name: 'gsm8k', file: 'gsm8k/train.jsonl', inputs: ['question'], target: 'final', id: 'id', task: 'generative', instruction: 'Answer each math word problem with the final number only.' },
  { name: 'nq_open', file: 'nq_open/validation.jsonl', inputs: ['question'], target: 'answers', id: 'id', task: 'generative', instruction: 'Answer each question briefly.' },
];

const cpuStrategies = ['random', 'label-balanced-random', 'highest-first', 'k-center-greedy', 'vote-k', 'kate', 'bm25', 'top-quality'];

/**
 * The study both CPU presets share (cpu-medium at these sizes; cpu-small smaller): SmolLM2-135M and
 * Gemma 3 270M, the seven datasets, all three masks (2 in-context shots), one-shot quality, 8
 * strategies (7 for generative tasks), budgets 4 and 8, KATE and BM25 retrieving 2 demonstrations. `lowest-first` is left out (it
 * is highest-first's mirror); the paper preset keeps it. Labels are scored as every run scores them
 * by default (mean log-probability per token).
 */
const cpuStudy = {
  split: { test: 20, probe: 12, pool: 40 },
  masks: ['isolated', 'shared-prefix', 'in-context'],
  inContextShots: 2,
  quality: { estimator: 'one-shot' },
  selection: { strategies: cpuStrategies, budgets: [4, 8], rounds: 1, seeds: [0, 1, 2], retrievalShots: 2 },
  evaluation: { bootstrap: 500 },
  correlation: { bootstrap: 200, maxBootstrap: 200, permutations: 200 },
  histogramExamples: 4,
  seed: 0,
  engine: { threads: 2 },
} as const;

/**
 * The shared CPU study sized to finish in under 90 minutes on two CPU cores: pool 32, probe 10, test
 * 12, seeds 0–1. cpu-medium's phases took extraction 13, one-shot quality 33, selection 8 and the
 * k-shot evaluation 95 minutes, so the evaluation alone could not be cut enough: quality (pool ×
 * probe prompts) and extraction are a floor of ~45 minutes at cpu-medium's pool and probe. Each
 * strategy-vs-random interval rests on 24 paired items (12 test queries × 2 seeds) instead of 60,
 * each ρ on 32 candidates instead of 40. Reproduce's estimate runs low on long inputs (CB, GSM8K,
 * NQ-open and AG News cells took 1.3–1.5× it; the whole cpu-medium grid 1.33×), so the
 * estimate is kept at ≤ 65 minutes
 * (test/unit/cpuPresetSizes.test.ts). The measured wall time is in README ("The cpu-small table").
 */
export const cpuSmallPreset: ReproducePreset = {
  name: 'cpu-small',
  description: 'SmolLM2-135M and Gemma 3 270M on the seven shared datasets, sized to 90 minutes on two CPU cores',
  models: [{ id: 'smollm2-135m' }, { id: 'gemma3-270m' }],
  datasets: sharedDatasets,
  study: { ...cpuStudy, split: { test: 12, probe: 10, pool: 32 }, selection: { ...cpuStudy.selection, seeds: [0, 1] } },
};

/**
 * The shared CPU study at its first size: 20 test queries and seeds 0–2 (60 paired items per
 * strategy comparison). It took 2h30m on the 2-core build machine (≈1h52m estimated idle), which is
 * why cpu-small is smaller; its table is kept in bench/results/cpu-medium.
 */
export const cpuMediumPreset: ReproducePreset = {
  name: 'cpu-medium',
  description: 'the cpu-small grid with 20 test queries and 3 seeds (about 2 hours on two CPU cores)',
  models: cpuSmallPreset.models,
  datasets: sharedDatasets,
  study: cpuStudy,
};

/**
 * Llama-3.2-3B and Qwen2.5-3B base (Q8_0) at the sizes this project takes as the paper's: test 100,
 * probe 50, pool 200 (the VS Code wizard's "paper-sized" split), every mask, all twelve strategies,
 * budgets 4, 8, 16, 32, seeds 0–2, 2 acquisition rounds, one-shot quality, 1000 bootstrap resamples.
 * The paper's exact test-set size and seed count are not restated in this repository: treat these
 * as our reading, not a quotation. CB has 250 rows, so it gets 50 / 25 / 175.
 */
export const paperPreset: ReproducePreset = {
  name: 'paper',
  description: "Llama-3.2-3B and Qwen2.5-3B base (Q8_0) at the paper's sizes, for a GPU machine",
  models: [{ id: 'llama-3.2-3b' }, { id: 'qwen2.5-3b' }],
  datasets: sharedDatasets.map((d) => (d.name === 'cb' ? { ...d, study: { split: { test: 50, probe: 25, pool: 175 } } } : d)),
  study: {
    split: { test: 100, probe: 50, pool: 200 },
    masks: ['isolated', 'shared-prefix', 'in-context'],
    inContextShots: 4,
    quality: { estimator: 'one-shot' },
    selection: {
      strategies: ['random', 'label-balanced-random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'adaicl', 'kate', 'bm25', 'top-quality'],
      budgets: [4, 8, 16, 32],
      rounds: 2,
      seeds: [0, 1, 2],
    },
    evaluation: { bootstrap: 1000 },
    correlation: { bootstrap: 1000, maxBootstrap: 500, permutations: 500 },
    seed: 0,
    engine: { gpu: 'auto' },
  },
};

export const builtInPresets: readonly ReproducePreset[] = [cpuSmallPreset, cpuMediumPreset, paperPreset];

export function builtInPreset(name: string): ReproducePreset {
  const preset = builtInPresets.find((p) => p.name === name);
  if (!preset) throw new Error(`unknown preset "${name}" (built in: ${builtInPresets.map((p) => p.name).join(', ')}; or give --preset-file FILE)`);
  return preset;
}

/** The folder name of a model of the grid. */
export function modelName(model: ReproduceModel): string {
  return model.name ?? (model as { id: string }).id;
}

/**
 * Checks a preset read from a file (already parsed from JSON or YAML), naming the file and the key
 * of every problem at once.
 */
export function checkPreset(raw: unknown, file: string): ReproducePreset {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
  const safeName = (v: unknown): boolean => nonEmpty(v) && /^[A-Za-z0-9._-]+$/.test(v) && v !== '.' && v !== '..';
  if (!isObject(raw)) throw new Error(`${file}: a preset is an object with name, models, datasets and study`);
  const known = new Set(['name', 'description', 'models', 'datasets', 'study']);
  for (const key of Object.keys(raw)) if (!known.has(key)) problems.push(`${key}: unknown key (a preset has ${[...known].join(', ')})`);
  if (!nonEmpty(raw['name'])) problems.push('name: a non-empty string');
  const models = raw['models'];
  if (!Array.isArray(models) || models.length === 0) problems.push('models: a non-empty list of { id } (a catalogue model) or { name, file } (a GGUF file)');
  else {
    models.forEach((m: unknown, i) => {
      if (!isObject(m)) return problems.push(`models[${i}]: an object`);
      if (m['file'] !== undefined) {
        if (!nonEmpty(m['file'])) problems.push(`models[${i}].file: a path to a GGUF file`);
        if (!safeName(m['name'])) problems.push(`models[${i}].name: a folder name (letters, digits, . _ -) is needed with file`);
      } else if (!nonEmpty(m['id'])) problems.push(`models[${i}]: give id (a catalogue model) or name and file`);
      else if (m['name'] !== undefined && !safeName(m['name'])) problems.push(`models[${i}].name: letters, digits, . _ - only`);
    });
  }
  const datasets = raw['datasets'];
  if (!Array.isArray(datasets) || datasets.length === 0) problems.push('datasets: a non-empty list');
  else {
    datasets.forEach((d: unknown, i) => {
      if (!isObject(d)) return problems.push(`datasets[${i}]: an object`);
      if (!safeName(d['name'])) problems.push(`datasets[${i}].name: a folder name (letters, digits, . _ -)`);
      for (const key of ['file', 'target', 'instruction']) if (!nonEmpty(d[key])) problems.push(`datasets[${i}].${key}: a non-empty string`);
      if (!Array.isArray(d['inputs']) || d['inputs'].length === 0 || !d['inputs'].every(nonEmpty)) problems.push(`datasets[${i}].inputs: a non-empty list of field names`);
      if (d['task'] !== 'classification' && d['task'] !== 'generative') problems.push(`datasets[${i}].task: classification or generative`);
      if (d['study'] !== undefined && !isObject(d['study'])) problems.push(`datasets[${i}].study: an object of run-config keys`);
    });
    const names = datasets.map((d: unknown) => (isObject(d) ? d['name'] : undefined));
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) problems.push(`datasets[${i}].name: "${String(n)}" is listed twice`);
    });
  }
  if (!isObject(raw['study'])) problems.push('study: an object of run-config keys shared by every cell (split, masks, selection, …)');
  else for (const key of ['model', 'data', 'output', 'template', 'instruction']) if (key in raw['study']) problems.push(`study.${key}: set per model or dataset by reproduce, not in the study`);
  if (problems.length > 0) throw new Error(problems.map((p) => `${file}: ${p}`).join('\n'));
  return { description: '', ...(raw as object) } as ReproducePreset;
}
