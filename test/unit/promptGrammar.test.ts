import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatPromptDocument } from '../../src/core/inspect/promptDocument.js';
import type { PromptPreview } from '../../src/core/inspect/promptPreview.js';
import { renderPrompt } from '../../src/core/template/promptRenderer.js';
import { parseTemplate } from '../../src/core/template/templateParser.js';
import { syntheticTemplate } from '../support/syntheticRunFolder.js';

// The prompt grammar's rules are all anchored at a line start: a piece is a begin/end region from
// its marker line up to (not including) the next marker line. The grammar uses regex syntax that
// Oniguruma and JavaScript read alike, so this line-by-line walk stands in for VS Code's engine:
// inside a region, a zero-width end at the line start closes it; outside, the first rule whose
// begin or match fits the line applies.

interface Rule {
  readonly match?: string;
  readonly begin?: string;
  readonly end?: string;
  readonly name?: string;
  readonly contentName?: string;
  readonly include?: string;
}

interface Grammar {
  readonly scopeName: string;
  readonly patterns: readonly Rule[];
  readonly repository: Record<string, Rule>;
}

const grammar = JSON.parse(readFileSync(new URL('../../syntaxes/icl-prompt.tmLanguage.json', import.meta.url), 'utf8')) as Grammar;
const rules = grammar.patterns.map((p) => grammar.repository[p.include!.slice(1)]!);

/** The scope each line of `text` gets: a region's contentName for its body, the rule's name for marker and header lines. */
function lineScopes(text: string): [string, string][] {
  const out: [string, string][] = [];
  let open: Rule | undefined;
  for (const line of text.split('\n')) {
    if (open && new RegExp(open.end!, 'u').test(line)) open = undefined;
    if (open) {
      out.push([line, open.contentName!]);
      continue;
    }
    const rule = rules.find((r) => new RegExp(r.begin ?? r.match!, 'u').test(line));
    if (rule?.begin) open = rule;
    out.push([line, rule?.name ?? '']);
  }
  return out;
}

describe('prompt preview grammar', () => {
  const template = parseTemplate(syntheticTemplate, 'notes.icl.tmpl');
  const rendered = renderPrompt(
    template,
    [
      { inputs: { text: 'first note\n#▼ looks like a marker' }, answer: 'low' },
      { inputs: { text: 'second note' }, answer: 'high' },
    ],
    { inputs: { text: 'the query' } },
  );
  const preview: PromptPreview = {
    choice: { strategy: 'random', seed: 0, budget: 2 },
    text: rendered.text,
    pieces: rendered.pieces,
    demonstrations: [
      { example: 4, id: 'r4', line: 5, round: 1, score: 0 },
      { example: 9, id: 'r9', line: 10, round: 2, score: 0 },
    ],
    query: { example: 1, id: 'r1', line: 2, split: 'test' },
    evaluated: true,
    warnings: [],
  };
  const scopes = lineScopes(formatPromptDocument(preview, { runName: 'r', templateName: 't' }, rendered.pieces.map(() => 1)));
  const scopeOf = (line: string): string[] => scopes.filter(([text]) => text === line).map(([, scope]) => scope);

  it('is the grammar of the icl-prompt language', () => {
    assert.equal(grammar.scopeName, 'source.icl-prompt');
  });

  it('scopes the header as comments and each marker as its piece', () => {
    assert.ok(scopes.slice(0, 4).every(([, scope]) => scope === 'comment.line.number-sign.icl-prompt'));
    assert.deepEqual(
      scopes.filter(([text]) => /^#[▼▲] .* \d+ chars$/.test(text)).map(([text, scope]) => [text.split(' · ')[0], scope]),
      [
        ['#▼ instruction', 'meta.piece.instruction.icl-prompt'],
        ['#▼ separator "\\n---\\n"', 'meta.piece.separator.icl-prompt'],
        ['#▼ demonstration 1', 'meta.piece.demonstration.icl-prompt'],
        ['#▼ separator "\\n---\\n"', 'meta.piece.separator.icl-prompt'],
        ['#▼ demonstration 2', 'meta.piece.demonstration.icl-prompt'],
        ['#▼ separator "\\n---\\n"', 'meta.piece.separator.icl-prompt'],
        ['#▼ query', 'meta.piece.query.icl-prompt'],
        ['#▼ answer prefix "\\nKind:"', 'meta.piece.answer-prefix.icl-prompt'],
        ['#▲ end of prompt', 'meta.end-of-prompt.icl-prompt'],
      ],
    );
  });

  it('colours the exact text of demonstrations, separators, query and answer prefix', () => {
    assert.deepEqual(scopeOf('Sort the notes.'), ['markup.quote.instruction.icl-prompt']);
    assert.deepEqual(scopeOf('Note: first note'), ['string.unquoted.demonstration.icl-prompt']);
    assert.deepEqual(scopeOf('Kind: high'), ['string.unquoted.demonstration.icl-prompt']);
    // Data that looks like a marker (but names no length) stays inside its piece.
    assert.deepEqual(scopeOf('#▼ looks like a marker'), ['string.unquoted.demonstration.icl-prompt']);
    assert.deepEqual(scopeOf('---'), Array(3).fill('punctuation.separator.piece.icl-prompt'));
    assert.deepEqual(scopeOf('Note: the query'), ['variable.other.query.icl-prompt']);
    assert.deepEqual(scopeOf('Kind:'), ['keyword.other.answer-prefix.icl-prompt']);
  });
});
