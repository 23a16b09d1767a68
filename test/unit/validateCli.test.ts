import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { runCli, type CliResult } from '../support/runCli.js';


function validate(args: readonly string[]): Promise<CliResult> {
  return runCli(['validate', ...args]);
}

describe('icl-lab validate', function () {
  this.timeout(60_000);
  let dir: string;
  let good: string;
  let bad: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-validate-'));
    good = path.join(dir, 'good.csv');
    await writeFile(good, 'id,text,label\na,"one, two",0\nb,three,1\nc,four,1\n');
    bad = path.join(dir, 'bad.jsonl');
    const lines = ['{"id":"a","text":"fine","label":0}', '{"id":"b","text":"","label":1}', '{"id":"c","text":"x","label":9}', '{"id":"a","text":"again","label":1}', '{"id":"e","text":"ok","label":1}'];
    await writeFile(bad, lines.join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('prints the row count and the label counts of a good file', async () => {
    const result = await validate(['--data', good, '--input', 'text', '--target', 'label', '--id', 'id', '--labels', '0=negative,1=positive']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '3 rows\nlabels: 0 (negative) 1, 1 (positive) 2\n');
  });

  it('exits 1 listing every bad row with file:line', async () => {
    const result = await validate(['--data', bad, '--input', 'text', '--target', 'label', '--id', 'id', '--labels', '0,1']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      [
        `error: ${bad}:2: field "text" is empty`,
        `error: ${bad}:3: label "9" is not in the label set (0, 1)`,
        `error: ${bad}:4: duplicate id "a" (first on line 1)`,
        '3 of 5 rows are bad (--skip-bad-rows leaves them out)',
        '',
      ].join('\n'),
    );
  });

  it('with --skip-bad-rows, counts the good rows and lists the skipped ones', async () => {
    const result = await validate(['--data', bad, '--input', 'text', '--target', 'label', '--id', 'id', '--labels', '0,1', '--skip-bad-rows']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^2 rows, 3 bad rows skipped\n/);
    assert.ok(result.stdout.includes(`skipped ${bad}:3: label "9" is not in the label set (0, 1)\n`));
  });

  it('names a missing column once and a file that is absent', async () => {
    const missing = await validate(['--data', good, '--input', 'sentence']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `error: ${good}:1: no column "sentence" in the header (it has id, text, label)\n`);
    const absent = await validate(['--data', path.join(dir, 'absent.jsonl'), '--input', 'text']);
    assert.equal(absent.code, 1);
    assert.equal(absent.stderr, `error: ${path.join(dir, 'absent.jsonl')}: file not found\n`);
  });

  it('refuses a label list mixing both forms, and a run without --input', async () => {
    const mixed = await validate(['--data', good, '--input', 'text', '--target', 'label', '--labels', '0=negative,1']);
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stderr, /give a verbalizer for every label/);
    const noInput = await validate(['--data', good]);
    assert.equal(noInput.code, 1);
    assert.equal(noInput.stderr, 'error: give at least one --input field\n');
  });

  it('checks a shared dataset with its labels file', async function () {
    const sst2 = path.join(packageRoot(), '..', 'shared', 'datasets', 'sst2');
    if (!existsSync(sst2)) {
      console.log(`      skipped: ${sst2} is absent`);
      this.skip();
    }
    const result = await validate(['--data', path.join(sst2, 'validation.jsonl'), '--input', 'text', '--target', 'label', '--id', 'id', '--labels-file', path.join(sst2, 'labels.json')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '872 rows\nlabels: 0 (negative) 428, 1 (positive) 444\n');
  });
});
