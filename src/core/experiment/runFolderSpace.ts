// Before any model work: the run folder must be writable and have room, so a read-only mount or a
// full disk is reported up front with the path and what to do, not as a bare ENOSPC mid-phase.
import { mkdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomicFile.js';
import { formatBytes } from '../models/downloadEvents.js';

/** The least free space a run folder needs to start: checkpoints, CSVs and a few raw dumps. */
export const minimumFreeBytes = 64 * 1024 * 1024;

const reasons: Readonly<Record<string, string>> = {
  EROFS: 'it is on a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
};

/**
 * A file-system error's message with the path and what to do, for a run folder's write; `resumable`
 * when finished units exist to continue from (else the advice is to start again).
 */
export function describeWriteError(error: NodeJS.ErrnoException, target: string, resumable = false): string {
  const reason = error.code ? reasons[error.code] : undefined;
  if (!reason) return `${target}: ${error.message}`;
  const todo =
    error.code === 'ENOSPC' || error.code === 'EDQUOT'
      ? resumable
        ? 'free space there, then continue with --resume (finished units are kept)'
        : 'free space there and run again'
      : 'choose a run folder you can write (--out DIR)';
  return `${target} cannot be written: ${reason} (${error.code}); ${todo}`;
}

export async function checkRunFolderWritable(dir: string, needBytes = minimumFreeBytes): Promise<void> {
  const probe = path.join(dir, '.icl-lab-write-check');
  try {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(probe, 'icl-lab checks that this folder is writable\n');
    await rm(probe, { force: true });
  } catch (error) {
    throw new Error(describeWriteError(error as NodeJS.ErrnoException, dir, false));
  }
  const fs = await statfs(dir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < needBytes) {
    throw new Error(`${dir} has ${formatBytes(free)} free on its file system; a run needs at least ${formatBytes(needBytes)} (checkpoints, CSVs, raw dumps): free space there or choose another --out`);
  }
}
