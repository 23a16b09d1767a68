import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseLabelList, readLabelsFile } from '../../src/core/dataset/labelSet.js';
import { packageRoot } from '../../src/engine/packageRoot.js';

describe('label sets', () => {
  it('reads label=verbalizer pairs, trimming around them', () => {
    assert.deepEqual(parseLabelList('0=negative, 1 = positive'), [
      { value: '0', verbalizer: 'negative' },
      { value: '1', verbalizer: 'positive' },
    ]);
  });

  it('makes each label its own verbalizer when none are given', () => {
    assert.deepEqual(parseLabelList('yes,no'), [
      { value: 'yes', verbalizer: 'yes' },
      { value: 'no', verbalizer: 'no' },
    ]);
  });

  it('refuses a list mixing both forms, an empty entry, or an entry with nothing after "="', () => {
    assert.throws(() => parseLabelList('0=negative,1'), { message: 'give a verbalizer for every label (0=negative,1=positive) or for none (a,b,c)' });
    assert.throws(() => parseLabelList('a,,b'), { message: 'empty label in the list (write labels as 0=negative,1=positive or a,b,c)' });
    assert.throws(() => parseLabelList('0=,1=x'), { message: '"0=" needs a label and a verbalizer on either side of "="' });
  });

  describe('labels files', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-labels-'));
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('maps each label value to its readable name', async () => {
      const file = path.join(dir, 'labels.json');
      await writeFile(file, '{\n "ABBR": "abbreviation",\n "DESC": "description"\n}\n');
      assert.deepEqual(await readLabelsFile(file), [
        { value: 'ABBR', verbalizer: 'abbreviation' },
        { value: 'DESC', verbalizer: 'description' },
      ]);
    });

    it('refuses a file that is not an object of names', async () => {
      const file = path.join(dir, 'bad.json');
      await writeFile(file, '["negative", "positive"]');
      await assert.rejects(readLabelsFile(file), { message: `${file}: expected a JSON object mapping each label to its name, found an array` });
      await writeFile(file, '{"0": "negative", "1": 1}');
      await assert.rejects(readLabelsFile(file), { message: `${file}: label "1" needs a non-empty name, found a number` });
      await assert.rejects(readLabelsFile(path.join(dir, 'absent.json')), { message: `${path.join(dir, 'absent.json')}: file not found` });
    });

    it("reads the shared datasets' labels.json files", async function () {
      const file = path.join(packageRoot(), '..', 'shared', 'datasets', 'sst2', 'labels.json');
      if (!existsSync(file)) {
        console.log(`      skipped: ${file} is absent`);
        this.skip();
      }
      assert.deepEqual(await readLabelsFile(file), [
        { value: '0', verbalizer: 'negative' },
        { value: '1', verbalizer: 'positive' },
      ]);
    });
  });
});
