// Lays out continuation scoring so every demonstration prefix is evaluated once per window and
// its KV cache serves all the probe queries after it, each in its own sequence, and a query's
// tokens are shared by all its candidate continuations (labels). Only the tokens whose logits are
// needed are evaluated: a continuation's last token never is, so single-token labels cost nothing
// beyond their query.
import type { WindowPlan } from './addon.js';
import { WindowPlanBuilder } from './windowPlanBuilder.js';

export interface ContinuationQuery {
  /** The caller's key for this query; results come back under it. */
  readonly key: number;
  /** Tokens after the prefix up to the answer slot; never empty. */
  readonly query: Int32Array;
  /** Candidate continuations (label verbalizers, a reference answer), each non-empty. */
  readonly continuations: readonly Int32Array[];
}

export interface ScoringGroup {
  /** Tokens every query of the group sees first (BOS, instruction, demonstrations). */
  readonly prefix: Int32Array;
  readonly queries: readonly ContinuationQuery[];
  /**
   * Lay the group out in windows of its own, shared with no other group: groups with the same
   * queries then get the same layout (each query in the same sequence, after its prefix, split
   * across windows at the same query wherever the sequence limit decides), so a difference of
   * their scores holds no trace of which groups happened to share a batch.
   */
  readonly ownWindow?: boolean;
}

/** Where the answer to one logprob request goes. */
export interface LogprobTarget {
  readonly key: number;
  readonly continuation: number;
}

/** Where a query's prompt ends in a window: generation continues from here. */
export interface QueryEnd {
  readonly key: number;
  /** Index of the query's last token in the window. */
  readonly lastToken: number;
  /** The sequence id of the query's first branch. */
  readonly sequence: number;
  /** Position the next token after the query takes. */
  readonly nextPosition: number;
}

export interface ScoringWindow {
  readonly plan: WindowPlan;
  /** One per logprob request of the plan, in order. */
  readonly targets: readonly LogprobTarget[];
  readonly queryKeys: readonly number[];
  readonly queryEnds: readonly QueryEnd[];
}

export class QueryTooLongError extends Error {
  constructor(
    readonly key: number,
    readonly tokens: number,
    readonly contextSize: number,
  ) {
    super(`query ${key}: ${tokens} tokens with its prefix and continuations exceed the context size of ${contextSize}`);
    this.name = 'QueryTooLongError';
  }
}

/** Tokens a query adds after its prefix: the query and every continuation but its last token. */
export function queryCost(query: ContinuationQuery): number {
  return query.query.length + query.continuations.reduce((n, c) => n + c.length - 1, 0);
}

/** Sequences a query needs: one per continuation longer than a token, at least one. */
function sequencesOf(query: ContinuationQuery): number {
  return Math.max(1, query.continuations.filter((c) => c.length > 1).length);
}

/** The least work possible: every distinct prefix once, plus every query's own tokens. */
export function minimumTokens(groups: readonly ScoringGroup[]): number {
  return groups.reduce((n, g) => n + g.prefix.length + g.queries.reduce((m, q) => m + queryCost(q), 0), 0);
}

interface PendingGroup {
  readonly prefix: Int32Array;
  readonly queries: ContinuationQuery[];
}

/**
 * Packs groups into windows of at most contextSize tokens and maxSequences sequences. A group
 * whose queries do not all fit is continued in the next window, its prefix evaluated again there.
 */
export function* planScoringWindows(
  groups: readonly ScoringGroup[],
  limits: { readonly contextSize: number; readonly maxSequences: number },
  /** Room kept in the window after each query, for tokens generated later. */
  reservePerQuery = 0,
): Generator<ScoringWindow> {
  let pending: PendingGroup[] = [];
  let tokens = 0;
  let sequences = 0;
  const flush = (): ScoringWindow => {
    const window = layoutScoringWindow(pending);
    pending = [];
    tokens = 0;
    sequences = 0;
    return window;
  };
  for (const group of groups) {
    // A group that would fit whole in an empty window starts one rather than being split, which
    // would evaluate its prefix twice.
    const groupTokens = group.prefix.length + group.queries.reduce((n, q) => n + queryCost(q) + reservePerQuery, 0);
    const groupSequences = group.queries.reduce((n, q) => n + sequencesOf(q), 0);
    const fitsEmpty = groupTokens <= limits.contextSize && groupSequences <= limits.maxSequences;
    const fitsHere = tokens + groupTokens <= limits.contextSize && sequences + groupSequences <= limits.maxSequences;
    if (pending.length > 0 && ((fitsEmpty && !fitsHere) || group.ownWindow)) yield flush();
    let current: PendingGroup | undefined;
    for (const query of group.queries) {
      const cost = queryCost(query) + reservePerQuery;
      const seqs = sequencesOf(query);
      if (group.prefix.length + cost > limits.contextSize || seqs > limits.maxSequences) {
        throw new QueryTooLongError(query.key, group.prefix.length + cost, limits.contextSize);
      }
      const prefixCost = current ? 0 : group.prefix.length;
      if (tokens + prefixCost + cost > limits.contextSize || sequences + seqs > limits.maxSequences) {
        yield flush();
        current = undefined;
      }
      if (!current) {
        current = { prefix: group.prefix, queries: [] };
        pending.push(current);
        tokens += group.prefix.length;
      }
      current.queries.push(query);
      tokens += cost;
      sequences += seqs;
    }
    if (group.ownWindow && pending.length > 0) yield flush();
  }
  if (pending.length > 0) yield flush();
}

function layoutScoringWindow(groups: readonly PendingGroup[]): ScoringWindow {
  const builder = new WindowPlanBuilder();
  const logprobTokens: number[] = [];
  const logprobTargets: number[] = [];
  const targets: LogprobTarget[] = [];
  const queryKeys: number[] = [];
  const queryEnds: QueryEnd[] = [];

  let nextSequence = 0;
  for (const group of groups) {
    const querySequences = group.queries.map((q) => Array.from({ length: sequencesOf(q) }, () => nextSequence++));
    const groupSequences = querySequences.flat();
    group.prefix.forEach((token, i) => builder.put(token, i, groupSequences));
    group.queries.forEach((query, q) => {
      queryKeys.push(query.key);
      const sequences = querySequences[q]!;
      let position = group.prefix.length;
      let last = -1;
      for (const token of query.query) last = builder.put(token, position++, sequences);
      queryEnds.push({ key: query.key, lastToken: last, sequence: sequences[0]!, nextPosition: position });
      let branch = 0;
      query.continuations.forEach((continuation, c) => {
        // P(first token) comes from the query's last token, shared by every continuation.
        logprobTokens.push(last);
        logprobTargets.push(continuation[0]!);
        targets.push({ key: query.key, continuation: c });
        if (continuation.length === 1) return;
        const sequence = [sequences[branch++]!];
        let branchPosition = position;
        for (let j = 1; j < continuation.length; j++) {
          const previous = builder.put(continuation[j - 1]!, branchPosition++, sequence);
          logprobTokens.push(previous);
          logprobTargets.push(continuation[j]!);
          targets.push({ key: query.key, continuation: c });
        }
      });
    });
  }
  return {
    plan: {
      ...builder.build(),
      spanLengths: new Int32Array(0),
      keepRaw: new Uint8Array(0),
      logitsTokens: new Int32Array(0),
      logprobTokens: Int32Array.from(logprobTokens),
      logprobTargets: Int32Array.from(logprobTargets),
    },
    targets,
    queryKeys,
    queryEnds,
  };
}
