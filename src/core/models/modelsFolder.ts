// Where downloaded models go: setting iclLab.modelsFolder / `--dir`, by default ~/.icl-lab/models
// (one folder shared by every workspace, so a 3 GB model is downloaded once).
import os from 'node:os';
import path from 'node:path';

export function defaultModelsFolder(home: string = os.homedir()): string {
  return path.join(home, '.icl-lab', 'models');
}

/** The folder a setting names: empty for the default, `~` for the home folder, relative to `base`. */
export function resolveModelsFolder(setting: string | undefined, base: string = process.cwd(), home: string = os.homedir()): string {
  const value = (setting ?? '').trim();
  if (value === '') return defaultModelsFolder(home);
  if (value === '~') return home;
  if (value.startsWith('~/') || value.startsWith('~\\')) return path.join(home, value.slice(2));
  return path.resolve(base, value);
}
