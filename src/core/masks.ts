import { SeededRandom } from './random.js';
import type { Template } from './template/template.js';
import { renderDemonstration, renderDemonstrationInput, renderPromptPrefix, type Demonstration } from './template/promptRenderer.js';

// Attention masks for reading an example's activations (Osman et al., 2026). The one definition
// of what each mask shows the model: `icl-lab run` and `icl-lab extract` both lay extractions out
// with `maskLayout`. The masks differ only in what the span attends to; the span itself — its
// text and its tokens — is the same under every mask.
//
// Token layout of one example's sequence (`|` marks where the measured span starts; each piece is
// tokenized on its own and the tokens concatenated, as k-shot scoring tokenizes its prompt):
//   isolated       S | span
//   shared-prefix  S tok(instruction + separator) | span
//                  (S and the instruction sit once per window, shared by every sequence in the
//                  KV cache: a block-diagonal mask; the same text the k-shot prompt starts with)
//   in-context     S tok(instruction + sep + d1 + sep + … + dk + sep) | span
//                  (the k-shot prompt's prefix, renderPromptPrefix, over k seeded other examples
//                  shown with their answers; the span stands where the k-shot prompt's query does)
// S: the model's start tokens — its BOS where its vocabulary adds one, else a fixed start kept out
// of the span (src/engine/startTokens.ts), so no span token sits at position 0, the attention-sink
// position where massive activations live.
// span: with `span: input` (the default) the example's input as a demonstration shows it, without
// its answer ("Input: <text>" of the default classification template): the label is unknown when
// an active-learning signal is computed. `span: demonstration` is the whole demonstration, answer
// included — for the correlation analysis only; selection strategies must refuse such signals.
//
// The span is tokenized apart from what precedes it. Tokenizing the whole text instead would let
// a BPE token straddle the boundary (a separator's "\n\n" merged with the span's first word, a
// space glued to it), so the span's tokens would depend on what comes before it and differ
// between masks; tokenizing the pieces separately keeps them identical.
export const maskStrategies = ['isolated', 'shared-prefix', 'in-context'] as const;
export type MaskStrategy = (typeof maskStrategies)[number];

export const spanKinds = ['input', 'demonstration'] as const;
export type SpanKind = (typeof spanKinds)[number];

/** Whether signals read over this span may rank candidates: only a span without the label may. */
export function spanUsableForSelection(span: SpanKind): boolean {
  return span === 'input';
}

/** The text of a candidate's span: its input as a demonstration shows it, with its answer for `demonstration`. */
export function spanText(template: Template, candidate: Demonstration, span: SpanKind, where = 'the example'): string {
  return span === 'demonstration' ? renderDemonstration(template, candidate, where) : renderDemonstrationInput(template, candidate.inputs, where);
}

export interface MaskCandidate {
  /** The key results come back under (the row index). */
  readonly example: number;
  /** Its inputs, and its answer (read only with `span: demonstration`). */
  readonly demonstration: Demonstration;
}

export interface MaskedExample {
  readonly example: number;
  /** The span: the text the statistics are taken over. */
  readonly text: string;
  /** in-context: what only this example's sequence sees before its span. */
  readonly leading?: string;
}

/** An extraction laid out: what the engine's extract request carries. */
export interface MaskLayout {
  readonly mask: MaskStrategy;
  /** shared-prefix: the text every sequence of a window sees after the start tokens. */
  readonly prefix?: string;
  readonly examples: readonly MaskedExample[];
}

/**
 * Lays out the extraction of `candidates` under `mask`. For in-context, `demonstrationsOf(i)` gives
 * candidate i's demonstrations in prompt order (seeded: `inContextDemonstrations`).
 */
export function maskLayout(
  template: Template,
  mask: MaskStrategy,
  span: SpanKind,
  candidates: readonly MaskCandidate[],
  demonstrationsOf?: (candidate: number) => readonly Demonstration[],
): MaskLayout {
  const spans = candidates.map((c) => ({ example: c.example, text: spanText(template, c.demonstration, span, `example ${c.example}`) }));
  if (mask === 'isolated') return { mask, examples: spans };
  if (mask === 'shared-prefix') {
    const prefix = renderPromptPrefix(template, []).text;
    if (prefix === '') throw new Error(`${template.file}: the shared-prefix mask needs an instruction: the template has no @instruction and none was given`);
    return { mask, prefix, examples: spans };
  }
  if (!demonstrationsOf) throw new Error('internal: the in-context mask needs each example\'s demonstrations');
  return { mask, examples: spans.map((s, i) => ({ ...s, leading: renderPromptPrefix(template, demonstrationsOf(i)).text })) };
}

/**
 * For the in-context mask: `shots` demonstrations for each of `count` examples, drawn without
 * replacement from the other examples, seeded per example so adding rows never changes earlier
 * examples' prompts.
 */
export function inContextDemonstrations(count: number, shots: number, seed: number): number[][] {
  const out: number[][] = [];
  for (let example = 0; example < count; example++) {
    const random = new SeededRandom((seed * 1_000_003 + example) >>> 0);
    out.push(random.sample(count, shots, new Set([example])));
  }
  return out;
}
