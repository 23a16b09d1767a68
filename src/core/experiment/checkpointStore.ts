// A run folder's checkpoints: one file per finished unit of work, written under a temporary name
// and renamed, so a unit is either wholly there or absent however the process ended. Resuming is
// skipping the units whose file exists.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomicFile.js';

export class CheckpointStore {
  readonly dir: string;

  constructor(runDir: string) {
    this.dir = path.join(runDir, 'checkpoints');
  }

  file(unit: string): string {
    return path.join(this.dir, unit);
  }

  has(unit: string): boolean {
    return existsSync(this.file(unit));
  }

  async write(unit: string, text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(unit), text);
  }

  read(unit: string): Promise<string> {
    return readFile(this.file(unit), 'utf8');
  }

  async writeJson(unit: string, value: unknown): Promise<void> {
    await this.write(unit, JSON.stringify(value, finiteReplacer) + '\n');
  }

  async readJson<T>(unit: string): Promise<T> {
    return JSON.parse(await this.read(unit), finiteReviver) as T;
  }

  /** Finished units, by name. */
  async units(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir)).filter((name) => !name.startsWith('.') && !name.endsWith('.partial') && !/\.corrupt(\.\d+)?$/.test(name)).sort();
  }

  /**
   * Before a resume: removes `*.partial` files a killed process left, and sets aside every unit
   * that does not parse as `<unit>.corrupt` (the next free `.corrupt.N` when one exists), so it is
   * recomputed instead of failing the run or being trusted. Returns one line per file it touched.
   */
  async heal(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const lines: string[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const file = path.join(this.dir, name);
      if (name.endsWith('.partial')) {
        await rm(file, { force: true });
        lines.push(`removed ${file}, left by an interrupted write`);
        continue;
      }
      if (/\.corrupt(\.\d+)?$/.test(name)) continue;
      try {
        JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        let aside = `${file}.corrupt`;
        for (let n = 1; existsSync(aside); n++) aside = `${file}.corrupt.${n}`;
        await rename(file, aside);
        lines.push(`${file} is corrupt (${(error as Error).message.split('\n')[0]}): set aside as ${path.basename(aside)}; the unit is recomputed`);
      }
    }
    return lines;
  }
}

// JSON has no NaN or ±Infinity; metrics (log-probabilities, undefined influence) can be either.
const nonFinite: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function finiteReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { nonFinite: String(value) };
  if (value instanceof Float64Array) return Array.from(value, (x) => (Number.isFinite(x) ? x : { nonFinite: String(x) }));
  return value;
}

function finiteReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && 'nonFinite' in value && Object.keys(value).length === 1) {
    return nonFinite[(value as { nonFinite: string }).nonFinite];
  }
  return value;
}
