import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { classificationTemplateText, generativeTemplateText } from '../../src/core/template/defaultTemplates.js';
import { TemplateError } from '../../src/core/template/templateError.js';
import { parseTemplate } from '../../src/core/template/templateParser.js';

// The grammar uses only regex syntax that Oniguruma and JavaScript read alike, so JavaScript's
// RegExp stands in for VS Code's engine here. `tokenizeLine` follows TextMate's rule for a flat
// list of match rules: at each position the earliest match wins, ties going to the first rule.

interface Rule {
  readonly match?: string;
  readonly name?: string;
  readonly captures?: Record<string, { name: string }>;
  readonly include?: string;
  readonly patterns?: readonly Rule[];
}

interface Grammar {
  readonly scopeName: string;
  readonly patterns: readonly Rule[];
  readonly repository: Record<string, Rule>;
}

const root = new URL('../../', import.meta.url);
const grammar = JSON.parse(readFileSync(new URL('syntaxes/icl-template.tmLanguage.json', root), 'utf8')) as Grammar;

function flatten(rules: readonly Rule[]): Rule[] {
  return rules.flatMap((rule) => {
    if (rule.include) {
      const target = grammar.repository[rule.include.replace(/^#/, '')];
      assert.ok(target, `include ${rule.include} names a repository rule`);
      return flatten([target]);
    }
    return rule.patterns ? flatten(rule.patterns) : [rule];
  });
}

const rules = flatten(grammar.patterns).map((rule) => ({ rule, regex: new RegExp(rule.match!, 'dg') }));

/** [text, innermost scope] for each scoped run of a line; unscoped text is left out. */
function tokenizeLine(line: string): [string, string][] {
  const tokens: [string, string][] = [];
  let at = 0;
  while (at < line.length) {
    let best: { rule: Rule; found: RegExpExecArray } | undefined;
    for (const { rule, regex } of rules) {
      regex.lastIndex = at;
      const found = regex.exec(line);
      if (found && found[0] !== '' && (!best || found.index < best.found.index)) best = { rule, found };
    }
    if (!best) break;
    const { rule, found } = best;
    const captured = Object.entries(rule.captures ?? {})
      .map(([group, { name }]) => ({ span: found.indices![Number(group)], name }))
      .filter((capture): capture is { span: [number, number]; name: string } => capture.span !== undefined);
    let inside = found.index;
    for (const { span, name } of captured.sort((a, b) => a.span[0] - b.span[0])) {
      if (span[0] > inside) tokens.push([line.slice(inside, span[0]), rule.name!]);
      tokens.push([line.slice(span[0], span[1]), name]);
      inside = span[1];
    }
    const end = found.index + found[0].length;
    if (end > inside) tokens.push([line.slice(inside, end), rule.name!]);
    at = end;
  }
  return tokens;
}

function scopeOf(line: string, text: string): string | undefined {
  return tokenizeLine(line).find(([token]) => token === text)?.[1];
}

describe('the TextMate grammar for *.icl.tmpl', () => {
  it('is valid JSON with the scope name package.json registers, and every rule compiles', () => {
    assert.equal(grammar.scopeName, 'source.icl-template');
    const walk = (rule: Rule): void => {
      if (rule.match !== undefined) assert.doesNotThrow(() => new RegExp(rule.match!), rule.match);
      rule.patterns?.forEach(walk);
    };
    grammar.patterns.forEach(walk);
    Object.values(grammar.repository).forEach(walk);
    assert.ok(rules.length >= 6);
  });

  it('is registered in package.json with the icl-template language and its .icl.tmpl extension', () => {
    const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      contributes: {
        languages: { id: string; extensions: string[] }[];
        grammars: { language: string; scopeName: string; path: string }[];
      };
    };
    const language = manifest.contributes.languages.find((entry) => entry.id === 'icl-template');
    assert.deepEqual(language?.extensions, ['.icl.tmpl']);
    const registered = manifest.contributes.grammars.find((entry) => entry.language === 'icl-template');
    assert.equal(registered?.scopeName, grammar.scopeName);
    assert.ok(existsSync(new URL(registered.path, root)), `${registered.path} exists`);
  });

  it('highlights section headers, and marks unknown ones as invalid', () => {
    assert.deepEqual(tokenizeLine('@answer-prefix  '), [
      ['@', 'punctuation.definition.heading.icl-template'],
      ['answer-prefix', 'entity.name.section.icl-template'],
      ['  ', 'markup.heading.section.icl-template'],
    ]);
    assert.equal(scopeOf('@demo', '@demo'), 'invalid.illegal.section-header.icl-template');
    assert.equal(scopeOf('@query extra', '@query extra'), 'invalid.illegal.section-header.icl-template');
    assert.deepEqual(tokenizeLine(' @query'), [], 'a header starts in column 1');
  });

  it('highlights comments in column 1 only, placeholders included', () => {
    assert.deepEqual(tokenizeLine('# see {{text}}'), [
      ['#', 'punctuation.definition.comment.icl-template'],
      [' see {{text}}', 'comment.line.number-sign.icl-template'],
    ]);
    assert.equal(scopeOf('Issue #4: {{text}}', 'text'), 'variable.other.field.icl-template');
  });

  it('tells {{answer}} from dataset fields, with spaces inside the braces', () => {
    const line = 'Q: {{ question }} A: {{answer}} {{answers}}';
    assert.equal(scopeOf(line, 'question'), 'variable.other.field.icl-template');
    assert.equal(scopeOf(line, 'answer'), 'variable.language.answer.icl-template');
    assert.equal(scopeOf(line, 'answers'), 'variable.other.field.icl-template');
    assert.equal(scopeOf(line, '{{'), 'punctuation.definition.placeholder.begin.icl-template');
  });

  it('highlights escapes, an escaped brace before a placeholder, and marks unknown escapes as invalid', () => {
    assert.deepEqual(tokenizeLine('\\n\\s\\\\\\{{{x}}\\p'), [
      ['\\n', 'constant.character.escape.icl-template'],
      ['\\s', 'constant.character.escape.icl-template'],
      ['\\\\', 'constant.character.escape.icl-template'],
      ['\\{', 'constant.character.escape.icl-template'],
      ['{{', 'punctuation.definition.placeholder.begin.icl-template'],
      ['x', 'variable.other.field.icl-template'],
      ['}}', 'punctuation.definition.placeholder.end.icl-template'],
      ['\\p', 'invalid.illegal.escape.icl-template'],
    ]);
    assert.equal(scopeOf('end \\', '\\'), 'invalid.illegal.escape.icl-template');
  });

  it('marks no line of the default templates as invalid', () => {
    for (const line of `${classificationTemplateText}\n${generativeTemplateText}`.split('\n')) {
      assert.deepEqual(tokenizeLine(line).filter(([, scope]) => scope.startsWith('invalid')), [], line);
    }
  });

  it('marks as invalid every line the parser rejects for its braces, escapes or headers', () => {
    const lines = ['Q: {{question} A:', 'done}}', 'A: {{{answer}}}', '{{ my field }}', 'C:\\path', 'end \\', '@demo', '@query Q:'];
    for (const line of lines) {
      const text = line.startsWith('@') ? `${line}\n@demonstration\n{{answer}}\n@query\nx` : `@demonstration\n{{answer}} ${line}\n@query\nx`;
      assert.throws(() => parseTemplate(text, 't.icl.tmpl'), TemplateError, `the parser rejects ${line}`);
      assert.ok(tokenizeLine(line).some(([, scope]) => scope.startsWith('invalid')), `the grammar marks ${line}`);
    }
  });
});
