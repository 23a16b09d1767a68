// Builds a WindowPlan's token arrays one token at a time, so the extraction and the scoring
// layouts state only where tokens go, not how the flat arrays encode it.
import type { WindowPlan } from './addon.js';

export class WindowPlanBuilder {
  private readonly tokens: number[] = [];
  private readonly positions: number[] = [];
  private readonly seqOffsets: number[] = [];
  private readonly seqIds: number[] = [];
  private readonly spanOf: number[] = [];

  /** Appends a token seen by `sequences` (span index, or -1 outside every span); returns its index. */
  put(token: number, position: number, sequences: readonly number[], span = -1): number {
    this.seqOffsets.push(this.seqIds.length);
    this.seqIds.push(...sequences);
    this.tokens.push(token);
    this.positions.push(position);
    this.spanOf.push(span);
    return this.tokens.length - 1;
  }

  /** The token arrays; the caller adds spans and output requests. */
  build(): Pick<WindowPlan, 'tokens' | 'positions' | 'seqOffsets' | 'seqIds' | 'spanOf'> {
    return {
      tokens: Int32Array.from(this.tokens),
      positions: Int32Array.from(this.positions),
      seqOffsets: Int32Array.from([...this.seqOffsets, this.seqIds.length]),
      seqIds: Int32Array.from(this.seqIds),
      spanOf: Int32Array.from(this.spanOf),
    };
  }
}
