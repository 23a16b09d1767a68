import assert from 'node:assert/strict';
import { normalizeAnswer, normalizedTokens } from '../../src/core/metrics/answerNormalization.js';
import { exactMatch, longestCommonSubsequence, rougeL, tokenF1 } from '../../src/core/metrics/generativeMetrics.js';
import { SeededRandom } from '../../src/core/random.js';

function assertClose(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
}

describe('SQuAD answer normalisation', () => {
  const cases: [string, string][] = [
    ["The Cat's  hat!", 'cats hat'],
    ['An apple, a day', 'apple day'],
    ['theater and Anna', 'theater and anna'],
    ['a.m. (the time)', 'am time'],
    ['\tMany\n  spaces\u00a0here ', 'many spaces here'],
    ['Janet’s café', 'janet’s café'],
    ['éthe thé the1 the', 'éthe thé the1'],
  ];
  for (const [input, expected] of cases) {
    it(`normalises ${JSON.stringify(input)} to ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeAnswer(input), expected);
    });
  }

  it('splits the normalised answer into tokens, none for an answer of articles and punctuation', () => {
    assert.deepEqual(normalizedTokens('The Eiffel-Tower!'), ['eiffeltower']);
    assert.deepEqual(normalizedTokens(' The, a. AN? '), []);
  });
});

describe('exact match', () => {
  it('is 1 when a reference matches after normalisation and 0 otherwise', () => {
    assert.equal(exactMatch('The Eiffel Tower', ['Paris', 'eiffel tower!']), 1);
    assert.equal(exactMatch('Eiffel', ['Eiffel Tower']), 0);
  });

  it('refuses to score without a reference', () => {
    assert.throws(() => exactMatch('x', []), RangeError);
  });
});

describe('token F1', () => {
  it('is the harmonic mean of token precision and recall (hand-computed: 3 of 4 tokens each way)', () => {
    assertClose(tokenF1('the cat sat on the mat', ['a cat on a mat today']), 0.75);
  });

  it('counts repeated tokens as a multiset', () => {
    // common 1, precision 1/3, recall 1/2
    assertClose(tokenF1('cat cat cat', ['cat dog']), 0.4);
  });

  it('takes the best reference', () => {
    // second reference: precision 1, recall 2/3
    assertClose(tokenF1('cat sat', ['dog', 'cat sat down']), 0.8);
  });

  it('is 1 when both sides normalise to nothing and 0 when only one does', () => {
    assert.equal(tokenF1('The.', ['a']), 1);
    assert.equal(tokenF1('', ['cat']), 0);
    assert.equal(tokenF1('cat', ['the']), 0);
  });
});

describe('ROUGE-L', () => {
  it('finds the longest common subsequence', () => {
    assert.equal(longestCommonSubsequence([...'ABCBDAB'], [...'BDCABA']), 4);
    assert.equal(longestCommonSubsequence([], ['a']), 0);
  });

  it('is the F1 of LCS precision and recall (hand-computed: LCS 3 of 4 and 5 tokens)', () => {
    // LCS "w y z": precision 3/4, recall 3/5, F1 = 2/3
    assertClose(rougeL('w x y z', ['w y q z v']), 2 / 3);
  });

  it('punishes word order that token F1 ignores', () => {
    assert.equal(tokenF1('the cat sat on the mat', ['mat on cat sat']), 1);
    assertClose(rougeL('the cat sat on the mat', ['mat on cat sat']), 0.5);
  });

  it('takes the best reference, and is 1 for two empty answers', () => {
    assert.equal(rougeL('cat sat', ['sat cat', 'The cat, sat.']), 1);
    assert.equal(rougeL('An.', ['the']), 1);
    assert.equal(rougeL('cat', ['dog']), 0);
  });

  it('lies between exact match and token F1, and is symmetric with one reference, on random answers', () => {
    const random = new SeededRandom(7);
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'Mat!'];
    const answer = () => Array.from({ length: random.int(6) }, () => words[random.int(words.length)]).join(' ');
    for (let trial = 0; trial < 500; trial++) {
      const prediction = answer();
      const references = Array.from({ length: 1 + random.int(3) }, answer);
      const [em, rouge, f1] = [exactMatch(prediction, references), rougeL(prediction, references), tokenF1(prediction, references)];
      assert.ok(em <= rouge + 1e-12 && rouge <= f1 + 1e-12, `${prediction} vs ${references.join(' | ')}: ${em} ${rouge} ${f1}`);
      assertClose(rougeL(prediction, [references[0]!]), rougeL(references[0]!, [prediction]));
      assertClose(tokenF1(prediction, [references[0]!]), tokenF1(references[0]!, [prediction]));
    }
  });
});
