import {
  answerPlaceholder,
  defaultSeparator,
  templateSections,
  type PlaceholderSegment,
  type Template,
  type TemplateSection,
  type TemplateSegment,
} from './template.js';
import { TemplateError } from './templateError.js';

// The `*.icl.tmpl` format, line by line:
//   `@name` alone on a line (column 1) starts a section: instruction, demonstration, separator,
//     query, answer-prefix. Its text is the lines below it up to the next header; blank lines at its
//     start and end are layout, and the lines are joined with '\n' (no final newline).
//   `#` in column 1 starts a comment line, anywhere in the file.
//   Trailing spaces and tabs on a line are dropped (editors strip them); write `\s` to keep one.
//   Escapes: \n newline, \t tab, \s space, \\ backslash, \{ \} literal braces, \@ \# a literal @ or
//     # (needed only in column 1). Any other backslash is an error.
//   `{{name}}` (spaces inside allowed) is a dataset field; `{{answer}}` is the demonstration's answer.
//     A single brace is literal text; `{{` must close with `}}` on the same line, and a `}}` that
//     closes nothing is an error. Placeholders are allowed in @demonstration and @query only.
// @demonstration and @query are required (non-empty); the rest are optional.

const escapes: Readonly<Record<string, string>> = { n: '\n', t: '\t', s: ' ', '\\': '\\', '{': '{', '}': '}', '@': '@', '#': '#' };
const escapeList = '\\n \\t \\s \\\\ \\{ \\} \\@ \\#';
const placeholderName = /^[A-Za-z_][A-Za-z0-9_-]*$/;

interface SourceLine {
  readonly line: number;
  readonly text: string;
}

interface SectionSource {
  readonly name: TemplateSection;
  readonly headerLine: number;
  readonly lines: SourceLine[];
}

/** Parses a `*.icl.tmpl` file; throws a TemplateError at the first problem. */
export function parseTemplate(text: string, file: string): Template {
  const sections = new Map<TemplateSection, SectionSource>();
  let current: SectionSource | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.startsWith('#')) return;
    if (raw.startsWith('@')) {
      current = sectionHeader(raw, line, file, sections);
      sections.set(current.name, current);
      return;
    }
    const body = raw.replace(/[ \t]+$/, '');
    if (current) current.lines.push({ line, text: body });
    else if (body.trim() !== '') {
      throw new TemplateError(file, line, body.search(/\S/) + 1, 'text before the first section header (@instruction, @demonstration, …)');
    }
  });

  // Sections in file order, so the first problem reported is the first in the file.
  const parsed = new Map([...sections].map(([name, source]) => [name, sectionSegments(source, file)] as const));
  const required = (name: 'demonstration' | 'query'): TemplateSegment[] => {
    const segments = parsed.get(name);
    if (!segments) throw new TemplateError(file, 0, 0, `missing @${name} section`);
    if (segments.length === 0) throw new TemplateError(file, sections.get(name)!.headerLine, 1, `@${name} is empty`);
    return segments;
  };
  const demonstration = required('demonstration');
  const query = required('query');
  const instruction = parsed.get('instruction');
  const separator = parsed.get('separator');
  const answerPrefix = parsed.get('answer-prefix');
  for (const segments of [instruction, separator, answerPrefix]) {
    const placeholder = findPlaceholder(segments ?? [], () => true);
    if (placeholder) {
      throw new TemplateError(file, placeholder.line, placeholder.column, 'placeholders belong in @demonstration and @query only (write \\{\\{ for literal braces)');
    }
  }
  const answerInQuery = findPlaceholder(query, (name) => name === answerPlaceholder);
  if (answerInQuery) {
    throw new TemplateError(file, answerInQuery.line, answerInQuery.column, 'the query has no answer: {{answer}} belongs in @demonstration');
  }
  if (!findPlaceholder(demonstration, (name) => name === answerPlaceholder)) {
    throw new TemplateError(file, sections.get('demonstration')!.headerLine, 1, '@demonstration must show the answer with {{answer}}');
  }
  return {
    file,
    instruction: plainText(instruction ?? []),
    demonstration,
    separator: separator ? plainText(separator) : defaultSeparator,
    query,
    answerPrefix: plainText(answerPrefix ?? []),
  };
}

