// A reproduce grid laid out: the cells (model × dataset) this invocation runs, in a fixed order,
// each with its run folder and its run configuration. The configuration is the preset's study,
// the dataset's overrides, the model and the data; strategies a generative task cannot run are
// dropped there.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { classificationOnlyStrategies } from '../experiment/runConfig.js';
import { ownsUnit, type Shard } from '../experiment/workUnits.js';
import { modelName, type ReproduceDataset, type ReproduceModel, type ReproducePreset } from './presets.js';

export interface ReproduceCell {
  /** `<model>/<dataset>`: what --only names and progress lines print. */
  readonly key: string;
  readonly model: ReproduceModel;
  readonly dataset: ReproduceDataset;
  /** Position in the whole grid (models outer, datasets inner), which --shard deals round-robin. */
  readonly index: number;
}

/** Every cell of the preset, models outer, datasets inner. */
export function gridCells(preset: ReproducePreset): ReproduceCell[] {
  return preset.models.flatMap((model, m) =>
    preset.datasets.map((dataset, d) => ({ key: `${modelName(model)}/${dataset.name}`, model, dataset, index: m * preset.datasets.length + d })),
  );
}

/**
 * The cells this invocation runs: shard I of N takes the grid's cells k with k mod N = I − 1 (the
 * whole grid's numbering, so shards never overlap whatever --only says), then --only keeps those
 * named. An --only entry naming no cell of the grid is an error listing the grid's cells.
 */
export function plannedCells(preset: ReproducePreset, options: { shard?: Shard; only?: readonly string[] } = {}): ReproduceCell[] {
  const all = gridCells(preset);
  const only = options.only?.map((o) => o.trim()).filter((o) => o !== '');
  if (only && only.length > 0) {
    const unknown = only.filter((o) => !all.some((c) => c.key === o || c.dataset.name === o || modelName(c.model) === o));
    if (unknown.length > 0) throw new Error(`--only: ${unknown.join(', ')} is not a cell of preset ${preset.name} (cells: ${all.map((c) => c.key).join(', ')}; a model or dataset name alone selects its row or column)`);
  }
  return all.filter((c) => ownsUnit(options.shard, c.index)).filter((c) => !only || only.length === 0 || only.some((o) => o === c.key || o === c.dataset.name || o === modelName(c.model)));
}

/** The run folder of a cell: DIR/<model>/<dataset>. */
export function cellDir(out: string, cell: ReproduceCell): string {
  return path.join(out, modelName(cell.model), cell.dataset.name);
}

/** The cell's run configuration file, beside its folder: DIR/<model>/<dataset>.run.yaml. */
export function cellConfigFile(out: string, cell: ReproduceCell): string {
  return `${cellDir(out, cell)}.run.yaml`;
}

/** The dataset's template file, when it has its own: DIR/templates/<dataset>.icl.tmpl. */
export function templateFile(out: string, dataset: ReproduceDataset): string {
  return path.join(out, 'templates', `${dataset.name}.icl.tmpl`);
}

/**
 * The files a dataset needs under the datasets folder (the data and its labels.json), each checked
 * to exist; a missing one is an error naming its full path.
 */
export function checkDatasetFiles(datasetsDir: string, datasets: readonly ReproduceDataset[]): void {
  const missing: string[] = [];
  for (const dataset of datasets) {
    for (const file of [dataset.file, dataset.labelsJson]) {
      if (file !== undefined && !existsSync(path.resolve(datasetsDir, file))) missing.push(`${path.resolve(datasetsDir, file)} (dataset ${dataset.name})`);
    }
  }
  if (missing.length > 0) throw new Error(`missing dataset file${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}; give the datasets folder with --datasets DIR`);
}

/** A labels.json (value → verbalizer), checked to be a non-empty object of strings. */
export async function readLabelsJson(file: string): Promise<Record<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0 || !Object.values(value).every((v) => typeof v === 'string' && v.trim() !== '')) {
    throw new Error(`${file}: expected a JSON object mapping each label to its verbalizer, e.g. {"0": "negative", "1": "positive"}`);
  }
  return value as Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** b's keys over a's, objects merged key by key (lists and scalars replaced). */
export function mergeStudy(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = isObject(value) && isObject(out[key]) ? mergeStudy(out[key] as Record<string, unknown>, value) : value;
  return out;
}

/**
 * The run configuration of a cell, as the JSON object written to its .run.yaml: paths absolute
 * (the model file, the data file, the template), labels inline from the dataset's labels.json.
 */
export function cellRunConfig(
  preset: ReproducePreset,
  cell: ReproduceCell,
  inputs: { readonly modelFile: string; readonly datasetsDir: string; readonly labels?: Readonly<Record<string, string>>; readonly templateFile?: string },
): Record<string, unknown> {
  const { dataset } = cell;
  const study = mergeStudy(preset.study, dataset.study ?? {});
  const selection = isObject(study['selection']) ? { ...study['selection'] } : {};
  if (dataset.task === 'generative' && Array.isArray(selection['strategies'])) {
    selection['strategies'] = (selection['strategies'] as string[]).filter((s) => !(classificationOnlyStrategies as readonly string[]).includes(s));
  }
  return {
    model: path.resolve(inputs.modelFile),
    data: {
      file: path.resolve(inputs.datasetsDir, dataset.file),
      inputs: [...dataset.inputs],
      ...(dataset.id ? { id: dataset.id } : {}),
      target: dataset.target,
      task: dataset.task,
      ...(dataset.task === 'classification' && inputs.labels ? { labels: { ...inputs.labels } } : {}),
    },
    ...(inputs.templateFile ? { template: path.resolve(inputs.templateFile) } : {}),
    instruction: dataset.instruction,
    ...study,
    ...(Object.keys(selection).length > 0 ? { selection } : {}),
  };
}
