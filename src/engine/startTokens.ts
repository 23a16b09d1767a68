// What every sequence starts with, before any text: the same start for every model, so no
// measured span and no prompt text sits at position 0 — the attention-sink position, where a
// transformer parks its massive activations whatever the token is (Sun et al., 2024; Xiao et al.,
// 2023). Extraction and k-shot scoring both put these tokens first.
//   bos  — the model's BOS, where its vocabulary adds one (Llama, Gemma, SmolLM2);
//   eos  — else its end-of-text token: Qwen2.5 base adds no BOS, and <|endoftext|> (its EOS) is the
//          separator its pretraining put between documents, so text after it is what a document's
//          start looked like in training — the closest thing to a BOS the model knows;
//   text — else the tokens of a newline, a boundary every vocabulary has.

/** The start of every sequence, recorded in run.json (model.start). */
export interface StartTokens {
  readonly kind: 'bos' | 'eos' | 'text';
  readonly tokens: readonly number[];
  /** kind text: the text tokenized. */
  readonly text?: string;
}

export const startText = '\n';

export function chooseStartTokens(
  vocabulary: { readonly addBos: boolean; readonly bosToken: number; readonly eosToken?: number | undefined },
  tokenize: (text: string) => Int32Array,
): StartTokens {
  if (vocabulary.addBos && vocabulary.bosToken >= 0) return { kind: 'bos', tokens: [vocabulary.bosToken] };
  if (vocabulary.eosToken !== undefined && vocabulary.eosToken >= 0) return { kind: 'eos', tokens: [vocabulary.eosToken] };
  const tokens = Array.from(tokenize(startText));
  if (tokens.length === 0) throw new Error('the model tokenizes a newline to no tokens: no start token to put before the text');
  return { kind: 'text', tokens, text: startText };
}
