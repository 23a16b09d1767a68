import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runMerge } from '../../src/cli/merge.js';
import {
  acquireRunLock,
  pidToSignal,
  processStartOf,
  readRunLock,
  runLockHolderState,
  RunLockedError,
  runLockName,
  startTimeFromProcStat,
  type RunLockHolder,
} from '../../src/core/experiment/runLock.js';

const host = os.hostname();
const hasProc = existsSync(`/proc/${process.pid}/stat`);

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid, 'spawned node');
  return child.pid;
}

/** A live process of ours that waits until killed. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
}

const writeLock = async (dir: string, holder: RunLockHolder): Promise<void> => {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, runLockName), JSON.stringify(holder));
};
const lockText = async (dir: string): Promise<unknown> => JSON.parse(await readFile(path.join(dir, runLockName), 'utf8'));

describe('run lock', () => {
  let root: string;
  let count = 0;
  const fresh = (): string => path.join(root, `run-${++count}`);
  const children: ChildProcess[] = [];
  before(async () => (root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-lock-'))));
  after(async () => {
    for (const child of children) child.kill();
    await rm(root, { recursive: true, force: true });
  });

  it('creates the folder and a run.lock naming this process, its host, the time and its start', async () => {
    const dir = path.join(fresh(), 'not', 'yet');
    const lock = await acquireRunLock(dir);
    const written = (await lockText(dir)) as RunLockHolder;
    assert.equal(written.pid, process.pid);
    assert.equal(written.host, host);
    assert.ok(Math.abs(Date.parse(written.startedAt) - Date.now()) < 60_000, written.startedAt);
    assert.equal(written.processStart, processStartOf(process.pid));
    if (hasProc) assert.match(written.processStart ?? '', /^\d+$/);
    assert.deepEqual(await readRunLock(dir), written);
    assert.deepEqual(lock.holder, written);
    await lock.release();
  });

  it('refuses a second lock while the holder runs, naming the folder, the pid, the host and since when', async () => {
    const dir = fresh();
    const lock = await acquireRunLock(dir);
    await assert.rejects(acquireRunLock(dir), (error: unknown) => {
      assert.ok(error instanceof RunLockedError);
      assert.equal(error.holder?.pid, process.pid);
      for (const part of [dir, `process ${process.pid}`, host, lock.holder.startedAt, 'kill -INT', 'Cancel Run']) assert.ok(error.message.includes(part), `${part} in: ${error.message}`);
      return true;
    });
    assert.deepEqual(await lockText(dir), lock.holder, 'the refused attempt left the lock alone');
    await lock.release();
  });

  it('takes over the lock of a process that has exited', async () => {
    const dir = fresh();
    await writeLock(dir, { pid: deadPid(), host, startedAt: '2020-01-01T00:00:00.000Z', processStart: '1' });
    const lock = await acquireRunLock(dir);
    assert.equal(((await lockText(dir)) as RunLockHolder).pid, process.pid);
    await lock.release();
  });

  it('takes over the lock of a live pid that now belongs to a process started at another time', async () => {
    const child = sleeper();
    children.push(child);
    const pid = child.pid!;
    const dir = fresh();
    await writeLock(dir, { pid, host, startedAt: '2020-01-01T00:00:00.000Z', processStart: 'recorded-start' });
    const startOf = (p: number): string => (p === pid ? 'current-start' : 'our-start');
    const sameStart = (p: number): string => (p === pid ? 'recorded-start' : 'our-start');
    await assert.rejects(acquireRunLock(dir, { processStartOf: sameStart }), RunLockedError, 'the same start: the holder still runs');
    const lock = await acquireRunLock(dir, { processStartOf: startOf });
    assert.equal(((await lockText(dir)) as RunLockHolder).pid, process.pid);
    await lock.release();
    child.kill();
  });

  it('tells a reused pid from its start time in /proc', function () {
    if (!hasProc) this.skip();
    const start = processStartOf(process.pid)!;
    const holder = { pid: process.pid, host, startedAt: '' };
    assert.equal(runLockHolderState({ ...holder, processStart: start }), 'running');
    assert.equal(runLockHolderState({ ...holder, processStart: String(Number(start) + 1) }), 'gone');
    assert.equal(runLockHolderState({ ...holder, pid: deadPid() }), 'gone');
  });

  it('reads the start time after the last parenthesis of the command name', () => {
    const fields = (comm: string): string => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 123456 789 18446744073709551615`;
    assert.equal(startTimeFromProcStat(fields('node')), '987654');
    assert.equal(startTimeFromProcStat(fields('a) b (c) 1 2 3')), '987654');
    assert.equal(startTimeFromProcStat('4242 (node'), undefined);
    assert.equal(startTimeFromProcStat('4242 (node) S 1 2'), undefined);
  });

  it('releases only its own lock, once', async () => {
    const dir = fresh();
    const lock = await acquireRunLock(dir);
    await lock.release();
    assert.equal(existsSync(path.join(dir, runLockName)), false);
    await lock.release();

    const taken = await acquireRunLock(dir);
    const successor: RunLockHolder = { pid: process.pid, host, startedAt: '2030-01-01T00:00:00.000Z', processStart: 'another-start' };
    await writeLock(dir, successor);
    await taken.release();
    assert.deepEqual(await lockText(dir), successor, 'a lock someone else holds now stays');
  });

  it('lets exactly one of many simultaneous takers win, on a free folder and on a stale lock', async () => {
    // A broken takeover lets a second taker win only in some interleavings: several rounds.
    for (const stale of [false, false, true, true, true, true, true, true, true, true]) {
      const dir = fresh();
      if (stale) await writeLock(dir, { pid: deadPid(), host, startedAt: '2020-01-01T00:00:00.000Z' });
      const outcomes = await Promise.allSettled(Array.from({ length: 24 }, () => acquireRunLock(dir)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1, `stale ${stale}: ${outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'won')).join(' | ')}`);
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof RunLockedError, String(o.reason));
      assert.equal(existsSync(path.join(dir, 'run.lock.takeover')), false, 'no takeover guard left behind');
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRunLock>>>).value.release();
    }
  });

  it('lets exactly one of several processes take a stale lock', async function () {
    this.timeout(120_000);
    const dir = fresh();
    await writeLock(dir, { pid: deadPid(), host, startedAt: '2020-01-01T00:00:00.000Z' });
    const script = `import { acquireRunLock } from ${JSON.stringify(pathToFileURL(path.resolve('src/core/experiment/runLock.ts')).href)};
      acquireRunLock(${JSON.stringify(dir)}).then(() => { console.log('won'); setTimeout(() => {}, 3000); }, (error) => console.log(error.name));`;
    const outcome = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('error', reject);
        child.on('exit', () => resolve(out.trim()));
      });
    const outcomes = await Promise.all(Array.from({ length: 4 }, outcome));
    assert.deepEqual(outcomes.sort(), ['RunLockedError', 'RunLockedError', 'RunLockedError', 'won']);
  });

  it('waits out a young unreadable lock (its writer may be mid-write), then refuses; an old one is taken over', async () => {
    const dir = fresh();
    await mkdir(dir);
    const file = path.join(dir, runLockName);
    await writeFile(file, '{ "pid": 12');
    await assert.rejects(acquireRunLock(dir), (error: unknown) => error instanceof RunLockedError && error.message.includes(file) && /being written/.test(error.message));
    assert.equal(await readRunLock(dir), undefined);
    const old = (Date.now() - 60_000) / 1000;
    await utimes(file, old, old);
    const lock = await acquireRunLock(dir);
    assert.equal(((await lockText(dir)) as RunLockHolder).pid, process.pid);
    await lock.release();
  });

  it('refuses a lock taken on another host, saying it cannot be checked and which file to delete', async () => {
    const dir = fresh();
    const file = path.join(dir, runLockName);
    await writeLock(dir, { pid: deadPid(), host: 'gpu7.elsewhere', startedAt: '2020-01-01T00:00:00.000Z' });
    await assert.rejects(acquireRunLock(dir), (error: unknown) => {
      assert.ok(error instanceof RunLockedError);
      for (const part of ['gpu7.elsewhere', 'cannot check', `delete ${file}`]) assert.ok(error.message.includes(part), `${part} in: ${error.message}`);
      return true;
    });
    assert.equal(((await lockText(dir)) as RunLockHolder).host, 'gpu7.elsewhere');
  });

  it('signals the lock holder on cancel, not a different pid in run.json, and nothing when the holder is gone', () => {
    const alive = (pid: number): boolean => pid === 100 || pid === 200;
    const options = { host, alive, processStartOf: () => undefined };
    const holder = { pid: 100, host, startedAt: '' };
    assert.equal(pidToSignal(holder, 200, options), 100);
    assert.equal(pidToSignal(holder, 100, options), 100);
    assert.equal(pidToSignal({ ...holder, pid: 300 }, 200, options), undefined, 'a dead holder: not running, whatever run.json says');
    assert.equal(pidToSignal({ ...holder, host: 'gpu7.elsewhere' }, 200, options), undefined);
    assert.equal(pidToSignal(undefined, 200, options), 200, 'no lock (a run from before locks): run.json’s pid');
    assert.equal(pidToSignal(undefined, 300, options), undefined);
    assert.equal(pidToSignal(undefined, undefined, options), undefined);
  });
});

describe('icl-lab merge and the run lock', () => {
  let root: string;
  let shard: string;
  let errors: string[];
  const consoleError = console.error;
  const consoleLog = console.log;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-merge-lock-'));
    shard = path.join(root, 'shard-1');
    await mkdir(shard);
    const record = { format: 'icl-lab-run/1', status: 'shard-complete', shard: '1/1', pid: 1, startedAt: '', seed: 0, config: {}, model: { sha256: 'ab' }, data: { file: '', pool: 0, probe: 0, test: 0 }, versions: {}, phases: {} };
    await writeFile(path.join(shard, 'run.json'), JSON.stringify(record));
  });
  beforeEach(() => {
    errors = [];
    console.error = (message: string) => void errors.push(message);
    console.log = () => undefined;
  });
  afterEach(() => {
    console.error = consoleError;
    console.log = consoleLog;
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('refuses to merge into a folder another process holds, exit code 1, and merges once it is free', async () => {
    const out = path.join(root, 'merged');
    const lock = await acquireRunLock(out);
    assert.equal(await runMerge([shard], out), 1);
    assert.match(errors.join('\n'), new RegExp(`^error: .*merged is in use by icl-lab process ${process.pid} on `));
    assert.equal(existsSync(path.join(out, 'run.json')), false);
    await lock.release();

    assert.equal(await runMerge([shard], out), 0, errors.join('\n'));
    assert.equal(JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')).status, 'merged');
    assert.equal(existsSync(path.join(out, runLockName)), false, 'the merge released its lock');
    // No shard has raw/: neither has the merged folder (else the finished run writes header-only histograms).
    assert.equal(existsSync(path.join(out, 'raw')), false);
  });
});
