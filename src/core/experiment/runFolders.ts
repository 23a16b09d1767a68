// The runs under a folder, each with the state a viewer shows: a run.json that says `running`
// but whose process is gone was interrupted (a crash, a kill, a closed window) and can be resumed.
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readRunRecord, type RunRecord } from './runExperiment.js';

export type RunState = 'running' | 'interrupted' | 'complete' | 'shard-complete' | 'merged' | 'cancelled' | 'failed';

export interface RunFolder {
  readonly dir: string;
  readonly name: string;
  readonly record: RunRecord;
  readonly state: RunState;
  /** run.json's modification time: the runs view lists the newest first. */
  readonly modified: Date;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function runState(record: RunRecord, alive: (pid: number) => boolean = processAlive): RunState {
  if (record.status === 'running') return typeof record.pid === 'number' && alive(record.pid) ? 'running' : 'interrupted';
  return record.status;
}

/** Every direct subfolder of `root` holding a readable run.json, newest first. */
export async function listRunFolders(root: string): Promise<RunFolder[]> {
  if (!existsSync(root)) return [];
  const runs: RunFolder[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    const record = await readRunRecord(dir).catch(() => undefined);
    if (!record) continue;
    runs.push({ dir, name: entry.name, record, state: runState(record), modified: (await stat(path.join(dir, 'run.json'))).mtime });
  }
  return runs.sort((a, b) => b.modified.getTime() - a.modified.getTime() || a.name.localeCompare(b.name));
}

/** The phase a run is in (or stopped in), for one-line summaries. */
export function currentPhase(record: RunRecord): string | undefined {
  const phases = Object.entries(record.phases);
  return phases.find(([, p]) => p.status !== 'complete')?.[0] ?? phases.at(-1)?.[0];
}
