import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { currentPhase, listRunFolders, processAlive, runState } from '../../src/core/experiment/runFolders.js';
import type { RunRecord } from '../../src/core/experiment/runExperiment.js';

const record = (status: RunRecord['status'], pid: number, phases: RunRecord['phases'] = {}): RunRecord =>
  ({ format: 'icl-lab-run/1', status, pid, startedAt: '', seed: 0, config: {}, model: {} as RunRecord['model'], data: { file: '', pool: 0, probe: 0, test: 0 }, versions: {}, phases }) as RunRecord;

describe('run folders', () => {
  let root: string;
  before(async () => (root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-runs-'))));
  after(async () => rm(root, { recursive: true, force: true }));

  it('tells a live run from an interrupted one by its process', () => {
    assert.ok(processAlive(process.pid));
    assert.equal(runState(record('running', process.pid)), 'running');
    assert.equal(runState(record('running', 12345), () => false), 'interrupted');
    assert.equal(runState(record('complete', 12345), () => false), 'complete');
  });

  it('lists the folders holding a run.json, newest first, skipping others and unreadable ones', async () => {
    for (const [name, when] of [['old', 1_000_000], ['new', 2_000_000]] as const) {
      await mkdir(path.join(root, name));
      await writeFile(path.join(root, name, 'run.json'), JSON.stringify(record('complete', 1)));
      await utimes(path.join(root, name, 'run.json'), when, when);
    }
    await mkdir(path.join(root, 'not-a-run'));
    await mkdir(path.join(root, 'broken'));
    await writeFile(path.join(root, 'broken', 'run.json'), '{ nope');
    const runs = await listRunFolders(root);
    assert.deepEqual(runs.map((r) => r.name), ['new', 'old']);
    assert.deepEqual(await listRunFolders(path.join(root, 'absent')), []);
  });

  it('names the phase a run stopped in', () => {
    const phases = { extract: { status: 'complete', wallMs: 1, computed: 1, reused: 0 }, quality: { status: 'cancelled', wallMs: 1, computed: 0, reused: 0 } } as RunRecord['phases'];
    assert.equal(currentPhase(record('cancelled', 1, phases)), 'quality');
  });
});