function sectionHeader(raw: string, line: number, file: string, seen: ReadonlyMap<TemplateSection, SectionSource>): SectionSource {
  const header = raw.replace(/[ \t]+$/, '');
  const extra = header.search(/[ \t]/);
  if (extra >= 0) {
    throw new TemplateError(file, line, extra + 1 + header.slice(extra).search(/\S/), `a section header stands alone on its line: put its text on the lines below (or write \\@ for a literal @)`);
  }
  const name = header.slice(1);
  if (!(templateSections as readonly string[]).includes(name)) {
    throw new TemplateError(file, line, 1, `unknown section @${name}; sections are ${templateSections.map((s) => `@${s}`).join(', ')} (write \\@ for a literal @)`);
  }
  const previous = seen.get(name as TemplateSection);
  if (previous) throw new TemplateError(file, line, 1, `@${name} appears twice (first at line ${previous.headerLine})`);
  return { name: name as TemplateSection, headerLine: line, lines: [] };
}

/** A section's lines without the blank ones around them, as text and placeholder segments. */
function sectionSegments(source: SectionSource, file: string): TemplateSegment[] {
  const lines = source.lines;
  let first = 0;
  let last = lines.length - 1;
  while (first <= last && lines[first]!.text === '') first++;
  while (last >= first && lines[last]!.text === '') last--;
  const segments: TemplateSegment[] = [];
  const addText = (text: string): void => {
    const previous = segments.at(-1);
    if (previous?.kind === 'text') segments[segments.length - 1] = { kind: 'text', text: previous.text + text };
    else if (text !== '') segments.push({ kind: 'text', text });
  };
  for (let index = first; index <= last; index++) {
    if (index > first) addText('\n');
    lineSegments(lines[index]!, file, addText, (placeholder) => segments.push(placeholder));
  }
  return segments;
}

function lineSegments(source: SourceLine, file: string, addText: (text: string) => void, addPlaceholder: (p: PlaceholderSegment) => void): void {
  const { text, line } = source;
  let literal = '';
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '\\') {
      const next = text[at + 1];
      if (next === undefined) throw new TemplateError(file, line, at + 1, 'a backslash at the end of a line escapes nothing (write \\\\ for a backslash)');
      const value = escapes[next];
      if (value === undefined) throw new TemplateError(file, line, at + 1, `unknown escape \\${next}; escapes are ${escapeList}`);
      literal += value;
      at += 2;
    } else if (text.startsWith('{{', at)) {
      const close = text.indexOf('}}', at + 2);
      const reopen = text.indexOf('{{', at + 2);
      if (close < 0 || (reopen >= 0 && reopen < close)) throw new TemplateError(file, line, at + 1, 'unclosed placeholder: {{ without }} on the same line (write \\{\\{ for literal braces)');
      const inner = text.slice(at + 2, close);
      const name = inner.trim();
      if (!placeholderName.test(name)) {
        const column = name === '' ? at + 1 : at + 3 + inner.search(/\S/);
        throw new TemplateError(file, line, column, `"${name}" is not a placeholder name (letters, digits, _ and -, not starting with a digit; write \\{ for a literal brace)`);
      }
      addText(literal);
      literal = '';
      addPlaceholder({ kind: 'placeholder', name, line, column: at + 1, endColumn: close + 3 });
      at = close + 2;
    } else if (text.startsWith('}}', at)) {
      throw new TemplateError(file, line, at + 1, '}} closes no placeholder (write \\}\\} for literal braces)');
    } else {
      literal += char;
      at++;
    }
  }
  addText(literal);
}

function findPlaceholder(segments: readonly TemplateSegment[], accept: (name: string) => boolean): PlaceholderSegment | undefined {
  return segments.find((segment): segment is PlaceholderSegment => segment.kind === 'placeholder' && accept(segment.name));
}

function plainText(segments: readonly TemplateSegment[]): string {
  return segments.map((segment) => (segment.kind === 'text' ? segment.text : '')).join('');
}
