// The README's Slurm recipe, run for real: a one-node cluster on this machine
// (scripts/slurm/localCluster.sh), the array job with one task cancelled mid-run and submitted again,
// the dependent merge job, and results byte-identical to an unsharded run. It installs Debian's
// slurm-wlm and munge when they are missing (root), so it is not part of `npm test`: `npm run test:slurm`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { testModelPath, tinyQwen2 } from '../engine/generatedModels.js';
import { bundledCli, runCli } from '../support/runCli.js';

const run = promisify(execFile);
const root = packageRoot();
const slurmScripts = path.join(root, 'scripts', 'slurm');
const arrayScript = path.join('scripts', 'slurm', 'icl-lab-array.sbatch');
const mergeScript = path.join('scripts', 'slurm', 'icl-lab-merge.sbatch');
const shards = 3;
const killedTask = 2;
const finalStates = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

interface JobRecord {
  readonly jobId: string;
  readonly arrayTaskId?: string;
  readonly state: string;
  readonly exitCode: string;
  readonly reason: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("the README's Slurm array job on a local cluster", function () {
  this.timeout(1_800_000);
  let dir: string;
  let clusterDir: string | undefined;
  let env: NodeJS.ProcessEnv;
  let config: string;

  /** A Slurm client command against the local cluster, from the project folder (as a user submits from theirs). */
  const slurm = async (command: string, args: readonly string[]): Promise<string> => (await run(command, [...args], { cwd: root, env })).stdout.trim();
  /** Every record `scontrol show job` has for `id` (an array job has one per task). */
  const jobs = async (id: string): Promise<JobRecord[]> =>
    (await slurm('scontrol', ['show', 'job', '-o', id]))
      .split('\n')
      .filter((line) => line.includes('JobId='))
      .map((line) => {
        const field = (name: string): string | undefined => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1];
        return { jobId: field('JobId')!, arrayTaskId: field('ArrayTaskId'), state: field('JobState')!, exitCode: field('ExitCode')!, reason: field('Reason')! };
      });
  const job = async (id: string): Promise<JobRecord> => (await jobs(id))[0]!;
  const submit = async (args: readonly string[]): Promise<string> => (await slurm('sbatch', ['--parsable', ...args])).split(';')[0]!;
  const logs = async (): Promise<string> => {
    const folder = path.join(dir, 'logs');
    const names = existsSync(folder) ? (await readdir(folder)).sort() : [];
    return (await Promise.all(names.map(async (name) => `--- ${name}\n${await readFile(path.join(folder, name), 'utf8')}`))).join('\n');
  };
  /** Polls `check` until it returns a value, failing with the jobs' logs after `ms`. */
  const waitFor = async <T>(what: string, check: () => Promise<T | undefined>, ms = 900_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) assert.fail(`gave up after ${ms / 1000}s waiting for ${what}\n${await logs()}`);
      await sleep(50);
    }
  };

  before(async () => {
    // Short: munge's socket lives in the cluster folder, and a socket path has at most 107 bytes.
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-slurm-'));
    // munged wants every folder above its socket searchable by all; mkdtemp makes this one private.
    await chmod(dir, 0o755);
    await mkdir(path.join(dir, 'logs'));
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(120, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
    // Small, but each shard has about ten units, so a task can be cancelled between its first and last.
    const demo = demoRunConfig(1) as { selection: Record<string, unknown> };
    config = path.join(dir, 'study.run.json');
    await writeFile(
      config,
      JSON.stringify({
        ...demo,
        model: await testModelPath(tinyQwen2),
        split: { test: 8, probe: 4, pool: 96 },
        selection: { ...demo.selection, strategies: ['random', 'k-center-greedy'], budgets: [2], seeds: [0] },
        correlation: { bootstrap: 20, maxBootstrap: 20, permutations: 20 },
        evaluation: { bootstrap: 10 },
      }),
    );
    clusterDir = path.join(dir, 'cluster');
    const started = await run('bash', [path.join(slurmScripts, 'localCluster.sh'), 'start', clusterDir], { cwd: root });
    assert.match(started.stdout, /^export SLURM_CONF=/m);
    env = { ...process.env, SLURM_CONF: path.join(clusterDir, 'slurm.conf') };
    // In this repository npx links the project into npm's cache on first use: done once here, as a
    // user's first `npx icl-lab` would, rather than by three tasks racing to create the same entry.
    await run('npx', ['icl-lab', '--version'], { cwd: root, env });
  });

  after(async () => {
    if (clusterDir && existsSync(path.join(clusterDir, 'slurm.conf'))) {
      const stopped = await run('bash', [path.join(slurmScripts, 'localCluster.sh'), 'stop', clusterDir], { cwd: root });
      process.stderr.write(stopped.stderr);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the two sbatch files verbatim in the README', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    for (const file of [arrayScript, mergeScript]) {
      assert.ok(readme.includes('```sh\n' + (await readFile(path.join(root, file), 'utf8')) + '```\n'), `README.md does not show ${file} as it is`);
    }
  });

  it('shards, loses a task to scancel, runs it again, merges: every result CSV equals the unsharded run', async () => {
    const reference = path.join(dir, 'reference');
    const unsharded = await runCli(['run', config, '--out', reference], bundledCli);
    assert.equal(unsharded.code, 0, unsharded.stderr);

    const out = path.join(dir, 'runs', 'study');
    // The README's commands, less the GPU request this cluster has no GPU for, with the logs kept out of the project.
    const array = await submit([`--array=1-${shards}`, `--output=${dir}/logs/%x-%A_%a.out`, arrayScript, config, out, String(shards)]);
    const merge = await submit([`--dependency=afterok:${array}`, `--output=${dir}/logs/%x-%j.out`, mergeScript, config, out, String(shards)]);

    // Cancelled once its shard holds a finished unit (not its .manifest.json, written at the start), as a preemption or a node failure would stop it.
    const checkpoints = path.join(out, `shard-${killedTask}`, 'checkpoints');
    const finishedUnits = async (): Promise<string[]> => (existsSync(checkpoints) ? (await readdir(checkpoints)).filter((name) => name.endsWith('.json') && !name.startsWith('.')) : []);
    const taskId = `${array}_${killedTask}`;
    await waitFor(`a checkpoint of task ${taskId}`, async () => {
      if ((await finishedUnits()).length > 0) return true;
      const task = await job(taskId);
      if (finalStates.has(task.state)) assert.fail(`task ${taskId} ended (${task.state}) before it wrote a unit\n${await logs()}`);
      return undefined;
    });
    await slurm('scancel', [taskId]);
    const killed = await waitFor(`task ${taskId} to stop`, async () => {
      const task = await job(taskId);
      return finalStates.has(task.state) ? task : undefined;
    });
    assert.equal(killed.state, 'CANCELLED');
    const shardRecord = JSON.parse(await readFile(path.join(out, `shard-${killedTask}`, 'run.json'), 'utf8')) as { status: string };
    assert.notEqual(shardRecord.status, 'shard-complete', `task ${taskId} finished before scancel reached it`);
    const kept = (await finishedUnits()).length;

    // The same command for that one task; --resume in it continues from the units it kept.
    const rerun = await submit([`--array=${killedTask}`, `--output=${dir}/logs/%x-%A_%a.out`, arrayScript, config, out, String(shards)]);
    // afterok on the array can no longer be met (a task was cancelled): wait for the whole array and the re-run instead.
    const dependency = `afterany:${array},afterok:${rerun}`;
    await slurm('scontrol', ['update', `JobId=${merge}`, `Dependency=${dependency}`]);
    const merged = await waitFor(`merge job ${merge}`, async () => {
      const record = await job(merge);
      return finalStates.has(record.state) ? record : undefined;
    });
    const allLogs = await logs();
    assert.equal(merged.state, 'COMPLETED', allLogs);
    assert.equal(merged.exitCode, '0:0', allLogs);

    const tasks = await jobs(array);
    for (const task of tasks) assert.equal(task.state, task.arrayTaskId === String(killedTask) ? 'CANCELLED' : 'COMPLETED', `task ${task.arrayTaskId}\n${allLogs}`);
    assert.equal((await job(rerun)).state, 'COMPLETED', allLogs);
    const rerunLog = await readFile(path.join(dir, 'logs', `icl-lab-shard-${rerun}_${killedTask}.out`), 'utf8');
    const reused = /resuming .*: (\d+) finished units are reused/.exec(rerunLog);
    assert.ok(reused && Number(reused[1]) >= kept && kept > 0, `the re-run reuses the ${kept} units the cancelled task kept:\n${rerunLog}`);
    const finishing = await readFile(path.join(dir, 'logs', `icl-lab-merge-${merge}.out`), 'utf8');
    assert.match(finishing, /extract: 0 units computed/);
    assert.match(finishing, /quality: 0 units computed/);

    const csvs = async (folder: string): Promise<string[]> => (await readdir(folder)).filter((name) => name.endsWith('.csv')).sort();
    const expected = await csvs(reference);
    assert.ok(['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'predictions.csv'].every((name) => expected.includes(name)), expected.join(', '));
    assert.deepEqual(await csvs(out), expected);
    for (const name of expected) {
      assert.ok((await readFile(path.join(out, name))).equals(await readFile(path.join(reference, name))), `${name} differs from the unsharded run`);
    }

    const taskList = [...tasks]
      .sort((a, b) => Number(a.arrayTaskId) - Number(b.arrayTaskId))
      .map((task) => `task ${task.arrayTaskId} job ${task.jobId} ${task.state}`)
      .join(', ');
    console.log(`      array job ${array} (sbatch --array=1-${shards}): ${taskList}`);
    console.log(`      killed: task ${killedTask} (job ${killed.jobId}) by scancel ${taskId} once it had written a unit; it kept ${kept}, its run.json says ${shardRecord.status}`);
    console.log(`      re-run: task ${killedTask} as job ${rerun} (sbatch --array=${killedTask}, same command): ${reused![1]} finished units reused`);
    console.log(`      merge job ${merge} (afterok:${array}, then ${dependency}): ${merged.state}, exit ${merged.exitCode}`);
    console.log(`      byte-identical to the unsharded run: ${expected.join(', ')}`);
  });
});
