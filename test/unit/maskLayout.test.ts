import assert from 'node:assert/strict';
import { maskLayout, maskStrategies, spanText, spanUsableForSelection, type MaskCandidate } from '../../src/core/masks.js';
import { classificationTemplate } from '../../src/core/template/defaultTemplates.js';
import { renderPromptPrefix, renderQuerySuffix, type Demonstration } from '../../src/core/template/promptRenderer.js';
import { parseTemplate } from '../../src/core/template/templateParser.js';
import { TemplateError } from '../../src/core/template/templateError.js';

const candidates: MaskCandidate[] = [
  { example: 3, demonstration: { inputs: { text: 'A fine film.' }, answer: 'positive' } },
  { example: 7, demonstration: { inputs: { text: 'Dull.' }, answer: 'negative' } },
];
const others: Demonstration[][] = [
  [{ inputs: { text: 'Loved it.' }, answer: 'positive' }, { inputs: { text: 'Awful.' }, answer: 'negative' }],
  [{ inputs: { text: 'Meh.' }, answer: 'negative' }],
];
const layouts = maskStrategies.map((mask) => maskLayout(classificationTemplate, mask, 'input', candidates, (i) => others[i]!));

describe('mask layout (src/core/masks.ts)', () => {
  it('gives every mask the same span: the input as a demonstration shows it, without the label', () => {
    for (const layout of layouts) {
      assert.deepEqual(
        layout.examples.map((e) => [e.example, e.text]),
        [
          [3, 'Input: A fine film.'],
          [7, 'Input: Dull.'],
        ],
        layout.mask,
      );
    }
  });

  it('isolated: the span alone; shared-prefix: the k-shot prompt\'s instruction and separator; in-context: the k-shot prompt\'s prefix', () => {
    const [isolated, shared, inContext] = layouts;
    assert.equal(isolated!.prefix, undefined);
    assert.ok(isolated!.examples.every((e) => e.leading === undefined));
    assert.equal(shared!.prefix, 'Classify each input. Answer with one of the labels.\n\n');
    assert.equal(shared!.prefix, renderPromptPrefix(classificationTemplate, []).text);
    assert.ok(shared!.examples.every((e) => e.leading === undefined));
    assert.equal(inContext!.prefix, undefined);
    assert.equal(
      inContext!.examples[0]!.leading,
      'Classify each input. Answer with one of the labels.\n\nInput: Loved it.\nLabel: positive\n\nInput: Awful.\nLabel: negative\n\n',
    );
    // The span stands where the k-shot prompt's query does: prefix + span is the prompt up to its answer prefix.
    inContext!.examples.forEach((e, i) => {
      assert.equal(e.leading, renderPromptPrefix(classificationTemplate, others[i]!).text);
      assert.equal(e.text, renderQuerySuffix(classificationTemplate, { inputs: candidates[i]!.demonstration.inputs }).pieces[0]!.text);
    });
  });

  it('span: demonstration holds the label, and only the input span may rank candidates', () => {
    assert.equal(spanText(classificationTemplate, candidates[0]!.demonstration, 'demonstration'), 'Input: A fine film.\nLabel: positive');
    assert.equal(spanUsableForSelection('input'), true);
    assert.equal(spanUsableForSelection('demonstration'), false);
  });

  it('keeps field names and separators between several input fields, and stops before the answer cue', () => {
    const template = parseTemplate(['@demonstration', 'Premise: {{premise}}\\nHypothesis: {{hypothesis}}\\nAnswer: {{answer}}', '@query', 'Premise: {{premise}}\\nHypothesis: {{hypothesis}}'].join('\n'), 'nli.icl.tmpl');
    assert.equal(spanText(template, { inputs: { premise: 'P.', hypothesis: 'H.' }, answer: 'yes' }, 'input'), 'Premise: P.\nHypothesis: H.');
  });

  it('refuses a demonstration with an input after its answer, and a shared-prefix mask without an instruction', () => {
    const late = parseTemplate(['@demonstration', '{{answer}}: {{text}}', '@query', '{{text}}'].join('\n'), 'late.icl.tmpl');
    assert.throws(() => spanText(late, candidates[0]!.demonstration, 'input'), (e: unknown) => e instanceof TemplateError && /the field "text" after it/.test(e.message));
    const bare = { ...classificationTemplate, instruction: '' };
    assert.throws(() => maskLayout(bare, 'shared-prefix', 'input', candidates), /shared-prefix mask needs an instruction/);
  });
});
