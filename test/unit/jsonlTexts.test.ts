import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatasetError } from '../../src/core/dataset/datasetError.js';
import { readJsonlTexts } from '../../src/core/dataset/jsonlTexts.js';

describe('reading example texts from JSON Lines', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-jsonl-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function file(name: string, content: string): Promise<string> {
    const target = path.join(dir, name);
    await writeFile(target, content);
    return target;
  }

  it('reads rows in order, skipping blank lines but counting them, through a BOM and CRLF endings', async () => {
    const rows = await readJsonlTexts(await file('ok.jsonl', '\uFEFF{"text":"one"}\r\n\r\n{"text":"two, \\"quoted\\""}\r\n'), 'text');
    assert.deepEqual(rows, [
      { example: 0, line: 1, text: 'one' },
      { example: 1, line: 3, text: 'two, "quoted"' },
    ]);
  });

  const problems: [string, string, RegExp][] = [
    ['malformed JSON', '{"text":"a"}\n{"text": oops}\n', /bad\.jsonl:2: malformed JSON/],
    ['a missing field', '{"text":"a"}\n{"sentence":"b"}\n', /bad\.jsonl:2: missing field "text"/],
    ['an empty text', '{"text":"a"}\n{"text":"   "}\n', /bad\.jsonl:2: field "text" is empty/],
    ['a text that is not a string', '{"text":7}\n', /bad\.jsonl:1: field "text" is not a string/],
    ['a row that is not an object', '["text"]\n', /bad\.jsonl:1: expected a JSON object/],
  ];
  for (const [what, content, message] of problems) {
    it(`names the file and line of ${what}`, async () => {
      const target = await file('bad.jsonl', content);
      await assert.rejects(readJsonlTexts(target, 'text'), (error: unknown) => error instanceof DatasetError && message.test(error.message));
    });
  }

  it('says when the file does not exist', async () => {
    await assert.rejects(readJsonlTexts(path.join(dir, 'absent.jsonl'), 'text'), /absent\.jsonl: file not found/);
  });
});
