// Writes GGUF v3 files. Tensor data is produced and written one tensor at a time, so a model is
// never held in memory whole.
import { open, rename, rm } from 'node:fs/promises';
import {
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgufValueType,
  alignTo,
  ggmlTypeName,
  tensorByteSize,
} from './ggufFormat.js';
import type { GgufArrayValue, GgufValue } from './ggufFormat.js';

export interface GgufTensorToWrite {
  readonly name: string;
  /** ggml's ne, innermost first: a matrix [in, out] is `out` rows of `in` values. */
  readonly dims: readonly number[];
  readonly type: number;
  /**
   * Called when the tensor's turn comes; yields the tensor's bytes in order, in as many chunks as
   * suits the producer, exactly the tensor's byte size in all.
   */
  readonly data: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

export interface GgufWriteOptions {
  /** Written in iteration order. */
  readonly metadata: Iterable<readonly [string, GgufValue]>;
  readonly tensors: readonly GgufTensorToWrite[];
  /** Defaults to general.alignment from the metadata if present, else 32. */
  readonly alignment?: number;
}

/**
 * Writes a GGUF v3 file to `path` (via a temporary file renamed at the end, so a failure never
 * leaves a half-written model behind). Returns the file size.
 */
export async function writeGguf(path: string, options: GgufWriteOptions): Promise<number> {
  const metadata = new Map(options.metadata);
  const alignment = resolveAlignment(metadata, options.alignment);

  const layout: { tensor: GgufTensorToWrite; byteSize: number; offset: number }[] = [];
  let dataSize = 0;
  for (const tensor of options.tensors) {
    const byteSize = tensorByteSize(tensor.type, tensor.dims);
    if (byteSize === undefined) throw new RangeError(`tensor '${tensor.name}': cannot write ${ggmlTypeName(tensor.type)}`);
    const offset = alignTo(dataSize, alignment);
    layout.push({ tensor, byteSize, offset });
    dataSize = offset + byteSize;
  }

  const header = new ByteWriter();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(BigInt(layout.length));
  header.u64(BigInt(metadata.size));
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(value.type);
    header.value(value);
  }
  for (const { tensor, offset } of layout) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(BigInt(dim));
    header.u32(tensor.type);
    header.u64(BigInt(offset));
  }
  header.padTo(alignment);
  const dataStart = header.length;

  const temporary = `${path}.partial-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.write(header.bytes());
    let written = 0;
    for (const { tensor, byteSize, offset } of layout) {
      if (offset > written) await handle.write(new Uint8Array(offset - written));
      let produced = 0;
      for await (const chunk of tensor.data()) {
        produced += chunk.byteLength;
        if (produced > byteSize) break;
        await handle.write(chunk);
      }
      if (produced !== byteSize) {
        throw new RangeError(
          `tensor '${tensor.name}' (${ggmlTypeName(tensor.type)} [${tensor.dims.join(', ')}]) ` +
            `should be ${byteSize} bytes, got ${produced > byteSize ? 'more' : produced}`,
        );
      }
      written = offset + byteSize;
    }
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  return dataStart + dataSize;
}

function resolveAlignment(metadata: Map<string, GgufValue>, requested: number | undefined): number {
  const declared = metadata.get(GGUF_ALIGNMENT_KEY);
  if (declared !== undefined && declared.type !== GgufValueType.Uint32) {
    throw new TypeError(`${GGUF_ALIGNMENT_KEY} must be a uint32`);
  }
  const alignment = requested ?? declared?.value ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`alignment must be a power of two, got ${alignment}`);
  }
  if (declared !== undefined && declared.value !== alignment) {
    throw new RangeError(`alignment ${alignment} contradicts ${GGUF_ALIGNMENT_KEY} = ${declared.value}`);
  }
  // Readers assume 32 unless told otherwise.
  if (declared === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    metadata.set(GGUF_ALIGNMENT_KEY, { type: GgufValueType.Uint32, value: alignment });
  }
  return alignment;
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  private used = 0;

  get length(): number {
    return this.used;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.used);
  }

  /** Makes room for n bytes and returns where they go. Call it before touching this.buffer: it may swap it. */
  private reserve(n: number): number {
    if (this.used + n > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.used + n));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.buffer.writeUInt8(v, at);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.buffer.writeInt8(v, at);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.buffer.writeUInt16LE(v, at);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.buffer.writeInt16LE(v, at);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeUInt32LE(v, at);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeInt32LE(v, at);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeFloatLE(v, at);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.buffer.writeDoubleLE(v, at);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.buffer.writeBigUInt64LE(v, at);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.buffer.writeBigInt64LE(v, at);
  }

  string(s: string): void {
    const length = Buffer.byteLength(s, 'utf8');
    this.u64(BigInt(length));
    const at = this.reserve(length);
    this.buffer.write(s, at, length, 'utf8');
  }

  raw(view: ArrayBufferView): void {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const at = this.reserve(bytes.byteLength);
    this.buffer.set(bytes, at);
  }

  padTo(alignment: number): void {
    this.reserve(alignTo(this.used, alignment) - this.used);
  }

  /** The value's payload; its type tag is written by the caller. */
  value(v: GgufValue): void {
    switch (v.type) {
      case GgufValueType.Uint8:
        return this.u8(v.value);
      case GgufValueType.Int8:
        return this.i8(v.value);
      case GgufValueType.Uint16:
        return this.u16(v.value);
      case GgufValueType.Int16:
        return this.i16(v.value);
      case GgufValueType.Uint32:
        return this.u32(v.value);
      case GgufValueType.Int32:
        return this.i32(v.value);
      case GgufValueType.Float32:
        return this.f32(v.value);
      case GgufValueType.Bool:
        return this.u8(v.value ? 1 : 0);
      case GgufValueType.String:
        return this.string(v.value);
      case GgufValueType.Uint64:
        return this.u64(v.value);
      case GgufValueType.Int64:
        return this.i64(v.value);
      case GgufValueType.Float64:
        return this.f64(v.value);
      case GgufValueType.Array:
        return this.array(v);
    }
  }

  private array(v: GgufArrayValue): void {
    this.u32(v.itemType);
    this.u64(BigInt(v.items.length));
    switch (v.itemType) {
      case GgufValueType.Bool:
        for (const item of v.items) this.u8(item ? 1 : 0);
        return;
      case GgufValueType.String:
        for (const item of v.items) this.string(item);
        return;
      case GgufValueType.Array:
        for (const item of v.items) this.array(item);
        return;
      default:
        // Numeric typed arrays are already in the file's little-endian layout.
        return this.raw(v.items);
    }
  }
}
