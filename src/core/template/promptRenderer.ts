import { answerPlaceholder, type Template, type TemplateSegment } from './template.js';
import { TemplateError } from './templateError.js';

// A prompt is assembled from blocks — the instruction, each demonstration, the query — with the
// separator between consecutive blocks, and the answer prefix right after the query:
//   instruction SEP demo0 SEP demo1 … SEP query answer-prefix|
// The answer slot starts at the end of the text (`|`): a generated or scored answer follows the
// answer prefix directly, so with the prefix "\nLabel:" the continuation is " positive", as the
// demonstrations show it.
//
// Every piece carries its character span [start, end). Tokenize the pieces one by one (BOS only
// before the first) and concatenate the tokens: then each piece's token span is exact. Tokenizing
// the whole text instead lets a token straddle two pieces ("\n\n" merged with the next word, a
// space glued to the following word by BPE), and character offsets no longer split the tokens.

export type PromptPiece =
  | { readonly kind: 'demonstration'; readonly index: number; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'instruction' | 'separator' | 'query' | 'answer-prefix'; readonly text: string; readonly start: number; readonly end: number };

export type PromptPieceKind = PromptPiece['kind'];

/**
 * `text` is the concatenation of `pieces` in order, each piece's span indexing into it. Pieces from
 * constant template text (instruction, separator, answer prefix) are left out when empty; every
 * demonstration and the query always have their piece, possibly empty.
 */
export interface RenderedPrompt {
  readonly text: string;
  readonly pieces: readonly PromptPiece[];
}

export interface Demonstration {
  readonly inputs: Readonly<Record<string, string>>;
  /** The verbalised label or the reference answer. */
  readonly answer: string;
}

export interface PromptQuery {
  readonly inputs: Readonly<Record<string, string>>;
}

/** The whole prompt: `renderPromptPrefix` followed by `renderQuerySuffix`. */
export function renderPrompt(template: Template, demonstrations: readonly Demonstration[], query: PromptQuery): RenderedPrompt {
  const prefix = renderPromptPrefix(template, demonstrations);
  const suffix = renderQuerySuffix(template, query, prefix.text.length);
  return { text: prefix.text + suffix.text, pieces: [...prefix.pieces, ...suffix.pieces] };
}

/**
 * The part shared by every query of a set of demonstrations — instruction, demonstrations and the
 * separator before the query (empty when there is neither instruction nor demonstration) — so its
 * KV cache can be computed once and reused across probe queries.
 */
export function renderPromptPrefix(template: Template, demonstrations: readonly Demonstration[]): RenderedPrompt {
  const out = new PieceWriter(0);
  // Blocks, not characters: an empty demonstration is still a block with separators around it.
  let blocks = 0;
  if (template.instruction !== '') {
    out.add({ kind: 'instruction' }, template.instruction, false);
    blocks++;
  }
  demonstrations.forEach((demonstration, index) => {
    if (blocks++ > 0) out.add({ kind: 'separator' }, template.separator, false);
    const where = `demonstration ${index}`;
    out.add({ kind: 'demonstration', index }, renderDemonstration(template, demonstration, where), true);
  });
  if (blocks > 0) out.add({ kind: 'separator' }, template.separator, false);
  return out.result();
}

/** The query and the answer prefix, with spans starting at `start` (the prefix's length). */
export function renderQuerySuffix(template: Template, query: PromptQuery, start = 0): RenderedPrompt {
  const out = new PieceWriter(start);
  out.add({ kind: 'query' }, fill(template, template.query, query.inputs, 'the query'), true);
  out.add({ kind: 'answer-prefix' }, template.answerPrefix, false);
  return out.result();
}

/** One demonstration as the k-shot prompt shows it: its input fields and its answer. */
export function renderDemonstration(template: Template, demonstration: Demonstration, where = 'the demonstration'): string {
  return fill(template, template.demonstration, demonstration.inputs, where, demonstration.answer);
}

/**
 * A candidate's input as a demonstration shows it, without its answer: the demonstration's text
 * from its start through its last input field before {{answer}} ("Input: {{text}}" of
 * "Input: {{text}}\nLabel: {{answer}}"). What follows — the answer's cue and the answer — is left
 * out, so the text holds nothing the label decides. A demonstration with an input field after its
 * {{answer}} has no such text: an error naming that field.
 */
export function renderDemonstrationInput(template: Template, inputs: Readonly<Record<string, string>>, where = 'the example'): string {
  const segments = template.demonstration;
  const answerAt = segments.findIndex((s) => s.kind === 'placeholder' && s.name === answerPlaceholder);
  const beforeAnswer = answerAt < 0 ? segments : segments.slice(0, answerAt);
  const late = segments.slice(beforeAnswer.length).find((s) => s.kind === 'placeholder' && s.name !== answerPlaceholder);
  if (late?.kind === 'placeholder') {
    throw new TemplateError(template.file, late.line, late.column, `the input span ends before {{${answerPlaceholder}}}, but the demonstration has the field "${late.name}" after it`);
  }
  let lastInput = -1;
  beforeAnswer.forEach((s, i) => {
    if (s.kind === 'placeholder') lastInput = i;
  });
  if (lastInput < 0) throw new TemplateError(template.file, 0, 0, `the demonstration has no input field before {{${answerPlaceholder}}}`);
  return fill(template, beforeAnswer.slice(0, lastInput + 1), inputs, where);
}

type PieceLabel = { kind: 'demonstration'; index: number } | { kind: 'instruction' | 'separator' | 'query' | 'answer-prefix' };

class PieceWriter {
  private text = '';
  private readonly pieces: PromptPiece[] = [];

  constructor(private readonly start: number) {}

  add(label: PieceLabel, text: string, keepEmpty: boolean): void {
    if (text === '' && !keepEmpty) return;
    const start = this.start + this.text.length;
    this.pieces.push({ ...label, text, start, end: start + text.length });
    this.text += text;
  }

  result(): RenderedPrompt {
    return { text: this.text, pieces: this.pieces };
  }
}

function fill(
  template: Template,
  segments: readonly TemplateSegment[],
  inputs: Readonly<Record<string, string>>,
  where: string,
  answer?: string,
): string {
  let text = '';
  for (const segment of segments) {
    if (segment.kind === 'text') {
      text += segment.text;
    } else if (segment.name === answerPlaceholder && answer !== undefined) {
      text += answer;
    } else {
      const value = Object.hasOwn(inputs, segment.name) ? inputs[segment.name] : undefined;
      if (typeof value !== 'string') {
        throw new TemplateError(template.file, segment.line, segment.column, `${where} has no field "${segment.name}"`);
      }
      text += value;
    }
  }
  return text;
}
