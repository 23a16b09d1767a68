// Packs tokenized examples into windows the context can hold, and lays each window out as the
// flat arrays the native tap decodes (see WindowPlan in addon.ts).
import type { WindowPlan } from './addon.js';
import { WindowPlanBuilder } from './windowPlanBuilder.js';

/** One example to read: its own tokens (the span) and what its sequence sees before them. */
export interface SpanRequest {
  /** 0-based row index in the data file; the key of stats.csv. */
  readonly example: number;
  /** Tokens only this example's sequence sees before its span (in-context demonstrations). */
  readonly leading: Int32Array;
  /** The example's own tokens; statistics are taken over these only. */
  readonly span: Int32Array;
  readonly keepRaw: boolean;
}

export interface WindowLimits {
  readonly contextSize: number;
  readonly maxSequences: number;
}

export interface PlannedWindow {
  readonly plan: WindowPlan;
  /** The requests in this window; span i of the plan is requests[i]. */
  readonly requests: readonly SpanRequest[];
}

export class SpanTooLongError extends Error {
  constructor(
    readonly example: number,
    readonly tokens: number,
    readonly contextSize: number,
  ) {
    super(`example ${example}: ${tokens} tokens (with BOS, prefix and demonstrations) exceed the context size of ${contextSize}`);
    this.name = 'SpanTooLongError';
  }
}

/**
 * Groups requests, in order, into windows. `shared` tokens (BOS and any shared prefix) are placed
 * once per window at positions 0.. with every sequence id of the window, so each example attends to
 * them and to itself only: a block-diagonal mask. Throws SpanTooLongError naming the first example
 * that cannot fit even alone.
 */
export function* planWindows(
  shared: Int32Array,
  requests: Iterable<SpanRequest>,
  limits: WindowLimits,
): Generator<PlannedWindow> {
  let pending: SpanRequest[] = [];
  let pendingTokens = shared.length;
  for (const request of requests) {
    const own = request.leading.length + request.span.length;
    if (request.span.length === 0) throw new Error(`example ${request.example}: no tokens to read`);
    if (shared.length + own > limits.contextSize) {
      throw new SpanTooLongError(request.example, shared.length + own, limits.contextSize);
    }
    if (pending.length > 0 && (pendingTokens + own > limits.contextSize || pending.length >= limits.maxSequences)) {
      yield layoutWindow(shared, pending);
      pending = [];
      pendingTokens = shared.length;
    }
    pending.push(request);
    pendingTokens += own;
  }
  if (pending.length > 0) yield layoutWindow(shared, pending);
}

export function layoutWindow(shared: Int32Array, requests: readonly SpanRequest[]): PlannedWindow {
  const builder = new WindowPlanBuilder();
  const everySequence = requests.map((_, q) => q);
  shared.forEach((token, position) => builder.put(token, position, everySequence));
  requests.forEach((request, q) => {
    let position = shared.length;
    for (const token of request.leading) builder.put(token, position++, [q]);
    for (const token of request.span) builder.put(token, position++, [q], q);
  });
  return {
    plan: {
      ...builder.build(),
      spanLengths: Int32Array.from(requests, (r) => r.span.length),
      keepRaw: Uint8Array.from(requests, (r) => (r.keepRaw ? 1 : 0)),
      logitsTokens: new Int32Array(0),
    },
    requests,
  };
}
