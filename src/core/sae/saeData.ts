// What an autoencoder is trained and evaluated on: the activation files (one per pool example's
// span, one per line of the extra text), capped at a number of tokens, and a seeded held-out share.
import { open } from 'node:fs/promises';
import { SeededRandom } from '../random.js';

/** One activation file with its size. */
export interface SaeDataFile {
  readonly file: string;
  /** The pool example it holds (row index); absent for a line of the extra text. */
  readonly example?: number;
  readonly tokens: number;
}

/**
 * The files taken, in order, while their tokens add up to at most `maxTokens` (a file that would
 * go over is skipped, a later smaller one may still fit): the pool's spans come first.
 */
export function capTokens<T extends { readonly tokens: number }>(files: readonly T[], maxTokens: number): T[] {
  const out: T[] = [];
  let total = 0;
  for (const f of files) {
    if (f.tokens === 0 || total + f.tokens > maxTokens) continue;
    out.push(f);
    total += f.tokens;
  }
  return out;
}

/**
 * Positions (ascending) of the `count` units held out: round(share × count), at least one and at
 * most count − 1, drawn with `seed`. The same count, share and seed always hold out the same units.
 */
export function heldOutPositions(count: number, share: number, seed: number): number[] {
  if (count < 2) throw new RangeError(`an SAE needs at least 2 examples to hold one out, got ${count}`);
  if (!(share > 0 && share < 1)) throw new RangeError(`heldOutShare must be between 0 and 1, got ${share}`);
  const size = Math.min(count - 1, Math.max(1, Math.round(share * count)));
  return new SeededRandom(seed).sample(count, size).sort((a, b) => a - b);
}

/** The files split into training and held-out ones, each in its original order. */
export function splitHeldOut<T>(files: readonly T[], share: number, seed: number): { train: T[]; heldOut: T[] } {
  const held = new Set(heldOutPositions(files.length, share, seed));
  return { train: files.filter((_, i) => !held.has(i)), heldOut: files.filter((_, i) => held.has(i)) };
}

/** The shape of a .npy file, from its header alone (the data can be large). */
export async function npyShape(file: string): Promise<number[]> {
  const handle = await open(file, 'r');
  try {
    const start = Buffer.alloc(12);
    await handle.read(start, 0, 12, 0);
    if (start.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
    const major = start[6]!;
    const headerLength = major === 1 ? start.readUInt16LE(8) : start.readUInt32LE(8);
    const header = Buffer.alloc(headerLength);
    await handle.read(header, 0, headerLength, major === 1 ? 10 : 12);
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header.toString('latin1'))?.[1];
    if (shapeText === undefined) throw new Error(`${file}: the .npy header has no shape`);
    return shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  } finally {
    await handle.close();
  }
}

/** Gao et al.'s step size for `latents` latents: 2e-4 / √(latents / 2¹⁴). */
export function defaultLearningRate(latents: number): number {
  return 2e-4 / Math.sqrt(latents / 2 ** 14);
}
