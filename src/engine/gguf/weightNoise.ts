// Seeded noise for generated model weights. Only integer arithmetic, exact additions and a
// correctly rounded sqrt are involved, so a seed gives the same bits on every platform.
import { SeededRandom } from '../../core/random.js';

/** FNV-1a hash of a string's UTF-16 code units. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * An independent stream per (seed, name), e.g. per tensor, so one tensor's values don't depend on
 * which tensors come before it.
 */
export function namedRandom(seed: number, name: string): SeededRandom {
  // murmur3's 32-bit finalizer, so nearby seeds and names give unrelated streams.
  let h = (seed ^ Math.imul(hashString(name), 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new SeededRandom((h ^ (h >>> 16)) >>> 0);
}

const SQRT_3 = Math.sqrt(3);

/**
 * Mean 0, variance 1, bell-shaped: the Irwin–Hall sum of four uniforms, rescaled. The sum of
 * multiples of 2^-32 is exact, and the result is bounded by ±2√3, which keeps generated weights
 * free of outliers we did not put there on purpose.
 */
export function normalish(random: SeededRandom): number {
  return (random.next() + random.next() + random.next() + random.next() - 2) * SQRT_3;
}
