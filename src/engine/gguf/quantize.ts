// float32 → F16 / Q8_0 encoders that reproduce ggml's reference bits, and the matching decoders,
// so that a reference computation sees exactly the weights llama.cpp loads.
import { GgmlType, Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES, ggmlTypeName } from './ggufFormat.js';

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * IEEE binary16 bits of `value` rounded to float32 first (ggml only ever converts floats), then to
 * half precision with round-to-nearest-even, as GGML_FP32_TO_FP16 does: subnormals are kept,
 * overflow gives ±inf, NaN gives 0x7e00 with the input's sign.
 */
export function f32ToF16Bits(value: number): number {
  scratchF32[0] = value;
  return f32BitsToF16Bits(scratchU32[0]);
}

function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) return sign | 0x7e00;
  // From 65536 up; values in [65520, 65536) round up to infinity through the carry below.
  if (magnitude >= 0x47800000) return sign | 0x7c00;
  if (magnitude >= 0x38800000) {
    // Normal in half precision: rebias the exponent and drop 13 mantissa bits, adding just under
    // half of the dropped unit, plus one when the kept part is odd, so that ties go to even.
    return sign | ((magnitude - 0x38000000 + 0xfff + ((magnitude >>> 13) & 1)) >>> 13);
  }
  // Below 2^-14 half precision is subnormal, in steps of 2^-24; rounding up to 1024 steps lands
  // exactly on the bits of the smallest normal.
  scratchU32[0] = magnitude;
  return sign | roundHalfEven(scratchF32[0] * 2 ** 24);
}

let f16Table: Float32Array | undefined;

export function f16BitsToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** Rounds an exactly representable value to an integer, ties to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** C's roundf: ties away from zero. */
function roundHalfAwayFromZero(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

// Typed-array views below use the host's byte order, which is little-endian like the file.
export function quantizeF16(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return new Uint8Array(out.buffer);
}

export function dequantizeF16(bytes: Uint8Array): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(0x10000);
    for (let half = 0; half < 0x10000; half++) f16Table[half] = f16BitsToNumber(half);
  }
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = f16Table[halves[i]];
  return out;
}

/**
 * Q8_0 as ggml's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 in float32, stored as
 * f16; each value is roundf(x * (1/d)) with the float32 (not the f16) reciprocal. Input must be finite.
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK_VALUES !== 0) {
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK_VALUES} values, got ${values.length}`);
  }
  const blocks = values.length / Q8_0_BLOCK_VALUES;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const first = b * Q8_0_BLOCK_VALUES;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) amax = Math.max(amax, Math.abs(values[first + j]));
    // Float32 values, so each double operation followed by fround equals the float32 operation.
    const d = Math.fround(amax / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const at = b * Q8_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) {
      view.setInt8(at + 2 + j, roundHalfAwayFromZero(Math.fround(values[first + j] * inverse)));
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % Q8_0_BLOCK_BYTES !== 0) {
    throw new RangeError(`Q8_0 data must be whole ${Q8_0_BLOCK_BYTES}-byte blocks, got ${bytes.byteLength} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = bytes.byteLength / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(blocks * Q8_0_BLOCK_VALUES);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q8_0_BLOCK_BYTES;
    const d = f16BitsToNumber(view.getUint16(at, true));
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) out[b * Q8_0_BLOCK_VALUES + j] = view.getInt8(at + 2 + j) * d;
  }
  return out;
}

/** Stored bytes of `values` as a tensor of `type`. */
export function quantize(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      // Copy, so the caller may reuse its array.
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case GgmlType.F16:
      return quantizeF16(values);
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
  }
}

/** Values of a stored tensor of `type`, exactly (every F16 and Q8_0 value is a float32). */
export function dequantize(type: number, bytes: Uint8Array): Float32Array {
  switch (type) {
    case GgmlType.F32: {
      const copy = new Uint8Array(bytes);
      return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    }
    case GgmlType.F16:
      return dequantizeF16(bytes);
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes);
    default:
      throw new RangeError(`cannot dequantize ${ggmlTypeName(type)} tensors`);
  }
}
