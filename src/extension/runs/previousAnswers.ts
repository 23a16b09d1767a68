// The wizard's last answers for a data file, read back from the `<data>.run.yaml` it wrote (or the
// user edited): they pre-fill the next run's questions. Read loosely — a key that is missing or of
// the wrong shape is simply not pre-filled. No vscode import: tested with mocha.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

export interface PreviousAnswers {
  readonly inputs?: readonly string[];
  readonly target?: string;
  readonly task?: string;
  /** Absolute path of the template file; absent: the built-in template. */
  readonly template?: string;
  readonly strategies?: readonly string[];
  readonly budgets?: readonly number[];
  /** label → word, as `data.labels` maps them. */
  readonly labelWords?: Readonly<Record<string, string>>;
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined);

export function previousAnswersFrom(text: string, configFile: string): PreviousAnswers {
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const config = value as Record<string, unknown>;
  const data = (typeof config['data'] === 'object' && config['data'] !== null ? config['data'] : {}) as Record<string, unknown>;
  const selection = (typeof config['selection'] === 'object' && config['selection'] !== null ? config['selection'] : {}) as Record<string, unknown>;
  const inputs = typeof data['inputs'] === 'string' ? [data['inputs']] : strings(data['inputs']);
  const budgets = Array.isArray(selection['budgets']) && selection['budgets'].every((b) => typeof b === 'number') ? (selection['budgets'] as number[]) : undefined;
  const labels = data['labels'];
  const labelWords =
    typeof labels === 'object' && labels !== null && !Array.isArray(labels) && Object.values(labels).every((v) => typeof v === 'string')
      ? (labels as Record<string, string>)
      : undefined;
  return {
    ...(inputs ? { inputs } : {}),
    ...(typeof data['target'] === 'string' ? { target: data['target'] } : {}),
    ...(typeof data['task'] === 'string' ? { task: data['task'] } : {}),
    ...(typeof config['template'] === 'string' ? { template: path.resolve(path.dirname(configFile), config['template']) } : {}),
    ...(strings(selection['strategies']) ? { strategies: strings(selection['strategies'])! } : {}),
    ...(budgets ? { budgets } : {}),
    ...(labelWords ? { labelWords } : {}),
  };
}

/** The answers in `configFile`, or none when it does not exist. */
export async function readPreviousAnswers(configFile: string): Promise<PreviousAnswers> {
  if (!existsSync(configFile)) return {};
  return previousAnswersFrom(await readFile(configFile, 'utf8').catch(() => ''), configFile);
}

/** `reviews.run.yaml` → `reviews-2.run.yaml` (the first name not taken). */
export function nextFreeConfigFile(configFile: string): string {
  const dir = path.dirname(configFile);
  const stem = path.basename(configFile).replace(/\.run\.yaml$/, '');
  for (let n = 2; ; n++) {
    const candidate = path.join(dir, `${stem}-${n}.run.yaml`);
    if (!existsSync(candidate)) return candidate;
  }
}
