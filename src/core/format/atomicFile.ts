// Files a run folder keeps (checkpoints, CSVs, run.json, report.html, figures, raw dumps) are
// written whole or not at all: to `<file>.<pid>.partial`, flushed to disk (fsync), then renamed
// over the final name. A crash or a full disk leaves at most a `.partial`, never a torn file
// under the name readers trust.
import { open, rename, rm } from 'node:fs/promises';

export function partialName(file: string): string {
  return `${file}.${process.pid}.partial`;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const partial = partialName(file);
  try {
    const handle = await open(partial, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    // A write through a handle (ENOSPC, EDQUOT) names no file: name the one that failed.
    const failure = error as NodeJS.ErrnoException;
    if (failure.code && failure.path === undefined) {
      failure.path = file;
      failure.message = `${failure.message} (writing ${file})`;
    }
    throw failure;
  }
}
