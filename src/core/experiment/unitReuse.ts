// `icl-lab run CONFIG --out NEW --reuse OLD`: a new run (a labelling round that added labels, a
// bigger pool) takes from an earlier run's checkpoints what cannot have changed. An example's
// statistics under the isolated and shared-prefix masks, and its isolated pooled vector, depend only
// on the example's own content, the model, the template and instruction, the span and the engine
// settings — not on which other rows are in the pool. So they are matched per example by row and
// content digest (runInputs.ts) and assembled into the new run's units; in-context units (their
// demonstrations are drawn from the pool) and everything after extraction are computed afresh.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRow } from '../dataset/datasetSpec.js';
import { siteNames, type SiteName } from '../sites.js';
import { CheckpointStore } from './checkpointStore.js';
import { changedComputationKeys, vectorSiteBeforeOption } from './runConfig.js';
import { readRunRecord } from './runExperiment.js';
import { rowDigest, type ExampleDigest, type RunInputs } from './runInputs.js';

/** Config keys an earlier run may differ in and still share its isolated and shared-prefix statistics. */
const keysThatLeaveExamplesAlone = new Set(['data', 'split', 'seed', 'selection', 'evaluation', 'quality', 'correlation', 'inContextShots', 'histogramExamples', 'masks', 'model', 'template', 'scoring']);

/** Masks whose statistics of an example do not depend on the rest of the pool. */
const poolFreeMasks = new Set(['isolated', 'shared-prefix']);

interface Entry {
  stats: string;
  vector?: number[];
}

interface UnitFile {
  site?: SiteName;
  examples?: ExampleDigest[];
  stats: string;
  vectors?: number[][];
}

const unitName = new RegExp(`^extract-(?:(${siteNames.join('|')})-)?(isolated|shared-prefix|in-context)-\\d+\\.json$`);

export class ReusableUnits {
  private constructor(
    readonly dir: string,
    private readonly entries: Map<string, Entry>,
    private readonly vectorsUsable: boolean,
  ) {}

  /**
   * The reusable per-example results of the run in `dir`, or why none can be reused (a different
   * model, template, instruction, span, sites' engine settings, …).
   */
  static async load(dir: string, now: { config: unknown; modelSha256: string; inputs: RunInputs }): Promise<ReusableUnits | { refused: string }> {
    let record;
    try {
      record = await readRunRecord(dir);
    } catch (error) {
      return { refused: `${path.join(dir, 'run.json')} cannot be read (${(error as Error).message})` };
    }
    if (!record) return { refused: `${dir} holds no run (no run.json)` };
    if (!record.model) return { refused: `${dir}: its run failed before its model loaded` };
    if (record.model.sha256 !== now.modelSha256) return { refused: `${dir} used another model file (sha256 ${record.model.sha256.slice(0, 12)}…)` };
    const blocking = changedComputationKeys(record.config, now.config).filter((key) => !keysThatLeaveExamplesAlone.has(key));
    if (blocking.length > 0) return { refused: `${dir} was run with a different ${blocking.map((k) => `\`${k}\``).join(', ')}, which changes every example's statistics` };
    if (record.inputs?.template?.sha256 !== now.inputs.template?.sha256) return { refused: `${dir} used another template` };
    // Vectors are reused only when they embed the same way: the same site and layer (runs from before
    // vectorSite existed read the MLP output).
    const vectorSource = (c: unknown): string => {
      const selection = (c as { selection?: { vectorSite?: unknown; vectorLayer?: unknown } })?.selection;
      return JSON.stringify([selection?.vectorSite ?? vectorSiteBeforeOption, selection?.vectorLayer ?? null]);
    };
    const store = new CheckpointStore(dir);
    const entries = new Map<string, Entry>();
    for (const name of await store.units()) {
      const match = unitName.exec(name);
      const test = /^extract-test-\d+\.json$/.test(name);
      if (!match && !test) continue;
      const mask = test ? 'isolated' : match![2]!;
      if (!poolFreeMasks.has(mask)) continue;
      let unit: UnitFile;
      try {
        unit = JSON.parse(await readFile(store.file(name), 'utf8')) as UnitFile;
      } catch {
        continue; // a corrupt unit is simply not reused
      }
      if (!unit.examples) continue; // written before units recorded their examples
      const site = unit.site ?? (test ? 'mlp_out' : ((match![1] as SiteName | undefined) ?? 'mlp_out'));
      const byExample = new Map<number, string>();
      for (const line of unit.stats.split('\n')) {
        if (line === '') continue;
        const example = Number(line.slice(0, line.indexOf(',')));
        byExample.set(example, (byExample.get(example) ?? '') + line + '\n');
      }
      unit.examples.forEach(([index, , digest], i) => {
        const key = entryKey(site, mask, index, digest);
        const entry = entries.get(key) ?? { stats: '' };
        if (!entry.stats) entry.stats = byExample.get(index) ?? '';
        const vector = unit.vectors?.[i];
        if (vector && !entry.vector) entry.vector = vector;
        entries.set(key, entry);
      });
    }
    return new ReusableUnits(dir, entries, vectorSource(record.config) === vectorSource(now.config));
  }

  /**
   * Of `rows` (one unit's examples under `site` and `mask`), those the earlier run computed with
   * the same content, with their stats rows and (when wanted) vectors, by row index. An example
   * whose raw dumps this run wants (`dumps`) is taken only when they are copied too. Empty for a
   * mask that depends on the pool, or vectors of another layer.
   */
  async takeEach(site: SiteName, mask: string, rows: readonly DatasetRow[], statsWanted: boolean, vectorsWanted: boolean, dumps: readonly number[], layers: number, rawDir: string): Promise<Map<number, Entry>> {
    const taken = new Map<number, Entry>();
    if (!poolFreeMasks.has(mask) || (vectorsWanted && !this.vectorsUsable)) return taken;
    for (const row of rows) {
      const entry = this.entries.get(entryKey(site, mask, row.index, rowDigest(row)));
      if (!entry || (statsWanted && !entry.stats) || (vectorsWanted && !entry.vector)) continue;
      if (dumps.includes(row.index) && !(await this.copyRawDumps(row.index, layers, rawDir))) continue;
      taken.set(row.index, entry);
    }
    return taken;
  }

  /** Copies the earlier run's raw dumps of `example` (every layer) into `rawDir`; false when any is missing. */
  async copyRawDumps(example: number, layers: number, rawDir: string): Promise<boolean> {
    const from = path.join(this.dir, 'raw');
    const names = Array.from({ length: layers }, (_, layer) => `${example}_L${layer}.npy`);
    if (!names.every((name) => existsSync(path.join(from, name)))) return false;
    await mkdir(rawDir, { recursive: true });
    for (const name of names) await copyFile(path.join(from, name), path.join(rawDir, name));
    return true;
  }
}

function entryKey(site: string, mask: string, index: number, digest: string): string {
  return `${site}|${mask}|${index}|${digest}`;
}
