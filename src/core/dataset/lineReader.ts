// Streams a text file line by line as bytes, so that a line too long to be data is refused before
// it is held in memory, and invalid UTF-8 is found where it is (a decoder that replaces bad bytes
// with U+FFFD cannot tell them from a genuine U+FFFD, which real datasets contain).
import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { DatasetError } from './datasetError.js';

/** What one line of a file turned out to be. `line` is 1-based. */
export type FileLine =
  | { readonly line: number; readonly text: string }
  | { readonly line: number; readonly problem: string; readonly column?: number };

export interface LineReadOptions {
  /** Longest line accepted, in bytes (without its line ending). */
  readonly maxLineBytes: number;
}

export const defaultMaxLineBytes = 10_000_000;

/** "10 MB" for a whole number of megabytes, else the byte count. */
export function describeByteSize(bytes: number): string {
  return bytes % 1_000_000 === 0 ? `${bytes / 1_000_000} MB` : `${bytes} bytes`;
}

/**
 * The file's lines without their `\n` (a `\r` before it is kept: each format decides), the first
 * line without its byte order mark. A line over the limit or with invalid UTF-8 comes back as a
 * problem and reading goes on with the next line; the long line's bytes are skipped, not kept.
 */
export async function* readLines(file: string, options: LineReadOptions): AsyncGenerator<FileLine> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) => reject(fileError(file, error)));
  });
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const tooLong = `line is longer than the ${describeByteSize(options.maxLineBytes)} limit`;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let line = 1;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(10, start);
        const end = newline === -1 ? chunk.length : newline;
        if (!skipping && pendingBytes + (end - start) > options.maxLineBytes) {
          yield { line, problem: tooLong };
          skipping = true;
          pending = [];
          pendingBytes = 0;
        }
        if (newline === -1) {
          if (!skipping && end > start) {
            // A copy: the stream may reuse the chunk's memory.
            pending.push(Buffer.from(chunk.subarray(start)));
            pendingBytes += end - start;
          }
          break;
        }
        if (skipping) {
          skipping = false;
        } else {
          const piece = chunk.subarray(start, newline);
          yield decodeLine(decoder, pendingBytes > 0 ? Buffer.concat([...pending, piece]) : piece, line);
          pending = [];
          pendingBytes = 0;
        }
        line++;
        start = newline + 1;
      }
    }
  } catch (error) {
    throw error instanceof DatasetError ? error : fileError(file, error as NodeJS.ErrnoException);
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) yield decodeLine(decoder, Buffer.concat(pending), line);
}

function fileError(file: string, error: NodeJS.ErrnoException): DatasetError {
  if (error.code === 'ENOENT') return new DatasetError(file, 0, 'file not found');
  if (error.code === 'EISDIR') return new DatasetError(file, 0, 'is a folder, not a file');
  return new DatasetError(file, 0, error.message);
}

function decodeLine(decoder: TextDecoder, bytes: Uint8Array, line: number): FileLine {
  const bom = line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  try {
    return { line, text: decoder.decode(bom ? bytes.subarray(bom) : bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes, bom);
    if (offset < 0) return { line, problem: 'invalid UTF-8' };
    const column = decoder.decode(bytes.subarray(bom, offset)).length + 1;
    return { line, problem: `invalid UTF-8 (byte 0x${bytes[offset]!.toString(16).toUpperCase().padStart(2, '0')})`, column };
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or -1. */
function firstInvalidUtf8(bytes: Uint8Array, from = 0): number {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Continuation bytes 0x80–0xBF; the second byte's range is narrower after E0, ED, F0 and F4
    // (no overlong forms, no surrogates, nothing above U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}
