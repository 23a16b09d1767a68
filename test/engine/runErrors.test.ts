// What `icl-lab run` says when it fails: the resume hint only where finished units exist.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { runCli } from '../support/runCli.js';

describe('icl-lab run failures', function () {
  this.timeout(120_000);
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
});
