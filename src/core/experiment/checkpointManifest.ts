// checkpoints/.manifest.json: what the folder's units were computed from (config, inputs, model,
// seed, shard), written when a run starts. run.json says the same and more, but run.json is one
// file a user can delete or break; with the manifest, a folder of checkpoints is never anonymous:
// `icl-lab doctor` names its config and `--resume` rebuilds run.json when everything matches.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomicFile.js';
import type { ModelFacts } from './experimentModel.js';
import type { RunInputs } from './runInputs.js';

export const checkpointManifestName = '.manifest.json';

export interface CheckpointManifest {
  readonly format: 'icl-lab-checkpoints/1';
  readonly seed: number;
  readonly shard?: string;
  readonly config: unknown;
  readonly model: ModelFacts;
  readonly inputs?: RunInputs;
}

export function checkpointManifestFile(runDir: string): string {
  return path.join(runDir, 'checkpoints', checkpointManifestName);
}

export async function writeCheckpointManifest(runDir: string, manifest: CheckpointManifest): Promise<void> {
  await writeFileAtomic(checkpointManifestFile(runDir), JSON.stringify(manifest, null, 2) + '\n');
}

/** The manifest, undefined when the folder has none; throws naming the file when it does not parse. */
export async function readCheckpointManifest(runDir: string): Promise<CheckpointManifest | undefined> {
  const file = checkpointManifestFile(runDir);
  if (!existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  if ((value as { format?: unknown })?.format !== 'icl-lab-checkpoints/1') throw new Error(`${file}: not a checkpoint manifest`);
  return value as CheckpointManifest;
}
