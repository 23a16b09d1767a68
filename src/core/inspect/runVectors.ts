// The vectors a run kept in its checkpoints — the run model's pooled activation (token-mean at
// selection.vectorSite and vectorLayer, isolated mask), or an embedding model's (selection.embedding): the pool's,
// which the diversity strategies compare, and the test queries', which KATE retrieves for. Present
// only when the run compared a strategy that needs them.
import { CheckpointStore } from '../experiment/checkpointStore.js';
import { vectorSiteBeforeOption } from '../experiment/runConfig.js';
import { embeddingUnitName, extractUnitName, readRunRecord, unitSizes } from '../experiment/runExperiment.js';
import { isSiteName } from '../sites.js';
import { chunk } from '../experiment/workUnits.js';

export interface RunVectors {
  /** By pool position (the pool's rows in file order). */
  readonly pool: readonly Float64Array[];
  /** By test position; empty when the run did not compare KATE. */
  readonly test: readonly Float64Array[];
}

/** The vectors of a run over `poolSize` pool and `testSize` test rows, or undefined when its checkpoints hold none. */
export async function readRunVectors(dir: string, poolSize: number, testSize: number): Promise<RunVectors | undefined> {
  const store = new CheckpointStore(dir);
  const read = async (unitName: (c: number) => string, size: number): Promise<Float64Array[] | undefined> => {
    const out: Float64Array[] = [];
    for (const [c] of chunk(Array.from({ length: size }, (_, i) => i), unitSizes.extract).entries()) {
      const unit = unitName(c);
      if (!store.has(unit)) return undefined;
      const vectors = (await store.readJson<{ vectors?: number[][] }>(unit)).vectors;
      if (!vectors) return undefined;
      for (const v of vectors) out.push(Float64Array.from(v));
    }
    return out.length === size ? out : undefined;
  };
  const fromEmbeddingModel = store.has(embeddingUnitName('pool', 0));
  // The run model's vectors are in the isolated units of the site that embedded (run.json's config).
  const recorded = (await readRunRecord(dir).catch(() => undefined))?.config as { selection?: { vectorSite?: unknown } } | undefined;
  const site = isSiteName(recorded?.selection?.vectorSite) ? recorded.selection.vectorSite : vectorSiteBeforeOption;
  const pool = await read((c) => (fromEmbeddingModel ? embeddingUnitName('pool', c) : extractUnitName(site, 'isolated', c)), poolSize);
  if (!pool) return undefined;
  return { pool, test: (await read((c) => (fromEmbeddingModel ? embeddingUnitName('test', c) : `extract-test-${c}.json`), testSize)) ?? [] };
}
