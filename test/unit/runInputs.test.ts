import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetRow } from '../../src/core/dataset/datasetSpec.js';
import { checkUnitExamples, compareRunInputs, exampleDigests, rowDigest, runInputsOf, type RunInputs } from '../../src/core/experiment/runInputs.js';

const row = (index: number, text: string, label = '0'): DatasetRow => ({ index, line: index + 1, id: `r${index}`, inputs: { text }, label });

describe('run inputs: what the checkpoints were computed from', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-run-inputs-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const inputsOf = async (data: string, pool: DatasetRow[], extra: Partial<{ labels: string }> = {}): Promise<RunInputs> => {
    const dataFile = path.join(dir, 'data.jsonl');
    await writeFile(dataFile, data);
    let humanLabelsFile: string | undefined;
    if (extra.labels !== undefined) {
      humanLabelsFile = path.join(dir, 'data.labels.jsonl');
      await writeFile(humanLabelsFile, extra.labels);
    }
    return runInputsOf({ dataFile, humanLabelsFile, splits: { pool, probe: [row(9, 'probe')], test: [row(8, 'test')] } });
  };

  it('digests a row by its content, label included, not by its line', () => {
    assert.equal(rowDigest(row(0, 'a')), rowDigest({ ...row(0, 'a'), line: 7 }));
    assert.notEqual(rowDigest(row(0, 'a')), rowDigest(row(0, 'b')));
    assert.notEqual(rowDigest(row(0, 'a', '0')), rowDigest(row(0, 'a', '1')));
    assert.match(rowDigest(row(0, 'a')), /^[0-9a-f]{16}$/);
  });

  it('finds nothing when the files and examples are the same', async () => {
    const a = await inputsOf('x\n', [row(0, 'a'), row(1, 'b')]);
    const b = await inputsOf('x\n', [row(0, 'a'), row(1, 'b')]);
    assert.deepEqual(compareRunInputs(a, b), { differences: [], notes: [] });
  });

  it('names the data file and the rows whose content changed, with their lines', async () => {
    const a = await inputsOf('x\n', [row(0, 'a'), row(1, 'b'), row(2, 'c')]);
    const b = await inputsOf('y\n', [row(0, 'a'), row(1, 'B'), row(2, 'C')]);
    const { differences } = compareRunInputs(a, b, new Map([[1, 12], [2, 40]]));
    assert.equal(differences.length, 2);
    assert.match(differences[0]!, /^data\.jsonl changed since the run started \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\)$/);
    assert.match(differences[1]!, /pool: row 1 \(id "r1", line 12\) and row 2 \(id "r2", line 40\) differ/);
  });

  it('notes a data file whose bytes changed while none of the run\'s examples did', async () => {
    const a = await inputsOf('x\n', [row(0, 'a')]);
    const b = await inputsOf('x\nunused\n', [row(0, 'a')]);
    const { differences, notes } = compareRunInputs(a, b);
    assert.deepEqual(differences, []);
    assert.match(notes[0]!, /data\.jsonl changed since the run started .*but none of the run's examples did/);
  });

  it('names examples a split now takes or no longer takes (labels added to the sidecar)', async () => {
    const a = await inputsOf('x\n', [row(0, 'a'), row(1, 'b')], { labels: '{"id":"r0","label":"0"}\n' });
    const b = await inputsOf('x\n', [row(0, 'a'), row(3, 'd')], { labels: '{"id":"r0","label":"0"}\n{"id":"r3","label":"1"}\n' });
    const { differences } = compareRunInputs(a, b);
    assert.match(differences.join('\n'), /data\.labels\.jsonl changed since the run started/);
    assert.match(differences.join('\n'), /pool now takes row 3 \(id "r3"\); pool no longer takes row 1 \(id "r1"\)/);
  });

  it('refuses a unit that records other examples than the run expects, and passes one from before', () => {
    const rows = [row(0, 'a'), row(1, 'b')];
    checkUnitExamples(exampleDigests(rows), rows, 'u.json');
    checkUnitExamples(undefined, rows, 'u.json');
    assert.throws(() => checkUnitExamples(exampleDigests(rows), [row(0, 'a'), row(1, 'changed')], 'ckpt/u.json'), /ckpt\/u\.json was computed for other examples than this run's \(at position 1: row 1 id "r1" then, row 1 id "r1" now, its content changed\)/);
    assert.throws(() => checkUnitExamples(exampleDigests(rows), [row(1, 'b'), row(0, 'a')], 'u.json'), /at position 0: row 0 id "r0" then, row 1 id "r1" now/);
    assert.throws(() => checkUnitExamples(exampleDigests(rows), rows.slice(0, 1), 'u.json'), /at position 1: row 1 id "r1" then, nothing now/);
  });
});
