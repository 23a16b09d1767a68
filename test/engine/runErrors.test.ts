// Where `icl-lab run` puts a run nobody named a folder for, and what it says when it fails: the
// resume hint only where finished units exist.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { defaultRunFolder } from '../../src/cli/run.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

describe('icl-lab run: default folders and failures', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-errors-'));
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(30, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('names a model that is not GGUF and does not offer a resume when nothing was made', async () => {
    await writeFile(path.join(dir, 'notes.gguf'), 'these are notes, not a model\n');
    const config = path.join(dir, 'bad-model.run.json');
    await writeFile(config, JSON.stringify({ ...demoRunConfig(1), model: 'notes.gguf', split: { test: 5, probe: 4, pool: 16 } }));
    const result = await runCli(['run', config, '--out', path.join(dir, 'out'), '--no-report']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: .*notes\.gguf/);
    assert.doesNotMatch(result.stderr, /finished units|--resume/);
  });

  it('names runs/<config>-<UTC time> beside the config for a run without --out or output', () => {
    assert.equal(defaultRunFolder(path.join('/data', 'sst2.run.yaml'), new Date(Date.UTC(2026, 11, 5, 23, 4, 9))), path.join('/data', 'runs', 'sst2-20261205-230409'));
    assert.equal(defaultRunFolder(path.join('/data', 'study.json'), new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))), path.join('/data', 'runs', 'study-20260102-030405'));
  });

  it('runs into that folder, says where, and --resume without --out continues the newest one', async () => {
    const folder = path.join(dir, 'studies');
    await mkdir(folder);
    await writeFile(path.join(folder, 'demo.jsonl'), demoRows(30, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
    const config = path.join(folder, 'tiny.run.json');
    const selection = { strategies: ['random'], budgets: [2], rounds: 1, seeds: [0] };
    await writeFile(config, JSON.stringify({ ...demoRunConfig(1), model: await testModelPath(tinyQwen2), split: { test: 4, probe: 3, pool: 10 }, masks: ['isolated'], selection, correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 }, evaluation: { bootstrap: 10 }, histogramExamples: 0 }));
    const missing = await runCli(['run', config, '--resume', '--no-report']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--resume: no run of .*tiny\.run\.json/);
    const first = await runCli(['run', config, '--no-report']);
    assert.equal(first.code, 0, first.stderr);
    const runs = await readdir(path.join(folder, 'runs'));
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^tiny-\d{8}-\d{6}$/);
    assert.match(first.stderr, new RegExp(`run folder: .*${runs[0]} \\(neither --out nor the config's \`output\` names one\\)`));
    const again = await runCli(['run', config, '--resume', '--no-report']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`resuming .*${runs[0]}: \\d+ finished units are reused`));
    // run.json keeps each phase's time and units over both invocations.
    const record = JSON.parse(await readFile(path.join(folder, 'runs', runs[0]!, 'run.json'), 'utf8'));
    assert.equal(record.phases.extract.invocations, 2);
    assert.ok(record.phases.extract.computed > 0, 'the first invocation computed the extract units; the resume reused them');
    assert.ok(record.phases.extract.reused > 0);
    assert.deepEqual(await readdir(path.join(folder, 'runs')), runs);
  });
});

