// How a run's work is cut into units: fixed-size chunks, the same however the run is resumed or
// sharded, so every chunk is decoded in the same windows and gives the same bits.

/** `items` cut into consecutive chunks of `size` (the last may be shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a whole number ≥ 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Shard `index` of `count` (1-based): a deterministic slice of the shardable units. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) throw new RangeError(`--shard must be I/N with 1 ≤ I ≤ N (e.g. 2/8), got "${text}"`);
  return { index, count };
}

export function describeShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** Round-robin: unit k of the enumeration belongs to shard (k mod N) + 1, which balances phases of unequal cost. */
export function ownsUnit(shard: Shard | undefined, unitNumber: number): boolean {
  return shard === undefined || unitNumber % shard.count === shard.index - 1;
}
