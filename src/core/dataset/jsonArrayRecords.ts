// A JSON array of objects, read element by element: each element's text is cut out by tracking
// strings and brackets, then parsed alone, so the array is never one string in memory and a bad
// element spoils only its own row. A broken structure (a missing comma, unbalanced brackets) leaves
// no way to tell where the next element starts, so it ends the read.
import { DatasetError } from './datasetError.js';
import { isJsonWhitespace } from './jsonSyntax.js';
import { describeByteSize, readLines, type LineReadOptions } from './lineReader.js';
import { jsonRecord, type SourceRecord } from './sourceRecord.js';

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const stringSpecial = /["\\]/g;

type Phase = 'start' | 'value' | 'value-or-close' | 'element' | 'comma-or-close' | 'end';

export async function* jsonArrayRecords(file: string, options: LineReadOptions): AsyncGenerator<SourceRecord> {
  const tooLong = `element is longer than the ${describeByteSize(options.maxLineBytes)} limit`;
  let phase: Phase = 'start';
  // The element being read: its text so far, where it starts, and the scanner's state inside it.
  let pieces: string[] = [];
  let size = 0;
  let startLine = 0;
  let startColumn = 0;
  const closers: number[] = [];
  let inString = false;
  let escaped = false;
  let scalar = false;
  let lastLine = 0;

  for await (const item of readLines(file, options)) {
    if ('problem' in item) throw new DatasetError(file, item.line, item.problem, item.column);
    const { text, line } = item;
    lastLine = line;
    const unexpected = (at: number, problem: (found: string) => string): DatasetError =>
      new DatasetError(file, line, problem(`"${String.fromCodePoint(text.codePointAt(at)!)}"`), at + 1);
    const records: SourceRecord[] = [];
    let segment = 0; // where the element's text starts in this line
    const finish = (end: number): void => {
      pieces.push(text.slice(segment, end));
      records.push(jsonRecord(pieces.join('\n'), startLine, startColumn));
      pieces = [];
      size = 0;
    };

    let i = 0;
    while (i < text.length) {
      if (phase === 'element') {
        if (inString) {
          if (escaped) {
            escaped = false;
            i++;
            continue;
          }
          stringSpecial.lastIndex = i;
          const special = stringSpecial.exec(text);
          if (!special) {
            i = text.length;
            continue;
          }
          i = special.index;
          if (text.charCodeAt(i) === backslash) escaped = true;
          else {
            inString = false;
            if (closers.length === 0) {
              finish(i + 1);
              phase = 'comma-or-close';
            }
          }
          i++;
          continue;
        }
        const c = text.charCodeAt(i);
        if (scalar) {
          // A number or literal ends at what follows it, which is then read as structure.
          if (c === comma || c === closeBracket || isJsonWhitespace(c)) {
            finish(i);
            phase = 'comma-or-close';
          } else i++;
          continue;
        }
        if (c === quote) inString = true;
        else if (c === openBrace) closers.push(closeBrace);
        else if (c === openBracket) closers.push(closeBracket);
        else if (c === closeBrace || c === closeBracket) {
          if (closers.pop() !== c) {
            throw unexpected(i, (found) => `unexpected ${found}: the brackets of the element starting at line ${startLine} do not match`);
          }
          if (closers.length === 0) {
            finish(i + 1);
            phase = 'comma-or-close';
          }
        }
        i++;
        continue;
      }

      const c = text.charCodeAt(i);
      if (isJsonWhitespace(c)) {
        i++;
        continue;
      }
      switch (phase) {
        case 'start':
          if (c !== openBracket) throw unexpected(i, (found) => `expected a JSON array ("["), found ${found}`);
          phase = 'value-or-close';
          break;
        case 'value':
        case 'value-or-close':
          if (c === closeBracket && phase === 'value-or-close') {
            phase = 'end';
            break;
          }
          if (c === closeBracket || c === comma) throw unexpected(i, (found) => `expected a value, found ${found}`);
          phase = 'element';
          startLine = line;
          startColumn = i + 1;
          segment = i;
          closers.length = 0;
          inString = c === quote;
          escaped = false;
          scalar = c !== quote && c !== openBrace && c !== openBracket;
          if (c === openBrace) closers.push(closeBrace);
          else if (c === openBracket) closers.push(closeBracket);
          break;
        case 'comma-or-close':
          if (c === comma) phase = 'value';
          else if (c === closeBracket) phase = 'end';
          else throw unexpected(i, (found) => `expected "," or "]" after the element, found ${found}`);
          break;
        case 'end':
          throw unexpected(i, (found) => `unexpected ${found} after the array's closing "]"`);
      }
      i++;
    }

    if (phase === 'element') {
      if (scalar) {
        finish(text.length);
        phase = 'comma-or-close';
      } else {
        const piece = text.slice(segment);
        pieces.push(piece);
        size += piece.length + 1;
        if (size > options.maxLineBytes) throw new DatasetError(file, startLine, tooLong, startColumn);
      }
    }
    yield* records;
  }

  // The cast: TypeScript does not follow the assignments made inside the for-await loop.
  switch (phase as Phase) {
    case 'end':
      return;
    case 'start':
      throw new DatasetError(file, 0, 'empty file (expected a JSON array)');
    case 'element':
      throw new DatasetError(file, startLine, inString ? 'unterminated string in the element starting here' : 'the element starting here is never closed', startColumn);
    default:
      throw new DatasetError(file, lastLine, 'the array is never closed (missing "]")');
  }
}
