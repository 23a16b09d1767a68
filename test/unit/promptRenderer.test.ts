import assert from 'node:assert/strict';
import { classificationTemplate } from '../../src/core/template/defaultTemplates.js';
import { renderPrompt, renderPromptPrefix, renderQuerySuffix, type RenderedPrompt } from '../../src/core/template/promptRenderer.js';
import { TemplateError } from '../../src/core/template/templateError.js';
import { parseTemplate } from '../../src/core/template/templateParser.js';

const demonstrations = [
  { inputs: { text: 'a gem' }, answer: 'positive' },
  { inputs: { text: 'dull' }, answer: 'negative' },
];
const query = { inputs: { text: 'fine work' } };

/** Each piece's span must index its own text, pieces must tile the text without gaps. */
function assertTiled(rendered: RenderedPrompt, start = 0): void {
  let at = start;
  for (const piece of rendered.pieces) {
    assert.equal(piece.start, at, `${piece.kind} starts where the previous piece ends`);
    assert.equal(rendered.text.slice(piece.start - start, piece.end - start), piece.text);
    at = piece.end;
  }
  assert.equal(at - start, rendered.text.length);
}

describe('rendering prompts', () => {
  it('joins instruction, demonstrations and query with the separator and ends with the answer prefix', () => {
    const rendered = renderPrompt(classificationTemplate, demonstrations, query);
    assert.equal(
      rendered.text,
      'Classify each input. Answer with one of the labels.\n\n' +
        'Input: a gem\nLabel: positive\n\n' +
        'Input: dull\nLabel: negative\n\n' +
        'Input: fine work\nLabel:',
    );
    assert.deepEqual(
      rendered.pieces.map((piece) => (piece.kind === 'demonstration' ? `demonstration ${piece.index}` : piece.kind)),
      ['instruction', 'separator', 'demonstration 0', 'separator', 'demonstration 1', 'separator', 'query', 'answer-prefix'],
    );
    assertTiled(rendered);
  });

  it('gives each piece its character span [start, end)', () => {
    const rendered = renderPrompt(classificationTemplate, demonstrations, query);
    const span = (index: number) => [rendered.pieces[index]!.start, rendered.pieces[index]!.end];
    assert.deepEqual(span(0), [0, 51]);
    assert.deepEqual(span(2), [53, 81]);
    assert.equal(rendered.text.slice(span(2)[0], span(2)[1]), 'Input: a gem\nLabel: positive');
    assert.equal(rendered.text.slice(...(span(6) as [number, number])), 'Input: fine work');
    assert.equal(rendered.pieces.at(-1)!.end, rendered.text.length);
  });

  it('is the prefix followed by the query suffix, whose spans continue from the prefix', () => {
    const prefix = renderPromptPrefix(classificationTemplate, demonstrations);
    const suffix = renderQuerySuffix(classificationTemplate, query, prefix.text.length);
    const whole = renderPrompt(classificationTemplate, demonstrations, query);
    assert.equal(prefix.text + suffix.text, whole.text);
    assert.deepEqual([...prefix.pieces, ...suffix.pieces], whole.pieces);
    assert.equal(prefix.pieces.at(-1)!.kind, 'separator');
    assert.ok(suffix.pieces.every((piece) => piece.kind === 'query' || piece.kind === 'answer-prefix'));
    assertTiled(suffix, prefix.text.length);
  });

  it('keeps the prefix the same for every query', () => {
    const first = renderPrompt(classificationTemplate, demonstrations, query);
    const second = renderPrompt(classificationTemplate, demonstrations, { inputs: { text: 'another, much longer review' } });
    const prefixLength = renderPromptPrefix(classificationTemplate, demonstrations).text.length;
    assert.equal(first.text.slice(0, prefixLength), second.text.slice(0, prefixLength));
  });

  it('writes no separator before the query when there is neither instruction nor demonstration', () => {
    const template = parseTemplate('@demonstration\n{{x}}={{answer}}\n@query\n{{x}}=\n@separator\n;', 't.icl.tmpl');
    const rendered = renderPrompt(template, [], { inputs: { x: '1' } });
    assert.equal(rendered.text, '1=');
    assert.equal(renderPromptPrefix(template, []).text, '');
    assert.deepEqual(rendered.pieces, [{ kind: 'query', text: '1=', start: 0, end: 2 }]);
  });

  it('keeps an empty demonstration as a block with its own piece and separators around it', () => {
    const template = parseTemplate('@demonstration\n{{x}}{{answer}}\n@query\n?{{x}}\n@separator\n|', 't.icl.tmpl');
    const rendered = renderPrompt(template, [{ inputs: { x: '' }, answer: '' }, { inputs: { x: 'b' }, answer: 'B' }], { inputs: { x: 'c' } });
    assert.equal(rendered.text, '|bB|?c');
    assert.deepEqual(rendered.pieces.slice(0, 2), [
      { kind: 'demonstration', index: 0, text: '', start: 0, end: 0 },
      { kind: 'separator', text: '|', start: 0, end: 1 },
    ]);
  });

  it('inserts field values verbatim, braces and backslashes included', () => {
    const rendered = renderPrompt(classificationTemplate, [{ inputs: { text: '{{answer}} \\n' }, answer: '{x}' }], query);
    assert.match(rendered.text, /Input: \{\{answer\}\} \\n\nLabel: \{x\}/);
  });

  it('names the demonstration and the placeholder location when an input lacks a field', () => {
    assert.throws(
      () => renderPrompt(classificationTemplate, [demonstrations[0]!, { inputs: { sentence: 'x' }, answer: 'negative' }], query),
      (error: unknown) => error instanceof TemplateError && error.line === 10 && error.column === 8 && /demonstration 1 has no field "text"/.test(error.message),
    );
    assert.throws(() => renderPrompt(classificationTemplate, [], { inputs: {} }), /the query has no field "text"/);
  });

  it('does not take a field from the object prototype', () => {
    const template = parseTemplate('@demonstration\n{{toString}}{{answer}}\n@query\n{{toString}}', 't.icl.tmpl');
    assert.throws(() => renderQuerySuffix(template, { inputs: {} }), /the query has no field "toString"/);
  });
});
