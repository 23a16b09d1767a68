// `icl-lab merge SHARD_DIR... --out DIR`: joins the folders of `icl-lab run --shard I/N` into one
// run folder. Units are the same chunks an unsharded run computes, so after `icl-lab run CONFIG
// --out DIR --resume` finishes the remaining phases, the folder equals an unsharded run's.
import { recordedModel } from '../core/experiment/modelLabel.js';
import { compareRunInputs } from '../core/experiment/runInputs.js';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { changedComputationKeys } from '../core/experiment/runConfig.js';
import { readRunRecord, writeAtomic, type PhaseRecord, type RunRecord } from '../core/experiment/runExperiment.js';
import { acquireRunLock, type RunLock } from '../core/experiment/runLock.js';

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('join the run folders of every shard (icl-lab run --shard I/N) into one run folder')
    .argument('<shards...>', 'the shard run folders, one per shard')
    .requiredOption('--out <dir>', 'run folder to create')
    .action(async (shards: string[], options: { out: string }) => {
      process.exitCode = await runMerge(shards, path.resolve(options.out));
    });
}

export async function runMerge(shardDirs: readonly string[], out: string): Promise<number> {
  let lock: RunLock | undefined;
  try {
    const records: RunRecord[] = [];
    for (const dir of shardDirs) {
      const record = await readRunRecord(dir);
      if (!record) throw new Error(`${dir}: no run.json; is it a run folder?`);
      if (record.shard === undefined) throw new Error(`${dir}: not a shard folder (it was not run with --shard)`);
      if (record.status !== 'shard-complete') throw new Error(`${dir}: shard ${record.shard} is ${record.status}; finish it with \`icl-lab run CONFIG --out ${dir} --shard ${record.shard} --resume\``);
      records.push(record);
    }
    const first = records[0]!;
    const count = Number(first.shard!.split('/')[1]);
    const seen = new Map<number, string>();
    for (const [i, record] of records.entries()) {
      const [index, n] = record.shard!.split('/').map(Number) as [number, number];
      if (n !== count) throw new Error(`${shardDirs[i]} is shard ${record.shard}, ${shardDirs[0]} is shard ${first.shard}: they split the work differently`);
      if (seen.has(index)) throw new Error(`${shardDirs[i]} and ${seen.get(index)} are both shard ${record.shard}`);
      seen.set(index, shardDirs[i]!);
      const changed = changedComputationKeys(first.config, record.config);
      if (changed.length > 0) throw new Error(`${shardDirs[i]} was run with a different config than ${shardDirs[0]} (${changed.join(', ')})`);
      if (recordedModel(record, shardDirs[i]!).sha256 !== recordedModel(first, shardDirs[0]!).sha256) throw new Error(`${shardDirs[i]} used a different model file than ${shardDirs[0]}`);
      // Shards of one run read the same files and resolved the same examples.
      if (first.inputs && record.inputs) {
        const { differences } = compareRunInputs(first.inputs, record.inputs);
        if (differences.length > 0) throw new Error(`${shardDirs[i]} was computed from other inputs than ${shardDirs[0]}: ${differences.join('; ')}`);
      }
    }
    const missing = Array.from({ length: count }, (_, k) => k + 1).filter((index) => !seen.has(index));
    if (missing.length > 0) throw new Error(`shard${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m}/${count}`).join(', ')} missing: give every shard's folder`);
    // Held to the end, so a run or another merge cannot write into the folder meanwhile.
    lock = await acquireRunLock(out);
    if (existsSync(path.join(out, 'run.json'))) throw new Error(`${out} already holds a run; merge into a new folder`);

    let units = 0;
    for (const sub of ['checkpoints', 'raw']) {
      // Only what a shard has: an empty raw/ would make the finished run write header-only histograms an unsharded run does not.
      if (!shardDirs.some((dir) => existsSync(path.join(dir, sub)))) continue;
      await mkdir(path.join(out, sub), { recursive: true });
      for (const dir of shardDirs) {
        const from = path.join(dir, sub);
        if (!existsSync(from)) continue;
        // Not the shards' manifests (each names its shard): the finishing run writes the merged folder's.
        for (const name of (await readdir(from)).filter((n) => !n.endsWith('.partial') && !n.startsWith('.')).sort()) {
          const target = path.join(out, sub, name);
          // Units every shard computes alike (none today) must agree byte for byte.
          if (existsSync(target)) {
            if (!(await readFile(target)).equals(await readFile(path.join(from, name)))) throw new Error(`${path.join(from, name)} differs from the same file of another shard`);
            continue;
          }
          await copyFile(path.join(from, name), target);
          if (sub === 'checkpoints') units++;
        }
      }
    }
    // Each sharded phase's time and units over every shard (and each shard's own resumes).
    const phases: RunRecord['phases'] = {};
    for (const shard of records) {
      for (const [name, p] of Object.entries(shard.phases) as [keyof RunRecord['phases'], PhaseRecord][]) {
        if (name !== 'extract' && name !== 'quality') continue;
        const sum = phases[name];
        phases[name] = { status: 'complete', wallMs: (sum?.wallMs ?? 0) + p.wallMs, computed: (sum?.computed ?? 0) + p.computed, reused: 0, invocations: (sum?.invocations ?? 0) + (p.invocations ?? 1) };
      }
    }
    const merged: RunRecord = { ...first, status: 'merged', phases };
    delete merged.shard;
    await writeAtomic(path.join(out, 'run.json'), JSON.stringify(merged, null, 2) + '\n');
    console.log(`${count} shards, ${units} units → ${out}`);
    console.log(`finish the run (correlations, selection, evaluation, report) with: icl-lab run CONFIG --out ${out} --resume`);
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await lock?.release();
  }
}
