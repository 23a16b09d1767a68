import { SeededRandom } from '../random.js';

/**
 * The order a prompt shows its demonstrations in, the one rule every strategy's prompts follow:
 * the examples sorted by row index, then shuffled by a permutation drawn from the selection seed
 * and the number of examples. The order depends on the set and the seed only, never on the order a
 * strategy chose in (a ranking's best example would otherwise always sit first, and order alone
 * moves in-context accuracy; Lu et al., 2022); each seed draws its own permutation.
 */
export function demonstrationOrder(rowIndices: readonly number[], seed: number): number[] {
  if (!Number.isInteger(seed)) throw new RangeError(`demonstrationOrder: seed must be a whole number, got ${seed}`);
  const sorted = [...rowIndices].sort((a, b) => a - b);
  // A stream of its own, apart from the acquisition seeds (seed × 1000 + round).
  const permutation = new SeededRandom(Math.imul(seed + 1, 0x9e3779b1) ^ sorted.length).sample(sorted.length, sorted.length);
  return permutation.map((i) => sorted[i]!);
}
