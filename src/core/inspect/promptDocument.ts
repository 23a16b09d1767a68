// The prompt preview as a plain-text document (language `icl-prompt`, coloured by
// syntaxes/icl-prompt.tmLanguage.json). Plain text cannot carry piece boundaries, so each piece
// gets a marker line, `#▼ demonstration 2 · row 17 · … · 23 tokens · 41 chars`, and its exact text
// starts on the next line and runs for the characters the marker names; the line break after it
// is layout. `#▲ end of prompt` closes the last piece. Lines above the first marker start with `#`
// and describe the prompt. parsePromptDocument recovers the exact prompt from the document.
import type { PromptPiece } from '../template/promptRenderer.js';
import type { PromptPreview } from './promptPreview.js';
import { formatValue } from './rowSummary.js';

export const pieceMarker = '#▼';
export const endMarker = '#▲';

export interface PromptDocumentInfo {
  readonly runName: string;
  /** The template file, or a phrase for the built-in one. */
  readonly templateName: string;
  /** One line about the model, e.g. `qwen2, 24 layers`. */
  readonly model?: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function markerDetails(preview: PromptPreview, piece: PromptPiece): string[] {
  switch (piece.kind) {
    case 'demonstration': {
      const d = preview.demonstrations[piece.index]!;
      return [`demonstration ${piece.index + 1}`, `row ${d.example}`, `line ${d.line}`, ...(d.round !== undefined ? [`round ${d.round}`] : []), `score ${formatValue(d.score)}`];
    }
    case 'query':
      return ['query', `row ${preview.query.example}`, `line ${preview.query.line}`, `${preview.query.split} split`];
    case 'separator':
      return [`separator ${JSON.stringify(piece.text)}`];
    case 'answer-prefix':
      return [`answer prefix ${JSON.stringify(piece.text)}`];
    case 'instruction':
      return ['instruction'];
  }
}

/** The document text. `tokenCounts[i]` is piece i's token count (tokenized on its own, as the engine does), when known. */
export function formatPromptDocument(preview: PromptPreview, info: PromptDocumentInfo, tokenCounts?: readonly number[]): string {
  const { choice } = preview;
  const total = tokenCounts?.reduce((a, b) => a + b, 0);
  const seed = choice.strategy === 'kate' ? 'no seed' : `seed ${choice.seed}`;
  const lines = [
    `# ICL Lab prompt preview · run ${info.runName} · ${choice.strategy}, ${seed}, budget ${choice.budget} · query row ${preview.query.example} (${preview.query.split} split, line ${preview.query.line})`,
    `# template ${info.templateName}${info.model ? ` · model ${info.model}` : ''} · ${plural(preview.demonstrations.length, 'demonstration')} in prompt order${total !== undefined ? ` · ${plural(total, 'token')} without BOS` : ''}`,
    `# ${preview.evaluated ? 'The run scored this prompt.' : 'The run did not score this prompt (its query is not a test row).'} Each ${pieceMarker} line starts a piece: its exact text begins on the next line and runs`,
    `# for the characters the marker counts (the line break after it is layout); the prompt is the pieces in order, and the model's answer follows ${endMarker}.`,
    ...preview.warnings.map((w) => `# ⚠ ${w.replace(/\r?\n/g, ' ')}`),
  ];
  if (/\r/.test(preview.text)) lines.push('# ⚠ the prompt holds carriage returns, which the editor shows as line breaks: copy the exact prompt with "Copy Exact Prompt"');
  let out = lines.join('\n') + '\n';
  preview.pieces.forEach((piece, i) => {
    const tokens = tokenCounts?.[i];
    const details = [...markerDetails(preview, piece), ...(tokens !== undefined ? [plural(tokens, 'token')] : []), `${piece.text.length} chars`];
    out += `${pieceMarker} ${details.join(' · ')}\n${piece.text}\n`;
  });
  out += `${endMarker} end of prompt${total !== undefined ? ` · ${plural(total, 'token')}` : ''} · ${preview.text.length} chars\n`;
  return out;
}

export interface ParsedPromptDocument {
  /** Each piece's marker (without `#▼ `) and exact text. */
  readonly pieces: readonly { readonly marker: string; readonly text: string }[];
  /** The exact prompt: the pieces' texts concatenated. */
  readonly text: string;
}

/** The exact prompt of a document formatPromptDocument wrote; throws when the markers do not add up. */
export function parsePromptDocument(document: string): ParsedPromptDocument {
  const pieces: { marker: string; text: string }[] = [];
  const newlineBefore = document.indexOf(`\n${pieceMarker} `);
  if (!document.startsWith(`${pieceMarker} `) && newlineBefore < 0) throw new Error(`no ${pieceMarker} marker line: not a prompt preview`);
  let at = document.startsWith(`${pieceMarker} `) ? 0 : newlineBefore + 1;
  for (;;) {
    const lineEnd = document.indexOf('\n', at);
    if (lineEnd < 0) throw new Error('the document ends inside a marker line');
    const line = document.slice(at, lineEnd);
    if (line.startsWith(endMarker)) break;
    if (!line.startsWith(`${pieceMarker} `)) throw new Error(`expected a ${pieceMarker} marker at character ${at}, found ${JSON.stringify(line.slice(0, 40))}`);
    const count = /· (\d+) chars$/.exec(line);
    if (!count) throw new Error(`the marker ${JSON.stringify(line)} does not say its length in chars`);
    const start = lineEnd + 1;
    const end = start + Number(count[1]);
    if (end >= document.length || document[end] !== '\n') throw new Error(`the piece after ${JSON.stringify(line)} is not ${count[1]} chars followed by a line break`);
    pieces.push({ marker: line.slice(pieceMarker.length + 1), text: document.slice(start, end) });
    at = end + 1;
  }
  return { pieces, text: pieces.map((p) => p.text).join('') };
}
