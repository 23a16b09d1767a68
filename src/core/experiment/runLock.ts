// One process at a time per run folder: `run.lock` names the process that runs (or merges into) the
// folder. Without it two `icl-lab run`s on one folder both write, and run.json keeps only the last
// pid, so a Cancel reaches one of them. The lock records the process's start time beside its pid so
// a pid the system has since given to another process does not keep a dead run's lock alive.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './runFolders.js';

export const runLockName = 'run.lock';
/** Held only while a stale lock is swapped for a new one, so two takers cannot both remove and recreate it. */
const takeoverName = 'run.lock.takeover';
/**
 * How old an unreadable lock (or takeover guard) must be before it counts as abandoned. A lock is
 * created empty and written a moment later, so a young unreadable one is most likely mid-write.
 */
const defaultUnreadableGraceMs = 5_000;
/** Pauses while a lock is mid-write or being taken over, then a refusal. */
const retryDelayMs = 25;
const maxAttempts = 40;

export interface RunLockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
  /** The process's start time (Linux: /proc/<pid>/stat starttime, clock ticks since boot); absent where unknown. */
  readonly processStart?: string;
}

export interface RunLock {
  readonly dir: string;
  readonly file: string;
  readonly holder: RunLockHolder;
  /** Removes the lock file if it is still this holder's; later calls do nothing. */
  release(): Promise<void>;
}

/** Seams for tests; the defaults describe the calling process on this machine. */
export interface RunLockOptions {
  readonly pid?: number;
  readonly host?: string;
  readonly processStartOf?: (pid: number) => string | undefined;
  readonly alive?: (pid: number) => boolean;
  readonly unreadableGraceMs?: number;
}

export class RunLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: RunLockHolder | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** The start time of process `pid` as the kernel records it; undefined where /proc is absent (macOS, Windows) or the process is gone. */
export function processStartOf(pid: number): string | undefined {
  try {
    return startTimeFromProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Field 22 (starttime, clock ticks since boot) of a /proc/<pid>/stat line. The command name (field
 * 2) is in parentheses and may itself hold spaces and parentheses, so fields are counted after the last ')'.
 */
export function startTimeFromProcStat(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')' come fields 3 (state), 4, …: field 22 is the 20th.
  const starttime = stat.slice(close + 1).trim().split(/\s+/)[19];
  return starttime !== undefined && /^\d+$/.test(starttime) ? starttime : undefined;
}

export type RunLockHolderState = 'running' | 'gone' | 'other-host';

/**
 * Whether a lock's holder still runs: `gone` when its pid is dead or now belongs to a process that
 * started at another time; `other-host` when it was taken on another machine, whose processes this
 * one cannot see.
 */
export function runLockHolderState(holder: RunLockHolder, options: RunLockOptions = {}): RunLockHolderState {
  if (holder.host !== (options.host ?? os.hostname())) return 'other-host';
  if (!(options.alive ?? processAlive)(holder.pid)) return 'gone';
  if (holder.processStart === undefined) return 'running';
  const now = (options.processStartOf ?? processStartOf)(holder.pid);
  return now === undefined || now === holder.processStart ? 'running' : 'gone';
}

export function runLockHolderAlive(holder: RunLockHolder, options: RunLockOptions = {}): boolean {
  return runLockHolderState(holder, options) === 'running';
}

/**
 * The process a Cancel should signal: the lock's holder when the folder has a lock (run.json's pid
 * may name a second run the lock refused, or an older one), else run.json's pid (a run started by a
 * version without locks); undefined when neither still runs here.
 */
export function pidToSignal(holder: RunLockHolder | undefined, recordPid: number | undefined, options: RunLockOptions = {}): number | undefined {
  if (holder) return runLockHolderAlive(holder, options) ? holder.pid : undefined;
  return recordPid !== undefined && (options.alive ?? processAlive)(recordPid) ? recordPid : undefined;
}

/** The holder named in `dir`'s lock; undefined when there is none or it cannot be read. */
export async function readRunLock(dir: string): Promise<RunLockHolder | undefined> {
  const text = await readFile(path.join(dir, runLockName), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseHolder(text);
}

/**
 * Takes `dir`'s lock (creating the folder), or throws RunLockedError naming the process that holds
 * it. A lock whose process is gone is taken over. A lock from another host is refused, since its
 * process cannot be checked from here; so is an unreadable lock younger than a few seconds (its
 * writer may be mid-write); an older unreadable one is taken over.
 */
export async function acquireRunLock(dir: string, options: RunLockOptions = {}): Promise<RunLock> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, runLockName);
  const pid = options.pid ?? process.pid;
  const processStart = (options.processStartOf ?? processStartOf)(pid);
  const holder: RunLockHolder = { pid, host: options.host ?? os.hostname(), startedAt: new Date().toISOString(), ...(processStart === undefined ? {} : { processStart }) };
  const graceMs = options.unreadableGraceMs ?? defaultUnreadableGraceMs;
  const text = JSON.stringify(holder, null, 2) + '\n';

  let refusal: RunLockedError | undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0 && refusal) await delay(retryDelayMs);
    if (await createExclusive(file, text)) return heldLock(dir, file, holder);
    const found = await readLockFile(file);
    if (!found) continue; // released between our create and our read
    const current = found.holder;
    if (current) {
      const state = runLockHolderState(current, options);
      if (state === 'running') throw new RunLockedError(dir, current, heldMessage(dir, current));
      if (state === 'other-host') throw new RunLockedError(dir, current, otherHostMessage(dir, file, current, holder.host));
    } else if (Date.now() - found.modifiedMs < graceMs) {
      refusal = new RunLockedError(dir, undefined, `${file} is being written or cannot be read; try again in a moment, or delete it if no icl-lab process uses ${dir}`);
      continue;
    }
    const outcome = await takeOver(dir, file, found.text, text, graceMs);
    if (outcome === 'taken') return heldLock(dir, file, holder);
    refusal = new RunLockedError(dir, undefined, `another icl-lab process is taking over the stale lock ${file}; try again in a moment`);
  }
  throw refusal ?? new RunLockedError(dir, undefined, `could not take ${file}`);
}

