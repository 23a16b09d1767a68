import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/core/format/atomicFile.js';
import { checkRunFolderWritable, describeWriteError } from '../../src/core/experiment/runFolderSpace.js';

const errno = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

describe('run folder: writable and with room before any model work', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-space-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('passes a writable folder with room, creating it and leaving nothing behind', async () => {
    const run = path.join(dir, 'a', 'run');
    await checkRunFolderWritable(run);
    assert.deepEqual(await readdir(run), []);
  });

  it('refuses a folder whose file system has less free space than the run needs, naming it', async () => {
    await assert.rejects(checkRunFolderWritable(path.join(dir, 'b'), Number.MAX_SAFE_INTEGER), (error: Error) => {
      assert.match(error.message, new RegExp(`^${path.join(dir, 'b').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has .* free on its file system; a run needs at least .*: free space there or choose another --out$`));
      return true;
    });
  });

  it('says what a read-only folder or a full disk means and what to do', () => {
    assert.equal(describeWriteError(errno('EROFS', 'EROFS: read-only file system, mkdir'), '/mnt/ro/run'), '/mnt/ro/run cannot be written: it is on a read-only file system (EROFS); choose a run folder you can write (--out DIR)');
    assert.equal(
      describeWriteError(errno('ENOSPC', 'ENOSPC: no space left on device, write'), '/mnt/full/run/stats.csv', true),
      '/mnt/full/run/stats.csv cannot be written: no space left on the device (ENOSPC); free space there, then continue with --resume (finished units are kept)',
    );
    assert.equal(describeWriteError(errno('ENOSPC', 'ENOSPC'), '/mnt/full/new'), '/mnt/full/new cannot be written: no space left on the device (ENOSPC); free space there and run again');
    assert.equal(describeWriteError(errno('EIO', 'EIO: i/o error'), '/x'), '/x: EIO: i/o error');
  });

  it('names the file in a failed atomic write and leaves no partial file', async () => {
    const target = path.join(dir, 'missing-folder', 'unit.json');
    await assert.rejects(writeFileAtomic(target, 'x'), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, 'ENOENT');
      assert.ok(error.path?.includes('missing-folder'));
      return true;
    });
    assert.ok(!existsSync(path.join(dir, 'missing-folder')));
  });
});
