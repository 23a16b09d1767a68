// The vectors the similarity strategies compare (vote-k, AdaICL, k-center-greedy, k-means++, KATE).

/**
 * Mean-centred, L2-normalised copies of `vectors`, centred on the mean of `reference` (default:
 * `vectors` themselves; KATE centres test queries on the pool's mean so both live in one space).
 * A model's pooled hidden states share a large common component and a few massive dimensions
 * (Sun et al., 2024); left in, they dominate every dot product and distance. A vector equal to the
 * mean stays all zeros (no direction: cosine similarity 0 with everything).
 */
export function centredUnitVectors(vectors: readonly Float64Array[], reference: readonly Float64Array[] = vectors): Float64Array[] {
  if (reference.length === 0) return vectors.map((v) => Float64Array.from(v));
  const width = reference[0]!.length;
  const centre = new Float64Array(width);
  for (const v of reference) {
    if (v.length !== width) throw new RangeError(`centredUnitVectors: vectors differ in length (${v.length} and ${width})`);
    for (let i = 0; i < width; i++) centre[i]! += v[i]!;
  }
  for (let i = 0; i < width; i++) centre[i]! /= reference.length;
  return vectors.map((v) => {
    if (v.length !== width) throw new RangeError(`centredUnitVectors: vectors differ in length (${v.length} and ${width})`);
    const out = new Float64Array(width);
    let norm = 0;
    for (let i = 0; i < width; i++) {
      out[i] = v[i]! - centre[i]!;
      norm += out[i]! * out[i]!;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < width; i++) out[i]! /= norm;
    return out;
  });
}
