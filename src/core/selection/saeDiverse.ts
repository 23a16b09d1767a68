import { farthestFirst } from './kCenterGreedy.js';
import { checkContext, type SelectionContext, type SelectionStrategy } from './selectionStrategy.js';

/**
 * sae-diverse: k-center greedy (the same loop and seeded start as k-center-greedy) on the
 * candidates' sparse-autoencoder codes: each example's activation summed per latent over its
 * span, L2-normalised, compared by Euclidean distance without ever making them dense. A candidate
 * with no active latent is the zero vector, at distance 1 from every other code.
 */
export const saeDiverse: SelectionStrategy = {
  name: 'sae-diverse',
  needs: ['features'],
  select(context: SelectionContext) {
    const taken = checkContext(this.name, this.needs, context);
    const codes = context.pool.map((c) => unitSparse(c.features!));
    return farthestFirst(context, taken, (a, b) => sparseSquaredDistance(codes[a]!, codes[b]!));
  },
};

/** A sparse vector: latents ascending, their values. */
interface SparseVector {
  readonly latents: Int32Array;
  readonly values: Float64Array;
}

/** The code as a unit vector (the zero vector stays zero), latents ascending. */
export function unitSparse(features: ReadonlyMap<number, number>): SparseVector {
  const latents = Int32Array.from([...features.keys()].sort((a, b) => a - b));
  const values = Float64Array.from(latents, (l) => features.get(l)!);
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  if (norm > 0) for (let i = 0; i < values.length; i++) values[i]! /= norm;
  return { latents, values };
}

/** ‖a − b‖² of two sparse vectors, walking both latent lists once. */
export function sparseSquaredDistance(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.latents.length || j < b.latents.length) {
    const la = i < a.latents.length ? a.latents[i]! : Infinity;
    const lb = j < b.latents.length ? b.latents[j]! : Infinity;
    if (la === lb) sum += (a.values[i++]! - b.values[j++]!) ** 2;
    else if (la < lb) sum += a.values[i++]! ** 2;
    else sum += b.values[j++]! ** 2;
  }
  return sum;
}
