import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  classificationTemplate,
  classificationTemplateText,
  generativeTemplate,
  generativeTemplateText,
} from '../../src/core/template/defaultTemplates.js';
import { TemplateError } from '../../src/core/template/templateError.js';
import { checkTemplateFields, templateFieldNames } from '../../src/core/template/templateFields.js';
import { parseTemplate } from '../../src/core/template/templateParser.js';

const minimal = ['@demonstration', 'Q: {{question}}', 'A: {{answer}}', '@query', 'Q: {{question}}'];

function parse(lines: readonly string[]) {
  return parseTemplate(lines.join('\n'), 'task.icl.tmpl');
}

/** Asserts that parsing fails with a TemplateError at line:column whose message matches. */
function assertRejected(lines: readonly string[], line: number, column: number, message: RegExp): void {
  assert.throws(
    () => parse(lines),
    (error: unknown) => {
      assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${String(error)}`);
      assert.equal(error.file, 'task.icl.tmpl');
      assert.deepEqual([error.line, error.column], [line, column], error.message);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('parsing prompt templates', () => {
  it('reads every section, dropping comments and the blank lines around section text', () => {
    const template = parse([
      '# a comment',
      '',
      '@instruction',
      '',
      'Classify the review.',
      '# a comment inside a section',
      'Be brief.',
      '',
      '@demonstration',
      'Review: {{ text }}',
      '',
      'Sentiment: {{answer}}',
      '@separator',
      '\\n---\\n',
      '@query',
      'Review: {{text}}',
      '@answer-prefix',
      '\\nSentiment:',
      '',
    ]);
    assert.equal(template.instruction, 'Classify the review.\nBe brief.');
    assert.deepEqual(template.demonstration, [
      { kind: 'text', text: 'Review: ' },
      { kind: 'placeholder', name: 'text', line: 10, column: 9, endColumn: 19 },
      { kind: 'text', text: '\n\nSentiment: ' },
      { kind: 'placeholder', name: 'answer', line: 12, column: 12, endColumn: 22 },
    ]);
    assert.equal(template.separator, '\n---\n');
    assert.deepEqual(template.query, [
      { kind: 'text', text: 'Review: ' },
      { kind: 'placeholder', name: 'text', line: 16, column: 9, endColumn: 17 },
    ]);
    assert.equal(template.answerPrefix, '\nSentiment:');
  });

  it('defaults to no instruction, a blank-line separator and an empty answer prefix', () => {
    const template = parse(minimal);
    assert.deepEqual([template.instruction, template.separator, template.answerPrefix], ['', '\n\n', '']);
  });

  it('drops trailing spaces but keeps an escaped one, and keeps leading indentation', () => {
    const template = parse([...minimal, '@answer-prefix', '  Answer:\\s   ', '@instruction', 'Read this:\t ']);
    assert.equal(template.answerPrefix, '  Answer: ');
    assert.equal(template.instruction, 'Read this:');
  });

  it('decodes every escape and keeps single braces literal', () => {
    const template = parse([...minimal, '@instruction', '\\@at \\#hash \\\\ \\{\\{x\\}\\} {"json": {"a": 1\\}\\} tab\\there\\s']);
    assert.equal(template.instruction, '@at #hash \\ {{x}} {"json": {"a": 1}} tab\there ');
  });

  it('treats @ and # as text unless they are in column 1, and accepts CRLF line endings and a BOM', () => {
    const template = parseTemplate(
      '\uFEFF@demonstration\r\n  @user #1: {{text}}\r\n\\# {{answer}}\r\n@query\r\n{{text}}\r\n',
      'crlf.icl.tmpl',
    );
    assert.deepEqual(
      template.demonstration.map((s) => (s.kind === 'text' ? s.text : `<${s.name}>`)),
      ['  @user #1: ', '<text>', '\n# ', '<answer>'],
    );
  });

  it('lists the dataset fields a template reads, in order, without {{answer}}', () => {
    const template = parse(['@demonstration', '{{premise}} / {{hypothesis}} = {{answer}}', '@query', '{{premise}} / {{hypothesis}} / {{premise}}']);
    assert.deepEqual(templateFieldNames(template), ['premise', 'hypothesis']);
  });

  const problems: [string, string[], number, number, RegExp][] = [
    ['an unclosed placeholder', ['@demonstration', 'Q: {{question} A: {{answer}}', '@query', 'x'], 2, 4, /unclosed placeholder/],
    ['a placeholder that does not close on its line', ['@demonstration', 'Q: {{question', '}} {{answer}}', '@query', 'x'], 2, 4, /unclosed placeholder/],
    ['a }} that closes nothing', ['@demonstration', '{{answer}} done}}', '@query', 'x'], 2, 16, /closes no placeholder/],
    ['a triple brace', ['@demonstration', 'A: {{{answer}}}', '@query', 'x'], 2, 6, /"\{answer" is not a placeholder name/],
    ['an empty placeholder', ['@demonstration', '{{answer}} {{ }}', '@query', 'x'], 2, 12, /"" is not a placeholder name/],
    ['a placeholder name with a space', ['@demonstration', '{{answer}} {{ my field }}', '@query', 'x'], 2, 15, /"my field" is not a placeholder name/],
    ['an unknown escape', ['@demonstration', '{{answer}} C:\\path', '@query', 'x'], 2, 14, /unknown escape \\p/],
    ['a backslash at the end of a line', ['@demonstration', '{{answer}} \\', '@query', 'x'], 2, 12, /escapes nothing/],
    ['an unknown section', ['@demo', '{{answer}}', '@query', 'x'], 1, 1, /unknown section @demo; sections are @instruction, @demonstration/],
    ['text after a section header', ['@query Q: {{q}}', '@demonstration', '{{answer}}'], 1, 8, /stands alone on its line/],
    ['a section given twice', [...minimal, '@query', 'again'], 6, 1, /@query appears twice \(first at line 4\)/],
    ['text before the first section', ['  Hello', ...minimal], 1, 3, /text before the first section header/],
    ['a missing query', ['@demonstration', '{{answer}}'], 0, 0, /task\.icl\.tmpl: missing @query section/],
    ['an empty demonstration', ['@demonstration', '', '# nothing', '@query', 'x'], 1, 1, /@demonstration is empty/],
    ['a demonstration without {{answer}}', ['@query', 'x', '@demonstration', 'Q: {{q}}'], 3, 1, /must show the answer with \{\{answer\}\}/],
    ['{{answer}} in the query', ['@demonstration', '{{answer}}', '@query', 'Q: {{q}} A: {{ answer }}'], 4, 13, /the query has no answer/],
    ['a placeholder in the instruction', [...minimal, '@instruction', 'Classify {{text}}'], 7, 10, /belong in @demonstration and @query only/],
  ];
  for (const [what, lines, line, column, message] of problems) {
    it(`reports ${what} at its line and column`, () => assertRejected(lines, line, column, message));
  }

  it('reports the first problem in the file, whichever sections it is in', () => {
    assertRejected(['@query', 'C:\\x', '@demonstration', 'Q: {{q'], 2, 3, /unknown escape \\x/);
  });

  it('prints a template error as file:line:column: problem', () => {
    assert.equal(new TemplateError('a.icl.tmpl', 3, 7, 'bad').message, 'a.icl.tmpl:3:7: bad');
    assert.equal(new TemplateError('a.icl.tmpl', 0, 0, 'bad').message, 'a.icl.tmpl: bad');
  });
});

describe('checking template fields against a dataset', () => {
  it('accepts fields the dataset has, and {{answer}} without a field of that name', () => {
    const template = parse(minimal);
    assert.doesNotThrow(() => checkTemplateFields(template, ['question', 'id']));
  });

  it('reports the first unknown field at its line and column, naming the fields there are', () => {
    const template = parse(['@demonstration', '{{text}} -> {{answer}}', '@query', '{{text}}', '  {{sentence}}']);
    assert.throws(
      () => checkTemplateFields(template, ['text', 'label']),
      (error: unknown) =>
        error instanceof TemplateError &&
        error.line === 5 &&
        error.column === 3 &&
        /unknown field \{\{sentence\}\}: the dataset has \{\{text\}\}, \{\{label\}\}/.test(error.message),
    );
  });
});

describe('the default templates', () => {
  it('are the same text as the files in media/templates', async () => {
    const read = (name: string) => readFile(new URL(`../../media/templates/${name}`, import.meta.url), 'utf8');
    assert.equal(await read('classification.icl.tmpl'), classificationTemplateText);
    assert.equal(await read('generative.icl.tmpl'), generativeTemplateText);
  });

  it('read {{text}} for classification and {{question}} for generative tasks, each with an instruction and a cue', () => {
    assert.deepEqual(templateFieldNames(classificationTemplate), ['text']);
    assert.deepEqual(templateFieldNames(generativeTemplate), ['question']);
    assert.equal(classificationTemplate.answerPrefix, '\nLabel:');
    assert.equal(generativeTemplate.answerPrefix, '\nAnswer:');
    assert.equal(classificationTemplate.separator, '\n\n');
    assert.ok(classificationTemplate.instruction.length > 0 && generativeTemplate.instruction.length > 0);
  });
});
