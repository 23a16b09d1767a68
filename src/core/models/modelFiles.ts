// GGUF files on disk: the ones a folder holds (for "Select Model…") and whether a path is one
// (for the Model view, before the engine is asked to load it).
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export const ggufMagic = 'GGUF';

export interface GgufFileEntry {
  readonly path: string;
  readonly bytes: number;
  readonly modified: Date;
}

/**
 * The .gguf files in `dir` and its subfolders (down to `depth`), largest first; none when the folder
 * does not exist. Partial downloads (`*.gguf.ipull`) are not .gguf files, so they are never listed.
 */
export async function listGgufFiles(dir: string, depth = 2): Promise<GgufFileEntry[]> {
  const found: GgufFileEntry[] = [];
  const walk = async (folder: string, level: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && level < depth && !entry.name.startsWith('.') && entry.name !== 'node_modules') await walk(full, level + 1);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.gguf')) {
        const info = await stat(full).catch(() => undefined);
        if (info) found.push({ path: full, bytes: info.size, modified: info.mtime });
      }
    }
  };
  await walk(dir, 0);
  return found.sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path));
}

export type ModelFileCheck =
  | { readonly ok: true; readonly bytes: number }
  | { readonly ok: false; readonly problem: 'missing' | 'not-a-file' | 'not-gguf' | 'unreadable'; readonly message: string };

/** Whether `file` exists and starts with the GGUF magic, without loading it. */
export async function checkModelFile(file: string): Promise<ModelFileCheck> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, problem: 'missing', message: `${file} does not exist` };
    return { ok: false, problem: 'unreadable', message: `${file}: ${(error as Error).message}` };
  }
  if (!info.isFile()) return { ok: false, problem: 'not-a-file', message: `${file} is a folder, not a GGUF file` };
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(4);
      const { bytesRead } = await handle.read(buffer, 0, 4, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { ok: false, problem: 'unreadable', message: `${file}: ${(error as Error).message}` };
  }
  if (head.toString('latin1') !== ggufMagic) {
    return { ok: false, problem: 'not-gguf', message: `${file} is not a GGUF file (${describeMagic(head)})` };
  }
  return { ok: true, bytes: info.size };
}

/** What the first bytes of a file that should be GGUF are, for an error message. */
export function describeMagic(head: Uint8Array): string {
  if (head.length === 0) return 'it is empty';
  const printable = Array.from(head, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : null));
  const shown = printable.every((c) => c !== null) ? JSON.stringify(printable.join('')) : Array.from(head, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return `it starts with ${shown}, not "GGUF"`;
}
