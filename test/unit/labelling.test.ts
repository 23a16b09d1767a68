import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatasetError } from '../../src/core/dataset/datasetError.js';
import type { DatasetRow, DatasetSpec } from '../../src/core/dataset/datasetSpec.js';
import { loadDataset } from '../../src/core/dataset/loadDataset.js';
import { loadRunIndex } from '../../src/core/inspect/runIndex.js';
import { candidateInfoFromRun, candidateInfoFromStatsCsv } from '../../src/core/labelling/candidateInfo.js';
import { appendLabel, labelSidecarPath, readLabelSidecar, type LabelEntry } from '../../src/core/labelling/labelSidecar.js';
import { labellingSessionPath, readLabellingSession, roundProgress, sessionDatasetSpec, withRound, writeLabellingSession, type LabellingSession } from '../../src/core/labelling/labellingSession.js';
import { labellingStrategies, proposeRound } from '../../src/core/labelling/proposeRound.js';
import { writeSyntheticRun } from '../support/syntheticRunFolder.js';

const binary = [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }];
const at = '2026-01-02T03:04:05.000Z';
const entry = (id: string, label: string | null, round = 1): LabelEntry => ({ id, label, round, labelledAt: at });

/** Unlabelled rows `{ "id": "u<i>", "text": … }`, the index as the id's number. */
const unlabelledRows = (n: number): DatasetRow[] => Array.from({ length: n }, (_, i) => ({ index: i, line: i + 1, id: `u${i}`, inputs: { text: `item ${i}` } }));

