// The parsed form of a `*.icl.tmpl` prompt template (syntax: templateParser.ts, README
// "Prompt templates").

/** Section headers, in the order a prompt is assembled. */
export const templateSections = ['instruction', 'demonstration', 'separator', 'query', 'answer-prefix'] as const;
export type TemplateSection = (typeof templateSections)[number];

/**
 * The reserved placeholder: in a demonstration, its verbalised label or reference answer. It never
 * names a dataset field, even when the dataset has a field called `answer`.
 */
export const answerPlaceholder = 'answer';

export interface TextSegment {
  readonly kind: 'text';
  readonly text: string;
}

/** `{{name}}`, located at its opening braces (1-based line and column; `endColumn` exclusive). */
export interface PlaceholderSegment {
  readonly kind: 'placeholder';
  readonly name: string;
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
}

export type TemplateSegment = TextSegment | PlaceholderSegment;

export interface Template {
  readonly file: string;
  /** '' when the template has no @instruction. */
  readonly instruction: string;
  /** Contains `{{answer}}` at least once. */
  readonly demonstration: readonly TemplateSegment[];
  /** Placed between consecutive blocks (instruction, each demonstration, query); '\n\n' when absent. */
  readonly separator: string;
  /** Never contains `{{answer}}`. */
  readonly query: readonly TemplateSegment[];
  /** Follows the query directly; the answer slot starts right after it. '' when absent. */
  readonly answerPrefix: string;
}

export const defaultSeparator = '\n\n';

/** Every placeholder of the demonstration and the query, in file order. */
export function templatePlaceholders(template: Template): PlaceholderSegment[] {
  return [...template.demonstration, ...template.query]
    .filter((segment): segment is PlaceholderSegment => segment.kind === 'placeholder')
    .sort((a, b) => a.line - b.line || a.column - b.column);
}
