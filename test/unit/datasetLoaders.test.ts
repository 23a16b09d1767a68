import assert from 'node:assert/strict';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { DatasetError } from '../../src/core/dataset/datasetError.js';
import type { DatasetSpec } from '../../src/core/dataset/datasetSpec.js';
import { readLabelsFile } from '../../src/core/dataset/labelSet.js';
import { loadDataset, type LoadOptions } from '../../src/core/dataset/loadDataset.js';
import { packageRoot } from '../../src/engine/packageRoot.js';

const binary = [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }];

describe('dataset loaders', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-dataset-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function file(name: string, content: string | Buffer): Promise<string> {
    const target = path.join(dir, name);
    await writeFile(target, content);
    return target;
  }

  function spec(target: string, more: Partial<DatasetSpec> = {}): DatasetSpec {
    return { file: target, inputs: ['text'], task: { type: 'classification', target: 'label', labels: binary }, ...more };
  }

  /** Loading fails with exactly `message` (the file's path, then `suffix`). */
  async function rejectsWith(dataSpec: DatasetSpec, suffix: string, options: LoadOptions = {}): Promise<void> {
    await assert.rejects(loadDataset(dataSpec, options), (error: unknown) => {
      assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
      assert.equal(error.message, `${dataSpec.file}${suffix}`);
      return true;
    });
  }

  describe('JSON Lines', () => {
    it('reads rows in order, skipping blank lines but counting them, through a BOM and CRLF endings', async () => {
      const target = await file('ok.jsonl', '\uFEFF{"text":"one","label":0}\r\n\r\n{"text":"two, \\"quoted\\"","label":"1"}\r\n   \n{"text":"three","label":1}');
      const { rows, skipped } = await loadDataset(spec(target));
      assert.deepEqual(rows, [
        { index: 0, line: 1, id: '0', inputs: { text: 'one' }, label: '0' },
        { index: 1, line: 3, id: '1', inputs: { text: 'two, "quoted"' }, label: '1' },
        { index: 2, line: 5, id: '2', inputs: { text: 'three' }, label: '1' },
      ]);
      assert.deepEqual(skipped, []);
    });

    it('names the file and line of a missing field on line 7', async () => {
      const good = Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `row ${i}`, label: i % 2 }));
      const target = await file('missing.jsonl', [...good, '{"sentence":"no text here","label":1}', '{"text":"after","label":0}'].join('\n') + '\n');
      await rejectsWith(spec(target), ':7: missing field "text"');
    });

    const problems: [string, string, string][] = [
      ['malformed JSON at its column', '{"text":"a","label":0}\n{"text": oops}\n', ':2:10: malformed JSON: unexpected "o"'],
      ['an unterminated string', '{"text":"a","label":0}\n{"text":"abc\n', ':2:9: malformed JSON: unterminated string'],
      ['an empty input', '{"text":"a","label":0}\n{"text":"   ","label":0}\n', ':2: field "text" is empty'],
      ['an input that is not a string', '{"text":7,"label":0}\n', ':1: field "text" is a number, not a string'],
      ['a row that is not an object', '["text"]\n', ':1: expected a JSON object, found an array'],
      ['a label outside the label set', '{"text":"a","label":0}\n{"text":"b","label":2}\n', ':2: label "2" is not in the label set (0, 1)'],
      ['a label that is not a scalar', '{"text":"a","label":[0]}\n', ':1: field "label" is an array, not a string or number'],
      ['a missing label', '{"text":"a"}\n', ':1: missing field "label"'],
    ];
    for (const [what, content, suffix] of problems) {
      it(`rejects ${what}, naming file and line`, async () => {
        await rejectsWith(spec(await file('bad.jsonl', content)), suffix);
      });
    }

    it('rejects a duplicate id, naming the line of its first use', async () => {
      const target = await file('ids.jsonl', '{"id":"a","text":"x","label":0}\n{"id":"b","text":"y","label":0}\n{"id":"a","text":"z","label":1}\n');
      await rejectsWith(spec(target, { id: 'id' }), ':3: duplicate id "a" (first on line 1)');
    });

    it('reads numeric ids as strings and rejects a missing id', async () => {
      const target = await file('numeric-ids.jsonl', '{"id":10,"text":"x","label":0}\n{"id":"11","text":"y","label":1}\n');
      assert.deepEqual((await loadDataset(spec(target, { id: 'id' }))).rows.map((r) => r.id), ['10', '11']);
      await rejectsWith(spec(await file('no-id.jsonl', '{"text":"x","label":0}\n'), { id: 'id' }), ':1: missing field "id"');
    });

    it('rejects invalid UTF-8 with the line and column of the bad byte', async () => {
      const target = await file('latin1.jsonl', Buffer.concat([Buffer.from('{"text":"ok","label":0}\n{"text":"caf'), Buffer.from([0xe9]), Buffer.from('","label":1}\n')]));
      await rejectsWith(spec(target), ':2:13: invalid UTF-8 (byte 0xE9)');
    });

    it('accepts a genuine U+FFFD, which only invalid bytes would otherwise be mistaken for', async () => {
      const target = await file('replacement.jsonl', '{"text":"a \uFFFD b","label":0}\n');
      assert.equal((await loadDataset(spec(target))).rows[0]!.inputs.text, 'a \uFFFD b');
    });

    it('refuses a 100 MB line with a clear error, without holding it in memory, and can skip it', async function () {
      this.timeout(60_000);
      const target = path.join(dir, 'huge.jsonl');
      const out = createWriteStream(target);
      out.write('{"text":"first","label":0}\n{"text":"second","label":1}\n{"text":"');
      const megabyte = Buffer.alloc(1_000_000, 'x');
      for (let i = 0; i < 100; i++) if (!out.write(megabyte)) await once(out, 'drain');
      out.end('","label":0}\n{"text":"fourth","label":1}\n');
      await once(out, 'finish');

      const started = performance.now();
      await rejectsWith(spec(target), ':3: line is longer than the 10 MB limit');
      const { rows, skipped } = await loadDataset(spec(target), { badRows: 'skip' });
      // Informative only: garbage collection decides what this shows.
      console.log(`      read past the 100 MB line in ${((performance.now() - started) / 1000).toFixed(2)} s; ${(process.memoryUsage().arrayBuffers / 1e6).toFixed(0)} MB of buffers alive`);
      assert.deepEqual(rows.map((r) => [r.index, r.line, r.inputs.text]), [[0, 1, 'first'], [1, 2, 'second'], [3, 4, 'fourth']]);
      assert.deepEqual(skipped, [{ line: 3, problem: 'line is longer than the 10 MB limit' }]);
    });

    it('takes the line limit from the options', async () => {
      const target = await file('limit.jsonl', `{"text":"${'y'.repeat(2000)}","label":0}\n`);
      await rejectsWith(spec(target), ':1: line is longer than the 1000 bytes limit', { maxLineBytes: 1000 });
      assert.equal((await loadDataset(spec(target), { maxLineBytes: 3000 })).rows.length, 1);
    });

    it('skips bad rows when told to, listing each with its line and keeping the file\'s row indices', async () => {
      const target = await file('mixed.jsonl', ['{"text":"a","label":0}', '{"text":', '{"text":"c","label":5}', '', '{"text":"d","label":1}', '{"label":1}'].join('\n'));
      const { rows, skipped } = await loadDataset(spec(target), { badRows: 'skip' });
      assert.deepEqual(rows.map((r) => [r.index, r.line]), [[0, 1], [3, 5]]);
      assert.deepEqual(skipped, [
        { line: 2, column: 9, problem: 'malformed JSON: unexpected end of line' },
        { line: 3, problem: 'label "5" is not in the label set (0, 1)' },
        { line: 6, problem: 'missing field "text"' },
      ]);
    });

    it('says when the file does not exist', async () => {
      await rejectsWith(spec(path.join(dir, 'absent.jsonl')), ': file not found');
    });
  });

  describe('CSV and TSV', () => {
    it('reads quoted commas, doubled quotes and newlines inside quotes, through a BOM and CRLF endings', async () => {
      const target = await file('ok.csv', '\uFEFFid,text,label\r\nr1,"hello, ""world""",0\r\n\r\nr2,"two\r\nlines",1\r\nr3,plain,1\r\n');
      const { rows } = await loadDataset(spec(target, { id: 'id' }));
      assert.deepEqual(rows, [
        { index: 0, line: 2, id: 'r1', inputs: { text: 'hello, "world"' }, label: '0' },
        { index: 1, line: 4, id: 'r2', inputs: { text: 'two\nlines' }, label: '1' },
        { index: 2, line: 6, id: 'r3', inputs: { text: 'plain' }, label: '1' },
      ]);
    });

    it('reads TSV, keeping quotes inside an unquoted field', async () => {
      const target = await file('ok.tsv', 'text\tlabel\nit \'s a "charming" film\t1\n"quoted\ttab"\t0\n');
      const { rows } = await loadDataset(spec(target));
      assert.deepEqual(rows.map((r) => [r.inputs.text, r.label]), [['it \'s a "charming" film', '1'], ['quoted\ttab', '0']]);
    });

    it('points at the line and column of a bad field, also inside a multi-line record', async () => {
      const target = await file('bad-field.csv', 'id,text,label\na,"first\nsecond",7\nb,"  ",0\n');
      const { skipped } = await loadDataset(spec(target), { badRows: 'skip' });
      assert.deepEqual(skipped, [
        { line: 3, column: 9, problem: 'label "7" is not in the label set (0, 1)' },
        { line: 4, column: 3, problem: 'field "text" is empty' },
      ]);
      await rejectsWith(spec(target), ':3:9: label "7" is not in the label set (0, 1)');
    });

    it('rejects a row with the wrong number of fields', async () => {
      await rejectsWith(spec(await file('short.csv', 'text,label\na,0\nb\n')), ':3: expected 2 fields as in the header, found 1');
    });

    it('rejects a header without a field of the spec once, at line 1', async () => {
      await rejectsWith(spec(await file('header.csv', 'id,sentence,label\n1,a,0\n2,b,1\n')), ':1: no column "text" in the header (it has id, sentence, label)');
    });

    it('rejects a header naming a column twice', async () => {
      await rejectsWith(spec(await file('twice.csv', 'text,label,text\na,0,b\n')), ':1:12: column "text" appears twice in the header');
    });

    it('rejects an unclosed quote at the field that opens it, even when skipping bad rows', async () => {
      const target = await file('unclosed.csv', 'text,label\nfine,0\nx,"1\nmore,0\n');
      await rejectsWith(spec(target), ':3:3: quoted field never closed (a missing \'"\'?)', { badRows: 'skip' });
    });

    it('rejects invalid UTF-8 with line and column', async () => {
      const target = await file('latin1.csv', Buffer.concat([Buffer.from('text,label\nna'), Buffer.from([0xef, 0x76]), Buffer.from('e,1\n')]));
      await rejectsWith(spec(target), ':2:3: invalid UTF-8 (byte 0xEF)', { badRows: 'skip' });
    });

    it('refuses a record longer than the limit', async () => {
      const target = await file('long.csv', `text,label\n"${'z\n'.repeat(600)}",0\n`);
      await rejectsWith(spec(target), ':2: record is longer than the 1000 bytes limit (an unclosed quote?)', { maxLineBytes: 1000 });
    });
  });

  describe('JSON arrays', () => {
    it('reads a pretty-printed array, each row at the line where its object starts', async () => {
      const target = await file('ok.json', '[\n  {\n    "text": "one, [with] {brackets}",\n    "label": 0\n  },\n  {"text": "two \\"q\\"", "label": 1}\n]\n');
      const { rows } = await loadDataset(spec(target));
      assert.deepEqual(rows.map((r) => [r.index, r.line, r.inputs.text, r.label]), [[0, 2, 'one, [with] {brackets}', '0'], [1, 6, 'two "q"', '1']]);
    });

    it('locates the bad element of a one-line array by column and reads the rest', async () => {
      const target = await file('one-line.json', '[{"text":"a","label":0}, {"text":"b","label":1 "x":2}, 5, {"text":"c","label":1}]');
      const { rows, skipped } = await loadDataset(spec(target), { badRows: 'skip' });
      assert.deepEqual(rows.map((r) => [r.index, r.inputs.text]), [[0, 'a'], [3, 'c']]);
      assert.deepEqual(skipped, [
        { line: 1, column: 48, problem: 'malformed JSON: expected "," or "}", found \'"\'' },
        { line: 1, column: 56, problem: 'expected a JSON object, found a number' },
      ]);
    });

    it('rejects a file that is not an array, a missing comma and an unclosed array', async () => {
      await rejectsWith(spec(await file('object.json', '{"text":"a"}')), ':1:1: expected a JSON array ("["), found "{"');
      await rejectsWith(spec(await file('comma.json', '[\n{"text":"a","label":0}\n{"text":"b","label":0}\n]')), ':3:1: expected "," or "]" after the element, found "{"');
      await rejectsWith(spec(await file('open.json', '[\n{"text":"a","label":0},\n')), ':2: the array is never closed (missing "]")');
      await rejectsWith(spec(await file('brackets.json', '[\n{"text":"a","label":[0}\n]')), ':2:23: unexpected "}": the brackets of the element starting at line 2 do not match');
    });
  });

  describe('specs', () => {
    it('takes the format from the spec over the extension, and refuses an unknown extension', async () => {
      const target = await file('data.txt', '{"text":"a","label":0}\n');
      assert.equal((await loadDataset(spec(target, { format: 'jsonl' }))).rows.length, 1);
      await rejectsWith(spec(target), ': cannot tell the format from the extension (use .jsonl, .json, .csv or .tsv, or name the format: jsonl, json, csv, tsv)');
    });

    it('joins several input fields and reads generative references from a string or a list', async () => {
      const target = await file('qa.jsonl', '{"premise":"p","hypothesis":"h","answers":["x", 2]}\n{"premise":"p2","hypothesis":"h2","answers":"y"}\n');
      const { rows } = await loadDataset({ file: target, inputs: ['premise', 'hypothesis'], task: { type: 'generative', target: 'answers' } });
      assert.deepEqual(rows.map((r) => [r.inputs, r.references]), [[{ premise: 'p', hypothesis: 'h' }, ['x', '2']], [{ premise: 'p2', hypothesis: 'h2' }, ['y']]]);
    });

    it('rejects an empty reference list and a reference that is not text', async () => {
      const generative = (target: string): DatasetSpec => ({ file: target, inputs: ['q'], task: { type: 'generative', target: 'answers' } });
      await rejectsWith(generative(await file('empty-list.jsonl', '{"q":"a","answers":[]}\n')), ':1: field "answers" is an empty list');
      await rejectsWith(generative(await file('null-item.jsonl', '{"q":"a","answers":["x",null]}\n')), ':1: field "answers" has an item that is null (item 2)');
    });

    it('stops when its abort signal fires', async () => {
      const target = await file('abort.jsonl', '{"text":"a"}\n{"text":"b"}\n');
      const controller = new AbortController();
      controller.abort(new Error('stopped by the user'));
      await assert.rejects(loadDataset({ file: target, inputs: ['text'] }, { signal: controller.signal }), { message: 'stopped by the user' });
    });

    it('refuses a spec that cannot work before reading the file', async () => {
      await assert.rejects(loadDataset({ file: 'x.jsonl', inputs: [] }), { message: 'invalid dataset spec: no input field given' });
      await assert.rejects(
        loadDataset({ file: 'x.jsonl', inputs: ['text'], task: { type: 'classification', target: 'label', labels: [{ value: 'a', verbalizer: 'yes' }, { value: 'b', verbalizer: 'yes' }] } }),
        { message: 'invalid dataset spec: labels "a" and "b" have the same verbalizer "yes"' },
      );
    });
  });

  describe('the shared datasets', () => {
    const datasets = path.join(packageRoot(), '..', 'shared', 'datasets');
    before(function () {
      if (!existsSync(datasets)) {
        console.log(`      skipped: ${datasets} is absent`);
        this.skip();
      }
    });

    async function shared(name: string, split: string, more: Partial<DatasetSpec> = {}) {
      const labels = await readLabelsFile(path.join(datasets, name, 'labels.json'));
      return loadDataset({ file: path.join(datasets, name, `${split}.jsonl`), inputs: ['text'], id: 'id', task: { type: 'classification', target: 'label', labels }, ...more });
    }

    it('loads the 67,349 rows of SST-2 train in seconds', async function () {
      this.timeout(30_000);
      const started = performance.now();
      const { rows, skipped } = await shared('sst2', 'train');
      const seconds = (performance.now() - started) / 1000;
      console.log(`      sst2 train: ${rows.length} rows in ${seconds.toFixed(2)} s`);
      assert.equal(rows.length, 67_349);
      assert.equal(skipped.length, 0);
      assert.equal(rows.filter((r) => r.label === '0').length, 29_780);
      assert.ok(seconds < 10, `took ${seconds} s`);
    });

    it('loads SST-2 validation (872 rows) and AG News test (7,600 rows, 1,900 per class)', async () => {
      assert.equal((await shared('sst2', 'validation')).rows.length, 872);
      const agNews = (await shared('ag_news', 'test')).rows;
      assert.equal(agNews.length, 7600);
      for (const label of ['1', '2', '3', '4']) assert.equal(agNews.filter((r) => r.label === label).length, 1900);
    });

    it('loads TREC with its genuine U+FFFD, CB with two inputs and NQ-open with lists of answers', async () => {
      const trec = (await shared('trec', 'train')).rows;
      assert.equal(trec.length, 5452);
      assert.equal(trec.filter((r) => r.inputs.text!.includes('\uFFFD')).length, 1);
      const cb = (await shared('cb', 'validation', { inputs: ['premise', 'hypothesis'] })).rows;
      assert.equal(cb.length, 56);
      const nqFile = path.join(datasets, 'nq_open', 'validation.jsonl');
      const nq = await loadDataset({ file: nqFile, inputs: ['question'], id: 'id', task: { type: 'generative', target: 'answers' } });
      assert.equal(nq.rows.length, 3610);
      const firstLine = JSON.parse((await readFile(nqFile, 'utf8')).split('\n')[0]!) as { answers: string[] };
      assert.deepEqual(nq.rows[0]!.references, firstLine.answers);
    });
  });
});
