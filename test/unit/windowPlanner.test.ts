import assert from 'node:assert/strict';
import { planWindows, SpanTooLongError, type SpanRequest } from '../../src/engine/windowPlanner.js';

function request(example: number, span: number[], leading: number[] = []): SpanRequest {
  return { example, leading: Int32Array.from(leading), span: Int32Array.from(span), keepRaw: false };
}

describe('window planning', () => {
  it('places a shared prefix once with every sequence id of the window', () => {
    const [window] = [...planWindows(Int32Array.from([1, 2]), [request(0, [10, 11]), request(1, [20])], { contextSize: 64, maxSequences: 8 })];
    const { plan } = window!;
    assert.deepEqual([...plan.tokens], [1, 2, 10, 11, 20]);
    assert.deepEqual([...plan.positions], [0, 1, 2, 3, 2]);
    assert.deepEqual([...plan.seqOffsets], [0, 2, 4, 5, 6, 7]);
    assert.deepEqual([...plan.seqIds], [0, 1, 0, 1, 0, 0, 1]);
    assert.deepEqual([...plan.spanOf], [-1, -1, 0, 0, 1]);
    assert.deepEqual([...plan.spanLengths], [2, 1]);
  });

  it('keeps in-context demonstrations out of the span', () => {
    const [window] = [...planWindows(new Int32Array(0), [request(3, [7, 8], [5, 6])], { contextSize: 64, maxSequences: 8 })];
    assert.deepEqual([...window!.plan.spanOf], [-1, -1, 0, 0]);
    assert.deepEqual([...window!.plan.positions], [0, 1, 2, 3]);
  });

  it('starts a new window when the context or the sequence limit is full', () => {
    const requests = [request(0, [1, 1, 1]), request(1, [2, 2, 2]), request(2, [3]), request(3, [4])];
    const bySize = [...planWindows(Int32Array.from([9]), requests, { contextSize: 7, maxSequences: 8 })];
    assert.deepEqual(bySize.map((w) => w.requests.map((r) => r.example)), [[0, 1], [2, 3]]);
    const byCount = [...planWindows(Int32Array.from([9]), requests, { contextSize: 100, maxSequences: 3 })];
    assert.deepEqual(byCount.map((w) => w.requests.map((r) => r.example)), [[0, 1, 2], [3]]);
  });

  it('names the example whose text cannot fit the context even alone', () => {
    assert.throws(
      () => [...planWindows(Int32Array.from([9]), [request(0, [1]), request(4, [1, 2, 3, 4])], { contextSize: 4, maxSequences: 8 })],
      (error: unknown) => error instanceof SpanTooLongError && error.example === 4 && /example 4: 5 tokens/.test(error.message),
    );
  });
});
