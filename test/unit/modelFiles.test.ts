import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkModelFile, listGgufFiles } from '../../src/core/models/modelFiles.js';

describe('GGUF files on disk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-model-files-'));
    await mkdir(path.join(dir, 'sub', 'deeper', 'deepest'), { recursive: true });
    await mkdir(path.join(dir, '.hidden'));
    await writeFile(path.join(dir, 'big.gguf'), Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(100)]));
    await writeFile(path.join(dir, 'sub', 'Small.GGUF'), 'GGUF');
    await writeFile(path.join(dir, 'sub', 'deeper', 'deepest', 'too-deep.gguf'), 'GGUF');
    await writeFile(path.join(dir, '.hidden', 'hidden.gguf'), 'GGUF');
    await writeFile(path.join(dir, 'partial.gguf.ipull'), 'GGUF');
    await writeFile(path.join(dir, 'page.gguf'), '<!DOCTYPE html>');
    await writeFile(path.join(dir, 'empty.gguf'), '');
    await writeFile(path.join(dir, 'binary.gguf'), Buffer.from([0x00, 0xff, 0x10, 0x7f]));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('lists the .gguf files of a folder and its subfolders, largest first, never partial downloads', async () => {
    const files = await listGgufFiles(dir);
    assert.deepEqual(
      files.map((f) => path.relative(dir, f.path)),
      ['big.gguf', 'page.gguf', 'binary.gguf', path.join('sub', 'Small.GGUF'), 'empty.gguf'],
    );
    assert.equal(files[0]!.bytes, 104);
    assert.deepEqual(await listGgufFiles(path.join(dir, 'no-such-folder')), []);
  });

  it('accepts a GGUF file and says what is wrong with anything else', async () => {
    assert.deepEqual(await checkModelFile(path.join(dir, 'big.gguf')), { ok: true, bytes: 104 });
    const problem = async (name: string): Promise<[string, string]> => {
      const check = await checkModelFile(path.join(dir, name));
      assert.equal(check.ok, false, name);
      return check.ok ? ['', ''] : [check.problem, check.message.replace(dir + path.sep, '')];
    };
    assert.deepEqual(await problem('missing.gguf'), ['missing', 'missing.gguf does not exist']);
    assert.deepEqual(await problem('sub'), ['not-a-file', 'sub is a folder, not a GGUF file']);
    assert.deepEqual(await problem('page.gguf'), ['not-gguf', 'page.gguf is not a GGUF file (it starts with "<!DO", not "GGUF")']);
    assert.deepEqual(await problem('empty.gguf'), ['not-gguf', 'empty.gguf is not a GGUF file (it is empty)']);
    assert.deepEqual(await problem('binary.gguf'), ['not-gguf', 'binary.gguf is not a GGUF file (it starts with 00 ff 10 7f, not "GGUF")']);
  });
});
