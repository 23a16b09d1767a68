// `icl-lab doctor RUN`: what a run folder holds, what is stale (its inputs changed since), what is
// corrupt (checkpoints or raw dumps that do not parse), and what a resume would do about each —
// without changing anything. The same checks a resume makes, collected instead of stopping at the
// first.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeNpyFloat32 } from '../report/activationHistograms.js';
import { sha256File } from '../format/fileDigest.js';
import { readCheckpointManifest, type CheckpointManifest } from './checkpointManifest.js';
import { CheckpointStore } from './checkpointStore.js';
import { changedComputationKeys, type RunConfig } from './runConfig.js';
import { prepareRun, readRunRecord, runInputsFor, type RunRecord } from './runExperiment.js';
import { runState } from './runFolders.js';
import { compareRunInputs, rowLinesOf, type ExampleDigest } from './runInputs.js';
import { readRunLock, runLockHolderState } from './runLock.js';

export type FindingLevel = 'ok' | 'note' | 'stale' | 'corrupt' | 'missing';

export interface Finding {
  readonly level: FindingLevel;
  readonly what: string;
}

export interface DoctorReport {
  readonly dir: string;
  readonly findings: readonly Finding[];
  /** True when nothing is stale, corrupt or missing. */
  readonly healthy: boolean;
}

export interface DoctorOptions {
  /** Hash the model file to compare with the recorded sha256 (a full read of the file). Default true. */
  readonly hashModel?: boolean;
}

export async function inspectRunFolder(dir: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const add = (level: FindingLevel, what: string): void => void findings.push({ level, what });
  if (!existsSync(dir)) return { dir, findings: [{ level: 'missing', what: `${dir}: no such folder` }], healthy: false };

  // The record and the manifest: who ran what.
  let record: RunRecord | undefined;
  try {
    record = await readRunRecord(dir);
    if (record) add('ok', `run.json: ${runState(record)}${record.error ? ` (${record.error})` : ''}${record.shard ? `, shard ${record.shard}` : ''}`);
  } catch (error) {
    add('corrupt', `run.json cannot be read (${(error as Error).message})`);
  }
  let manifest: CheckpointManifest | undefined;
  try {
    manifest = await readCheckpointManifest(dir);
  } catch (error) {
    add('corrupt', (error as Error).message);
  }
  const store = new CheckpointStore(dir);
  const units = await store.units();
  if (!record && units.length > 0) add('missing', `run.json: absent beside ${units.length} checkpoints${manifest ? ' (their manifest names the run: `icl-lab run CONFIG --out DIR --resume` rebuilds run.json when config, inputs and model match)' : ' and no manifest names their run'}`);
  if (record && manifest) {
    const changed = changedComputationKeys(record.config, manifest.config);
    if (changed.length > 0) add('stale', `checkpoints/.manifest.json names another config than run.json (${changed.join(', ')})`);
    if (record.model && record.model.sha256 !== manifest.model.sha256) add('stale', 'checkpoints/.manifest.json names another model than run.json');
  }
  const holder = await readRunLock(dir);
  if (holder) {
    const state = runLockHolderState(holder);
    add(state === 'gone' ? 'note' : 'ok', `run.lock: pid ${holder.pid} on ${holder.host} since ${holder.startedAt} — ${state === 'running' ? 'running now' : state === 'gone' ? 'gone (the next run takes the lock over)' : 'on another host (cannot be checked from here)'}`);
  }

  // The inputs, then as now.
  const facts = record ?? manifest;
  const config = facts?.config as RunConfig | undefined;
  let expected: Map<number, ExampleDigest> | undefined;
  if (config && facts) {
    try {
      const prepared = await prepareRun(config);
      const now = await runInputsFor(config, prepared);
      expected = new Map([...now.splits.pool, ...now.splits.probe, ...now.splits.test].map((e) => [e[0], e]));
      if (!facts.inputs) add('note', 'the run did not record its inputs (a version from before digests): they cannot be checked');
      else {
        const { differences, notes } = compareRunInputs(facts.inputs, now, rowLinesOf(prepared.splits));
        for (const d of differences) add('stale', d);
        for (const n of notes) add('note', n);
        if (differences.length === 0) add('ok', `inputs unchanged: ${path.basename(now.data.file)}${now.humanLabels ? `, ${path.basename(now.humanLabels.file)}` : ''}${now.template ? `, ${path.basename(now.template.file)}` : ''}; ${now.splits.pool.length} pool, ${now.splits.probe.length} probe, ${now.splits.test.length} test examples`);
      }
    } catch (error) {
      add('stale', `the recorded config cannot be prepared now: ${(error as Error).message}`);
    }
    const model = facts.model;
    if (model) {
      if (!existsSync(model.path)) add('missing', `model ${model.path} is gone`);
      else if (options.hashModel !== false) {
        const sha256 = await sha256File(model.path);
        add(sha256 === model.sha256 ? 'ok' : 'stale', sha256 === model.sha256 ? `model ${path.basename(model.path)}: sha256 matches` : `model ${model.path} changed since the run (sha256 ${model.sha256.slice(0, 12)}… → ${sha256.slice(0, 12)}…)`);
      }
    }
  }

  // The checkpoints: each must parse, and those recording examples must cover today's.
  const names = existsSync(store.dir) ? await readdir(store.dir) : [];
  for (const name of names.filter((n) => n.endsWith('.partial'))) add('note', `checkpoints/${name}: an interrupted write (a resume removes it)`);
  for (const name of names.filter((n) => /\.corrupt(\.\d+)?$/.test(n))) add('note', `checkpoints/${name}: set aside by an earlier resume`);
  let parsed = 0;
  let staleUnits = 0;
  for (const unit of units) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(store.file(unit), 'utf8'));
      parsed++;
    } catch (error) {
      add('corrupt', `checkpoints/${unit} does not parse (${(error as Error).message.split('\n')[0]}): a resume sets it aside and recomputes it`);
      continue;
    }
    const examples = (value as { examples?: ExampleDigest[] } | null)?.examples;
    if (expected && Array.isArray(examples) && examples.some((e) => expected.get(e[0])?.[2] !== e[2])) {
      staleUnits++;
      if (staleUnits <= 5) add('stale', `checkpoints/${unit} was computed for examples whose content changed since`);
    }
  }
  if (staleUnits > 5) add('stale', `… and ${staleUnits - 5} more units computed for examples that changed`);
  if (units.length > 0) add('ok', `${parsed} of ${units.length} checkpoints parse`);

  // Raw dumps (the histograms' input).
  const rawDir = path.join(dir, 'raw');
  if (existsSync(rawDir)) {
    let good = 0;
    const dumps = (await readdir(rawDir)).filter((n) => n.endsWith('.npy'));
    for (const name of dumps) {
      try {
        decodeNpyFloat32(await readFile(path.join(rawDir, name)), name);
        good++;
      } catch (error) {
        add('corrupt', `raw/${(error as Error).message}: a resume recomputes its unit`);
      }
    }
    add('ok', `${good} of ${dumps.length} raw dumps decode`);
  }

  // Result files a finished run has.
  if (record && ['complete', 'merged'].includes(record.status)) {
    for (const name of ['stats.csv', 'quality.csv', 'correlations.csv', 'curves.csv']) {
      if (!existsSync(path.join(dir, name))) add('missing', `${name}: absent though the run is ${record.status} (\`--resume\` writes it again from the checkpoints)`);
    }
  }
  return { dir, findings, healthy: !findings.some((f) => f.level === 'stale' || f.level === 'corrupt' || f.level === 'missing') };
}
