import assert from 'node:assert/strict';
import { minimumTokens, planScoringWindows, QueryTooLongError, type ScoringGroup } from '../../src/engine/scoringPlanner.js';

const i32 = (...values: number[]): Int32Array => Int32Array.from(values);

describe('scoring layout', () => {
  const group: ScoringGroup = {
    prefix: i32(1, 2),
    queries: [
      { key: 7, query: i32(10, 11), continuations: [i32(50), i32(60, 61, 62)] },
      { key: 8, query: i32(20), continuations: [i32(50), i32(70)] },
    ],
  };

  it('shares the prefix with every sequence and a query with its continuations, skipping last tokens', () => {
    const [window] = [...planScoringWindows([group], { contextSize: 64, maxSequences: 8 })];
    const { plan, targets } = window!;
    // prefix, query 7, the 3-token label's first two tokens, query 8.
    assert.deepEqual([...plan.tokens], [1, 2, 10, 11, 60, 61, 20]);
    assert.deepEqual([...plan.positions], [0, 1, 2, 3, 4, 5, 2]);
    const sequencesOf = (t: number): number[] => [...plan.seqIds.subarray(plan.seqOffsets[t]!, plan.seqOffsets[t + 1]!)];
    assert.deepEqual(sequencesOf(0), [0, 1]);
    assert.deepEqual(sequencesOf(2), [0]);
    assert.deepEqual(sequencesOf(4), [0]);
    assert.deepEqual(sequencesOf(6), [1]);
    // P(50|…11), P(60|…11), P(61|…60), P(62|…61), P(50|…20), P(70|…20)
    assert.deepEqual([...plan.logprobTokens!], [3, 3, 4, 5, 6, 6]);
    assert.deepEqual([...plan.logprobTargets!], [50, 60, 61, 62, 50, 70]);
    assert.deepEqual(targets.map((t) => `${t.key}:${t.continuation}`), ['7:0', '7:1', '7:1', '7:1', '8:0', '8:1']);
  });

  it('counts the minimum as each prefix once plus every query suffix', () => {
    assert.equal(minimumTokens([group]), 2 + (2 + 2) + 1);
  });

  it('repeats the prefix in a new window when the context is full', () => {
    const windows = [...planScoringWindows([group], { contextSize: 6, maxSequences: 8 })];
    assert.equal(windows.length, 2);
    assert.deepEqual(windows.map((w) => w.queryKeys), [[7], [8]]);
    assert.deepEqual([...windows[1]!.plan.tokens], [1, 2, 20]);
  });

  it('names a query that cannot fit even alone', () => {
    assert.throws(() => [...planScoringWindows([group], { contextSize: 5, maxSequences: 8 })], (e: unknown) => e instanceof QueryTooLongError && e.key === 7);
  });
});

describe('scoring window packing', () => {
  const group = (first: number): ScoringGroup => ({
    prefix: Int32Array.from([1, 2, 3]),
    queries: [0, 1].map((k) => ({ key: first + k, query: Int32Array.from([10, 11]), continuations: [Int32Array.from([50])] })),
  });

  it('starts a new window for a group that fits whole there rather than splitting it', () => {
    // Each group costs 3 + 2 × 2 = 7 tokens; two fit in 14, the third would be split across windows.
    const windows = [...planScoringWindows([group(0), group(2), group(4)], { contextSize: 16, maxSequences: 64 })];
    assert.deepEqual(windows.map((w) => w.queryKeys), [[0, 1, 2, 3], [4, 5]]);
    const evaluated = windows.reduce((n, w) => n + w.plan.tokens.length, 0);
    assert.equal(evaluated, minimumTokens([group(0), group(2), group(4)]));
  });

  it('lays out own-window groups alone, each with the same layout for the same queries (one-shot gain\'s zero-shot and candidate prompts)', () => {
    const queries = [1, 2, 3].map((q) => ({ key: q, query: i32(20 + q, 30 + q), continuations: [i32(50), i32(60)] }));
    const zeroShot: ScoringGroup = { prefix: i32(1, 2), queries, ownWindow: true };
    const oneShot: ScoringGroup = { prefix: i32(1, 2, 7, 8, 9), queries: queries.map((q) => ({ ...q, key: q.key + 10 })), ownWindow: true };
    // Room for both groups in one window, and a sequence limit that splits each group after two queries.
    const windows = [...planScoringWindows([zeroShot, oneShot, zeroShot], { contextSize: 256, maxSequences: 2 })];
    assert.deepEqual(windows.map((w) => w.queryKeys), [[1, 2], [3], [11, 12], [13], [1, 2], [3]]);
    const shape = (w: (typeof windows)[number], prefix: number): string =>
      JSON.stringify({
        queryTokens: [...w.plan.tokens.subarray(prefix)],
        positions: [...w.plan.positions.subarray(prefix)].map((p) => p - prefix),
        sequences: [...w.plan.seqIds.subarray(w.plan.seqOffsets[prefix]!)],
        logprobs: [...w.plan.logprobTokens!].map((t) => t - prefix),
      });
    assert.equal(shape(windows[2]!, 5), shape(windows[0]!, 2));
    assert.equal(shape(windows[3]!, 5), shape(windows[1]!, 2));
    // Without the flag the planner packs groups together: the zero-shot queries share a window with the one-shot ones.
    const packed = [...planScoringWindows([{ ...zeroShot, ownWindow: false }, { ...oneShot, ownWindow: false }], { contextSize: 256, maxSequences: 8 })];
    assert.deepEqual(packed.map((w) => w.queryKeys), [[1, 2, 3, 11, 12, 13]]);
  });
});
