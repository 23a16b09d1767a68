// Where JSON text goes wrong. JSON.parse does the parsing; this runs only after it has failed,
// because Node 20's JSON.parse messages give no position and differ between V8 versions.

export interface JsonSyntaxError {
  /** 0-based offset into the text. */
  readonly offset: number;
  readonly problem: string;
}

type Expected = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const literalPattern = /true|false|null/y;

/** The first syntax error in `text`, or undefined when it is valid JSON. Iterative, so deep nesting cannot overflow the stack. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const closers: string[] = [];
  let expected: Expected = 'value';
  let i = 0;
  const afterValue = (): Expected => (closers.length > 0 ? 'comma-or-close' : 'end');
  for (;;) {
    while (i < text.length && isJsonWhitespace(text.charCodeAt(i))) i++;
    if (i >= text.length) return expected === 'end' ? undefined : { offset: i, problem: 'unexpected end of line' };
    const c = String.fromCodePoint(text.codePointAt(i)!);
    switch (expected) {
      case 'value':
      case 'value-or-close':
        if (c === ']' && expected === 'value-or-close') {
          closers.pop();
          i++;
          expected = afterValue();
        } else if (c === '{' || c === '[') {
          closers.push(c === '{' ? '}' : ']');
          i++;
          expected = c === '{' ? 'key-or-close' : 'value-or-close';
        } else if (c === '"') {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          expected = afterValue();
        } else {
          const end = matchAt(numberPattern, text, i) ?? matchAt(literalPattern, text, i);
          if (end === undefined) return { offset: i, problem: `unexpected ${quoteChar(c)}` };
          i = end;
          expected = afterValue();
        }
        break;
      case 'key-or-close':
      case 'key':
        if (c === '}' && expected === 'key-or-close') {
          closers.pop();
          i++;
          expected = afterValue();
        } else if (c === '"') {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          expected = 'colon';
        } else {
          return { offset: i, problem: `expected a property name in double quotes, found ${quoteChar(c)}` };
        }
        break;
      case 'colon':
        if (c !== ':') return { offset: i, problem: `expected ":", found ${quoteChar(c)}` };
        i++;
        expected = 'value';
        break;
      case 'comma-or-close': {
        const closer = closers[closers.length - 1]!;
        if (c === ',') {
          i++;
          expected = closer === '}' ? 'key' : 'value';
        } else if (c === closer) {
          closers.pop();
          i++;
          expected = afterValue();
        } else {
          return { offset: i, problem: `expected "," or "${closer}", found ${quoteChar(c)}` };
        }
        break;
      }
      case 'end':
        return { offset: i, problem: `unexpected ${quoteChar(c)} after the value` };
    }
  }
}

export function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Offset just past the string starting at `start` (a double quote), or the error in it. */
function stringEnd(text: string, start: number): number | JsonSyntaxError {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return { offset: i, problem: 'control character in a string (write it as an escape such as \\n or \\t)' };
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, problem: 'bad \\u escape (needs 4 hex digits)' };
        i += 5;
      } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
        i++;
      } else {
        return { offset: i, problem: next === undefined ? 'unterminated string' : `bad escape "\\${next}"` };
      }
    }
  }
  return { offset: start, problem: 'unterminated string' };
}

function matchAt(pattern: RegExp, text: string, at: number): number | undefined {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : undefined;
}

function quoteChar(c: string): string {
  return c === '"' ? "'\"'" : `"${c}"`;
}
