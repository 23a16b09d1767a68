// SQuAD v1.1's answer normalisation (its official evaluate script's normalize_answer), so scores
// compare with published ones: lowercase, drop ASCII punctuation (Python's string.punctuation;
// curly quotes and other Unicode punctuation stay), replace the articles a/an/the by a space, and
// collapse whitespace.

const asciiPunctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's \b is Unicode-aware (letters, digits, _), JavaScript's is ASCII-only: spell it out.
const articles = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

export function normalizeAnswer(text: string): string {
  const lowered = text.toLowerCase().replace(asciiPunctuation, '').replace(articles, ' ');
  return answerTokens(lowered).join(' ');
}

/** The normalised answer's tokens (split on whitespace). */
export function normalizedTokens(text: string): string[] {
  return answerTokens(normalizeAnswer(text));
}

function answerTokens(text: string): string[] {
  return text.split(/\s+/).filter((token) => token !== '');
}