function heldLock(dir: string, file: string, holder: RunLockHolder): RunLock {
  let released = false;
  return {
    dir,
    file,
    holder,
    async release() {
      if (released) return;
      released = true;
      const current = await readRunLock(dir);
      // Someone who took over a lock we had lost (a frozen process judged gone) keeps theirs.
      if (!current || current.pid !== holder.pid || current.processStart !== holder.processStart || current.startedAt !== holder.startedAt || current.host !== holder.host) return;
      await unlink(file).catch(ignoreMissing);
    },
  };
}

/**
 * Replaces the stale lock whose text was `staleText`, under a takeover guard: without it, one taker
 * could remove the lock another taker had just created. `busy` when another process holds the guard
 * or the lock changed since it was judged stale; the caller then looks again.
 */
async function takeOver(dir: string, file: string, staleText: string, text: string, graceMs: number): Promise<'taken' | 'busy'> {
  const guard = path.join(dir, takeoverName);
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    // A guard is held for milliseconds; an old one was left by a process that died holding it.
    const guardStat = await stat(guard).catch(() => undefined);
    if (guardStat && Date.now() - guardStat.mtimeMs >= graceMs) await unlink(guard).catch(ignoreMissing);
    return 'busy';
  }
  try {
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== undefined && current !== staleText) return 'busy';
    if (current !== undefined) await unlink(file).catch(ignoreMissing);
    return (await createExclusive(file, text)) ? 'taken' : 'busy';
  } finally {
    await unlink(guard).catch(ignoreMissing);
  }
}

/** Creates `file` holding `text` unless it exists (O_EXCL: of several creators exactly one succeeds). */
async function createExclusive(file: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  return true;
}

async function readLockFile(file: string): Promise<{ text: string; holder: RunLockHolder | undefined; modifiedMs: number } | undefined> {
  try {
    const modifiedMs = (await stat(file)).mtimeMs;
    const text = await readFile(file, 'utf8');
    return { text, holder: parseHolder(text), modifiedMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseHolder(text: string): RunLockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, startedAt, processStart } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || typeof host !== 'string' || typeof startedAt !== 'string') return undefined;
  if (processStart !== undefined && typeof processStart !== 'string') return undefined;
  return { pid, host, startedAt, ...(processStart === undefined ? {} : { processStart }) };
}

function heldMessage(dir: string, holder: RunLockHolder): string {
  return `${dir} is in use by icl-lab process ${holder.pid} on ${holder.host} since ${holder.startedAt}; wait for it to finish, or stop it (Ctrl-C in its terminal, \`kill -INT ${holder.pid}\`, or Cancel Run in VS Code; finished work is kept) and resume with --resume`;
}

function otherHostMessage(dir: string, file: string, holder: RunLockHolder, host: string): string {
  return `${dir} is locked by icl-lab process ${holder.pid} on host ${holder.host} since ${holder.startedAt}, which this host (${host}) cannot check; if that run is gone, delete ${file} and try again`;
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