describe('human labelling', () => {
  let dir: string;
  let counter = 0;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-labelling-'))));
  after(async () => rm(dir, { recursive: true, force: true }));
  const fresh = (name: string): string => path.join(dir, `${counter++}-${name}`);

  describe('the labels sidecar', () => {
    it('sits beside the data file under the data file\'s own name', () => {
      assert.equal(labelSidecarPath('/data/sst2.jsonl'), '/data/sst2.jsonl.labels.jsonl');
    });

    it('reads back what was appended, the last line of an id winning and null taking a label back', async () => {
      const file = fresh('round-trip.labels.jsonl');
      assert.deepEqual((await readLabelSidecar(file)).entries, []);
      await appendLabel(file, entry('a', '1'));
      await appendLabel(file, entry('b', '0'));
      await appendLabel(file, entry('a', '0', 2));
      await appendLabel(file, entry('b', null, 2));
      const sidecar = await readLabelSidecar(file);
      assert.equal(sidecar.entries.length, 4);
      assert.deepEqual([...sidecar.labels].map(([id, r]) => [id, r.label, r.round, r.line]), [['a', '0', 2, 3]]);
      assert.deepEqual(sidecar.problems, []);
      assert.equal((await readFile(file, 'utf8')).split('\n')[0], '{"id":"a","label":"1","round":1,"labelledAt":"2026-01-02T03:04:05.000Z"}');
    });

    it('keeps every earlier label when a write was cut short by a crash, and fences the torn line off', async () => {
      const file = fresh('torn.labels.jsonl');
      await appendLabel(file, entry('a', '1'));
      await appendLabel(file, entry('b', '0'));
      // A crash in the middle of a write leaves part of a line and no line break.
      await appendFile(file, '{"id":"c","label":"1","rou');
      let sidecar = await readLabelSidecar(file);
      assert.deepEqual([...sidecar.labels.keys()], ['a', 'b']);
      assert.deepEqual(sidecar.problems, [{ line: 3, kind: 'torn', problem: 'not a JSON line (a write cut short by a crash?)' }]);
      await appendLabel(file, entry('c', '1'));
      sidecar = await readLabelSidecar(file);
      assert.deepEqual([...sidecar.labels.keys()], ['a', 'b', 'c']);
      assert.deepEqual(sidecar.problems.map((p) => p.line), [3]);
    });

    it('loses no label when many are appended at once', async () => {
      const file = fresh('concurrent.labels.jsonl');
      await Promise.all(Array.from({ length: 40 }, (_, i) => appendLabel(file, entry(`id${i}`, String(i % 2)))));
      const sidecar = await readLabelSidecar(file);
      assert.equal(sidecar.labels.size, 40);
      assert.deepEqual(sidecar.problems, []);
    });

    it('refuses to write an entry that would not read back', async () => {
      await assert.rejects(appendLabel(fresh('bad.labels.jsonl'), entry('', '1')), /"id" must be a non-empty string/);
      await assert.rejects(appendLabel(fresh('bad.labels.jsonl'), { ...entry('a', '1'), round: -1 }), /"round" must be a whole number/);
    });
  });

  describe('the dataset loader with a labels file', () => {
    async function data(name: string, text: string, labels?: string): Promise<{ file: string; labelsFile: string }> {
      const file = fresh(name);
      await writeFile(file, text);
      if (labels !== undefined) await writeFile(labelSidecarPath(file), labels);
      return { file, labelsFile: labelSidecarPath(file) };
    }
    const spec = (file: string, more: Partial<DatasetSpec> = {}): DatasetSpec => ({ file, inputs: ['text'], id: 'id', task: { type: 'classification', target: 'label', labels: binary }, ...more });
    const line = (id: string, label: string | null): string => JSON.stringify({ id, label, round: 1, labelledAt: at }) + '\n';

    it('takes each row\'s label from the sidecar, leaving rows labelled nowhere unlabelled', async () => {
      const { file, labelsFile } = await data('pool.jsonl', ['{"id":"a","text":"first"}', '{"id":"b","text":"second","label":null}', '{"id":"c","text":"third","label":""}'].join('\n'), line('a', '1') + line('c', '0'));
      const { rows } = await loadDataset(spec(file, { humanLabelsFile: labelsFile }));
      assert.deepEqual(rows, [
        { index: 0, line: 1, id: 'a', inputs: { text: 'first' }, label: '1' },
        { index: 1, line: 2, id: 'b', inputs: { text: 'second' } },
        { index: 2, line: 3, id: 'c', inputs: { text: 'third' }, label: '0' },
      ]);
    });

    it('lets a human label win over the file\'s, and keeps the file\'s elsewhere', async () => {
      const { file, labelsFile } = await data('mixed.jsonl', ['{"id":"a","text":"first","label":0}', '{"id":"b","text":"second","label":1}'].join('\n'), line('b', '0'));
      const { rows } = await loadDataset(spec(file, { humanLabelsFile: labelsFile }));
      assert.deepEqual(rows.map((r) => r.label), ['0', '0']);
    });

    it('matches the row index when the spec names no id field, and reads a CSV without a label column', async () => {
      const { file, labelsFile } = await data('pool.csv', 'text\nfirst\nsecond\n', line('1', '1'));
      const { rows } = await loadDataset(spec(file, { id: undefined, humanLabelsFile: labelsFile }));
      assert.deepEqual(rows.map((r) => [r.id, r.label, r.line]), [['0', undefined, 2], ['1', '1', 3]]);
    });

    it('fills a generative row\'s references from the sidecar', async () => {
      const { file, labelsFile } = await data('questions.jsonl', '{"id":"q","text":"what?"}\n', line('q', 'that'));
      const { rows } = await loadDataset(spec(file, { humanLabelsFile: labelsFile, task: { type: 'generative', target: 'answer' } }));
      assert.deepEqual(rows[0]!.references, ['that']);
    });

    it('names the sidecar line of a human label outside the label set', async () => {
      const { file, labelsFile } = await data('outside.jsonl', '{"id":"a","text":"first"}\n', line('a', '7'));
      const { rows, skipped } = await loadDataset(spec(file, { humanLabelsFile: labelsFile }), { badRows: 'skip' });
      assert.deepEqual(rows, []);
      assert.deepEqual(skipped, [{ line: 1, problem: `label "7" (${labelsFile}:1) is not in the label set (0, 1)` }]);
    });

    it('fails at the sidecar line that is JSON but no label entry, and skips a torn one', async () => {
      const { file, labelsFile } = await data('broken.jsonl', '{"id":"a","text":"first"}\n', line('a', '1') + '{"id":"a"}\n');
      await assert.rejects(loadDataset(spec(file, { humanLabelsFile: labelsFile })), (error: unknown) => {
        assert.ok(error instanceof DatasetError);
        assert.equal(error.message, `${labelsFile}:2: "label" must be a non-empty string, a number or null (id "a")`);
        return true;
      });
      await writeFile(labelsFile, line('a', '1') + '{"id":"a","lab');
      assert.equal((await loadDataset(spec(file, { humanLabelsFile: labelsFile }))).rows[0]!.label, '1');      // A line that is no JSON is a crash's torn write only when it is the last, unterminated one.
      await writeFile(labelsFile, '{"id":"a","lab\n' + line('a', '1'));
      await assert.rejects(loadDataset(spec(file, { humanLabelsFile: labelsFile })), new RegExp(`${labelsFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: not a label record`));
    });

    it('changes nothing without a labels file: a row without a label is still a bad row', async () => {
      const { file } = await data('plain.jsonl', '{"id":"a","text":"first"}\n', line('a', '1'));
      await assert.rejects(loadDataset(spec(file)), /:1: missing field "label"/);
      await assert.rejects(loadDataset({ file, inputs: ['text'], humanLabelsFile: labelSidecarPath(file) }), /a labels file needs a task/);
    });
  });

  describe('proposing a round', () => {
    const rows = unlabelledRows(20);
    const statistic = new Map(rows.map((r) => [r.index, (r.index * 7) % 20]));

    it('proposes the same rows for the same labels and seed, other rows for another seed', () => {
      const request = { rows, strategy: 'random', budget: 5, seed: 3, round: 1 };
      const first = proposeRound(request);
      assert.deepEqual(proposeRound(request), first);
      assert.equal(first.proposed.length, 5);
      assert.notDeepEqual(proposeRound({ ...request, seed: 4 }).proposed, first.proposed);
      assert.notDeepEqual(proposeRound({ ...request, round: 2 }).proposed, first.proposed);
    });

    it('never proposes a labelled row', () => {
      const labelled = new Set(['u0', 'u1', 'u2', 'u3']);
      for (let seed = 0; seed < 10; seed++) {
        const { proposed, candidates } = proposeRound({ rows, labelled, strategy: 'random', budget: 16, seed, round: 1 });
        assert.equal(candidates, 16);
        assert.deepEqual(proposed.map((p) => p.id).filter((id) => labelled.has(id)), []);
      }
      const labelledRows = rows.map((r, i) => (i < 18 ? { ...r, label: '0' } : r));
      assert.deepEqual(proposeRound({ rows: labelledRows, strategy: 'random', budget: 5, seed: 0, round: 1 }).proposed.map((p) => p.id).sort(), ['u18', 'u19']);
    });

    it('ranks by an activation statistic, highest first', () => {
      const { proposed } = proposeRound({ rows, labelled: new Set(['u17']), strategy: 'highest-first', budget: 3, seed: 0, round: 1, info: { statistic } });
      // 7i mod 20 is 19 at i = 17 (labelled), 18 at i = 14, 17 at i = 11, 16 at i = 8.
      assert.deepEqual(proposed.map((p) => [p.id, p.score]), [['u14', 18], ['u11', 17], ['u8', 16]]);
    });

    it('leaves out rows the strategy knows nothing about, and says how many', () => {
      const partial = new Map([...statistic].filter(([index]) => index < 10));
      const proposal = proposeRound({ rows, strategy: 'lowest-first', budget: 2, seed: 0, round: 1, info: { statistic: partial } });
      assert.equal(proposal.leftOut, 10);
      assert.deepEqual(proposal.proposed.map((p) => p.id), ['u0', 'u3']);
    });

    it('starts k-center-greedy from the labelled rows', () => {
      const vectors = new Map(rows.map((r) => [r.index, Float64Array.of(r.index)]));
      const { proposed } = proposeRound({ rows, labelled: new Set(['u0']), strategy: 'k-center-greedy', budget: 1, seed: 0, round: 1, info: { vectors } });
      assert.deepEqual(proposed.map((p) => p.id), ['u19']);
    });

    it('says why a strategy cannot propose rows to a human', () => {
      assert.throws(() => proposeRound({ rows, strategy: 'k-means++', budget: 2, seed: 0, round: 1 }), /k-means\+\+ needs pooled vectors/);
      assert.throws(() => proposeRound({ rows, strategy: 'highest-first', budget: 2, seed: 0, round: 1 }), /needs an activation statistic per row/);
      assert.throws(() => proposeRound({ rows, strategy: 'top-quality', budget: 2, seed: 0, round: 1 }), /needs the labels being asked for/);
      assert.throws(() => proposeRound({ rows, strategy: 'nearest', budget: 2, seed: 0, round: 1 }), /unknown selection strategy "nearest"/);
      const offered = labellingStrategies({ statistic });
      assert.deepEqual(offered.filter((s) => s.available).map((s) => s.name), ['random', 'highest-first', 'lowest-first']);
    });

    it('takes a run\'s selection statistic and pooled vectors, and a stats.csv column, as ranking information', async () => {
      const run = await writeSyntheticRun(dir, `run-${counter++}`);
      const info = await candidateInfoFromRun(await loadRunIndex(run.dir));
      const row = run.splits.pool[1]!;
      assert.equal(info.statistic!.get(row.index), run.statValue(row.index, 2, 'kurtosis'));
      assert.equal(info.vectors!.size, run.splits.pool.length);
      const fromCsv = await candidateInfoFromStatsCsv(path.join(run.dir, 'stats.csv'), { mask: 'isolated', pooling: 'all', statistic: 'mean', layer: 'last' });
      assert.equal(fromCsv.statistic!.get(row.index), run.statValue(row.index, 3, 'mean'));
      // Without a site: the MLP output's rows, though the file holds the residual stream's too.
      assert.match(fromCsv.source!, /stats\.csv \(mean, mlp_out layer 3, isolated, all\)/);
      const residual = await candidateInfoFromStatsCsv(path.join(run.dir, 'stats.csv'), { mask: 'isolated', site: 'resid_post', pooling: 'all', statistic: 'mean', layer: 'last' });
      assert.equal(residual.statistic!.get(row.index), run.statValue(row.index, 3, 'mean') + 5000);
    });
  });

  describe('the labelling session', () => {
    const session = (): LabellingSession => ({
      format: 'icl-lab-labelling/1',
      data: { inputs: ['text'], id: 'id', target: 'label', task: 'classification' },
      labels: binary,
      strategy: 'random',
      roundSize: 2,
      seed: 0,
      rounds: [],
    });

    it('round-trips through its file beside the data, written whole', async () => {
      const dataFile = fresh('session.jsonl');
      assert.equal(await readLabellingSession(dataFile), undefined);
      const proposal = proposeRound({ rows: unlabelledRows(6), strategy: 'random', budget: 2, seed: 0, round: 1 });
      const saved = withRound(session(), proposal, at);
      await writeLabellingSession(dataFile, saved);
      assert.deepEqual(await readLabellingSession(dataFile), saved);
      assert.equal(saved.rounds[0]!.round, 1);
      await writeFile(labellingSessionPath(dataFile), '{"format":"other"}');
      await assert.rejects(readLabellingSession(dataFile), /not a labelling session/);
    });

    it('counts a round complete when each of its rows is labelled', () => {
      const proposal = { proposed: [{ index: 0, id: 'u0', score: 0 }, { index: 3, id: 'u3', score: 0 }], leftOut: 0, candidates: 6 };
      const s = withRound(session(), proposal, at);
      assert.deepEqual(roundProgress(session(), new Set()), { round: 0, rows: [], done: 0, complete: true });
      assert.equal(roundProgress(s, new Set(['u0'])).complete, false);
      assert.equal(roundProgress(s, new Set(['u0'])).done, 1);
      assert.equal(roundProgress(s, new Set(['u0', 'u3'])).complete, true);
    });

    it('reads its data file with the sidecar merged', async () => {
      const dataFile = fresh('merged.jsonl');
      await writeFile(dataFile, '{"id":"a","text":"first"}\n{"id":"b","text":"second"}\n');
      await appendLabel(labelSidecarPath(dataFile), entry('b', '1'));
      const { rows } = await loadDataset(sessionDatasetSpec(dataFile, session()));
      assert.deepEqual(rows.map((r) => r.label), [undefined, '1']);
      const next = proposeRound({ rows, strategy: 'random', budget: 5, seed: 0, round: 1 });
      assert.deepEqual(next.proposed.map((p) => p.id), ['a']);
    });
  });
});
