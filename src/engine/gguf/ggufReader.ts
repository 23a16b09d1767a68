// Reads GGUF files: header, typed metadata, tensor infos, and tensor data on demand.
// Little-endian files only (as llama.cpp writes them); the host is assumed little-endian too,
// which every platform Node supports is.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  alignTo,
  ggmlTypeName,
  tensorByteSize,
} from './ggufFormat.js';
import type { GgufArrayValue, GgufValue } from './ggufFormat.js';

/** Any problem with a GGUF file's contents; the message starts with the file's path. */
export class GgufError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'GgufError';
  }
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml's ne: dimensions innermost first, so a matrix [in, out] has `out` rows of `in` values. */
  readonly dims: readonly number[];
  /** ggml type id; may be one we cannot decode. */
  readonly type: number;
  /** Offset of the tensor's data relative to the start of the data section. */
  readonly offset: number;
  /** Undefined for a ggml type unknown to us. */
  readonly byteSize: number | undefined;
}

export interface GgufFile {
  readonly path: string;
  readonly version: number;
  /** In file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Absolute file offset of the data section. */
  readonly dataOffset: number;
  readonly fileSize: number;
}

/** Versions 2 and 3 share one little-endian layout; version 1 used 32-bit counts. */
const SUPPORTED_VERSIONS: readonly number[] = [2, 3];
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** Covers a large tokenizer (Llama 3's header is ~8 MB) in one read; longer headers grow by doubling. */
const INITIAL_HEADER_READ = 16 << 20;

/** Thrown by the parser when the bytes read so far end before the header does. */
class NeedMoreBytes {
  constructor(readonly upTo: number) {}
}

class HeaderCursor {
  private pos = 0;
  private readonly view: DataView;
  /** The same bytes, for Node's fast UTF-8 decoding. */
  private readonly text: Buffer;

  constructor(
    private readonly path: string,
    private readonly bytes: Uint8Array,
    private readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  /** Throws if fewer than `n` bytes are left in the file (not just in what has been read). */
  requireRoom(n: number, what: string): void {
    if (this.pos + n > this.fileSize) {
      throw new GgufError(
        this.path,
        `truncated file: ${what} at byte ${this.pos} needs ${n} bytes but the file is ${this.fileSize} bytes long`,
      );
    }
  }

  private take(n: number, what: string): number {
    this.requireRoom(n, what);
    const start = this.pos;
    const end = start + n;
    if (end > this.bytes.length) throw new NeedMoreBytes(end);
    this.pos = end;
    return start;
  }

  u8(what: string): number {
    return this.view.getUint8(this.take(1, what));
  }
  i8(what: string): number {
    return this.view.getInt8(this.take(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.take(2, what), true);
  }
  i16(what: string): number {
    return this.view.getInt16(this.take(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }
  i32(what: string): number {
    return this.view.getInt32(this.take(4, what), true);
  }
  f32(what: string): number {
    return this.view.getFloat32(this.take(4, what), true);
  }
  f64(what: string): number {
    return this.view.getFloat64(this.take(8, what), true);
  }
  u64(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }
  i64(what: string): bigint {
    return this.view.getBigInt64(this.take(8, what), true);
  }

  /** A u64 that must fit a JS number (counts, sizes, offsets). */
  count(what: string): number {
    const value = this.u64(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new GgufError(this.path, `${what} is ${value}, which is not a plausible size`);
    }
    return Number(value);
  }

  string(what: string): string {
    const length = this.count(`length of ${what}`);
    const start = this.take(length, what);
    return this.text.toString('utf8', start, start + length);
  }

  /** A copy of `n` raw bytes, so typed arrays over it are aligned. */
  copy(n: number, what: string): ArrayBuffer {
    const start = this.take(n, what);
    const out = new ArrayBuffer(n);
    new Uint8Array(out).set(this.bytes.subarray(start, start + n));
    return out;
  }
}

/** Reads a GGUF file's header: metadata and tensor infos. Tensor data is read by readTensorData. */
export async function readGguf(path: string): Promise<GgufFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new GgufError(path, `cannot open file (${(error as Error).message})`);
  }
  try {
    const fileSize = (await handle.stat()).size;
    let length = Math.min(fileSize, INITIAL_HEADER_READ);
    for (;;) {
      const bytes = await readBytes(handle, 0, length);
      try {
        return parseHeader(path, bytes, fileSize);
      } catch (error) {
        // Restart the (cheap, pure) parse over a longer prefix rather than making every read async.
        if (!(error instanceof NeedMoreBytes)) throw error;
        length = Math.min(fileSize, Math.max(length * 2, error.upTo));
      }
    }
  } finally {
    await handle.close();
  }
}

/** The raw bytes of one tensor, exactly as stored. */
export async function readTensorData(file: GgufFile, tensorName: string): Promise<Uint8Array> {
  const tensor = findTensor(file, tensorName);
  if (tensor.byteSize === undefined) {
    throw new GgufError(file.path, `tensor '${tensor.name}' has ${ggmlTypeName(tensor.type)}, which we cannot size`);
  }
  const handle = await open(file.path, 'r');
  try {
    const start = file.dataOffset + tensor.offset;
    const bytes = await readBytes(handle, start, tensor.byteSize);
    // The header check covered this, unless the file has shrunk since.
    if (bytes.byteLength < tensor.byteSize) {
      throw new GgufError(
        file.path,
        `truncated file: tensor '${tensor.name}' data ends at byte ${start + tensor.byteSize} ` +
          `but the file ends at byte ${start + bytes.byteLength}`,
      );
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

export function findTensor(file: GgufFile, tensorName: string): GgufTensorInfo {
  const tensor = file.tensors.find((t) => t.name === tensorName);
  if (tensor === undefined) throw new GgufError(file.path, `no tensor named '${tensorName}'`);
  return tensor;
}

/** A numeric scalar metadata value, whichever integer or float type it was stored as. */
export function metadataNumber(file: GgufFile, key: string): number {
  const entry = file.metadata.get(key);
  if (entry === undefined) throw new GgufError(file.path, `missing metadata key '${key}'`);
  if (entry.type === GgufValueType.Array || entry.type === GgufValueType.String || entry.type === GgufValueType.Bool) {
    throw new GgufError(file.path, `metadata key '${key}' is not a number`);
  }
  return Number(entry.value);
}

export function metadataString(file: GgufFile, key: string): string {
  const entry = file.metadata.get(key);
  if (entry === undefined) throw new GgufError(file.path, `missing metadata key '${key}'`);
  if (entry.type !== GgufValueType.String) throw new GgufError(file.path, `metadata key '${key}' is not a string`);
  return entry.value;
}

/** Up to `length` bytes from `position`, in a buffer of their own. */
async function readBytes(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

function parseHeader(path: string, bytes: Uint8Array, fileSize: number): GgufFile {
  const cursor = new HeaderCursor(path, bytes, fileSize);
  if (fileSize < 4 || cursor.u32('magic') !== GGUF_MAGIC) {
    throw new GgufError(path, 'not a GGUF file (the first four bytes are not "GGUF")');
  }
  const version = cursor.u32('version');
  if (!SUPPORTED_VERSIONS.includes(version)) {
    const swapped = Buffer.from(new Uint32Array([version]).buffer).readUInt32BE(0);
    const hint = SUPPORTED_VERSIONS.includes(swapped) ? ' (a big-endian GGUF file, which is not supported)' : '';
    throw new GgufError(path, `unsupported GGUF version ${version}${hint}; supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const tensorCount = cursor.count('tensor count');
  const kvCount = cursor.count('metadata count');

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = cursor.string(`metadata key #${i}`);
    const type = cursor.u32(`type of '${key}'`);
    if (metadata.has(key)) throw new GgufError(path, `duplicate metadata key '${key}'`);
    metadata.set(key, readValue(path, cursor, type, key));
  }

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string(`name of tensor #${i}`);
    const nDims = cursor.u32(`dimension count of '${name}'`);
    if (nDims > MAX_DIMS) throw new GgufError(path, `tensor '${name}' has ${nDims} dimensions; at most ${MAX_DIMS}`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(cursor.count(`dimension ${d} of '${name}'`));
    const type = cursor.u32(`type of '${name}'`);
    const offset = cursor.count(`data offset of '${name}'`);
    let byteSize: number | undefined;
    try {
      byteSize = tensorByteSize(type, dims);
    } catch (error) {
      throw new GgufError(path, `tensor '${name}': ${(error as Error).message}`);
    }
    tensors.push({ name, dims, type, offset, byteSize });
  }

  const alignment = readAlignment(path, metadata);
  const dataOffset = alignTo(cursor.position, alignment);
  for (const tensor of tensors) {
    if (tensor.offset % alignment !== 0) {
      throw new GgufError(path, `tensor '${tensor.name}' data offset ${tensor.offset} is not aligned to ${alignment}`);
    }
    const end = dataOffset + tensor.offset + (tensor.byteSize ?? 0);
    if (end > fileSize) {
      throw new GgufError(
        path,
        `truncated file: tensor '${tensor.name}' data ends at byte ${end} but the file is ${fileSize} bytes long`,
      );
    }
  }
  return { path, version, metadata, tensors, alignment, dataOffset, fileSize };
}

function readAlignment(path: string, metadata: ReadonlyMap<string, GgufValue>): number {
  const entry = metadata.get(GGUF_ALIGNMENT_KEY);
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (entry.type !== GgufValueType.Uint32) throw new GgufError(path, `${GGUF_ALIGNMENT_KEY} must be a uint32`);
  const alignment = entry.value;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufError(path, `${GGUF_ALIGNMENT_KEY} is ${alignment}; it must be a power of two`);
  }
  return alignment;
}

function readValue(path: string, cursor: HeaderCursor, type: number, key: string): GgufValue {
  const what = `value of '${key}'`;
  switch (type) {
    case GgufValueType.Uint8:
      return { type, value: cursor.u8(what) };
    case GgufValueType.Int8:
      return { type, value: cursor.i8(what) };
    case GgufValueType.Uint16:
      return { type, value: cursor.u16(what) };
    case GgufValueType.Int16:
      return { type, value: cursor.i16(what) };
    case GgufValueType.Uint32:
      return { type, value: cursor.u32(what) };
    case GgufValueType.Int32:
      return { type, value: cursor.i32(what) };
    case GgufValueType.Float32:
      return { type, value: cursor.f32(what) };
    case GgufValueType.Bool:
      return { type, value: cursor.u8(what) !== 0 };
    case GgufValueType.String:
      return { type, value: cursor.string(what) };
    case GgufValueType.Uint64:
      return { type, value: cursor.u64(what) };
    case GgufValueType.Int64:
      return { type, value: cursor.i64(what) };
    case GgufValueType.Float64:
      return { type, value: cursor.f64(what) };
    case GgufValueType.Array:
      return readArray(path, cursor, key);
    default:
      throw new GgufError(path, `metadata key '${key}' has unknown value type ${type}`);
  }
}

function readArray(path: string, cursor: HeaderCursor, key: string): GgufArrayValue {
  const itemType = cursor.u32(`item type of '${key}'`);
  const length = cursor.count(`length of '${key}'`);
  const raw = (itemSize: number): ArrayBuffer => cursor.copy(length * itemSize, `items of '${key}'`);
  const array = GgufValueType.Array;
  switch (itemType) {
    case GgufValueType.Uint8:
      return { type: array, itemType, items: new Uint8Array(raw(1)) };
    case GgufValueType.Int8:
      return { type: array, itemType, items: new Int8Array(raw(1)) };
    case GgufValueType.Uint16:
      return { type: array, itemType, items: new Uint16Array(raw(2)) };
    case GgufValueType.Int16:
      return { type: array, itemType, items: new Int16Array(raw(2)) };
    case GgufValueType.Uint32:
      return { type: array, itemType, items: new Uint32Array(raw(4)) };
    case GgufValueType.Int32:
      return { type: array, itemType, items: new Int32Array(raw(4)) };
    case GgufValueType.Float32:
      return { type: array, itemType, items: new Float32Array(raw(4)) };
    case GgufValueType.Uint64:
      return { type: array, itemType, items: new BigUint64Array(raw(8)) };
    case GgufValueType.Int64:
      return { type: array, itemType, items: new BigInt64Array(raw(8)) };
    case GgufValueType.Float64:
      return { type: array, itemType, items: new Float64Array(raw(8)) };
    case GgufValueType.Bool:
      return { type: array, itemType, items: Array.from(new Uint8Array(raw(1)), (b) => b !== 0) };
    case GgufValueType.String: {
      // Every string takes at least its 8-byte length; refuse absurd counts before looping.
      cursor.requireRoom(length * 8, `items of '${key}'`);
      const items: string[] = [];
      for (let i = 0; i < length; i++) items.push(cursor.string(`item ${i} of '${key}'`));
      return { type: array, itemType, items };
    }
    case GgufValueType.Array: {
      cursor.requireRoom(length * 12, `items of '${key}'`);
      const items: GgufArrayValue[] = [];
      for (let i = 0; i < length; i++) items.push(readArray(path, cursor, `${key}[${i}]`));
      return { type: array, itemType, items };
    }
    default:
      throw new GgufError(path, `metadata key '${key}' is an array of unknown value type ${itemType}`);
  }
}
