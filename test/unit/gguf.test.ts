import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GGUF_DEFAULT_ALIGNMENT, GgmlType, GgufValueType } from '../../src/engine/gguf/ggufFormat.js';
import type { GgufValue } from '../../src/engine/gguf/ggufFormat.js';
import { GgufError, readGguf, readTensorData } from '../../src/engine/gguf/ggufReader.js';
import { writeGguf } from '../../src/engine/gguf/ggufWriter.js';
import type { GgufTensorToWrite } from '../../src/engine/gguf/ggufWriter.js';
import { findVocabFile } from '../../src/engine/gguf/modelGenerator.js';
import {
  dequantize,
  dequantizeQ8_0,
  f16BitsToNumber,
  f32ToF16Bits,
  quantize,
  quantizeF16,
  quantizeQ8_0,
} from '../../src/engine/gguf/quantize.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function floatFromBits(bits: number): number {
  u32[0] = bits;
  return f32[0];
}
function bitsOfFloat(value: number): number {
  f32[0] = value;
  return u32[0];
}

/**
 * ggml's own portable fp32 → fp16 (ggml_compute_fp32_to_fp16 in ggml-impl.h), transcribed with
 * float32 arithmetic, as an oracle for our clearer implementation.
 */
function ggmlFp32ToFp16(value: number): number {
  let base = Math.fround(Math.fround(Math.abs(Math.fround(value)) * 2 ** 112) * 2 ** -110);
  const w = bitsOfFloat(value);
  const shl1W = (w << 1) >>> 0;
  const sign = (w & 0x80000000) >>> 0;
  let bias = (shl1W & 0xff000000) >>> 0;
  if (bias < 0x71000000) bias = 0x71000000;
  base = Math.fround(floatFromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOfFloat(base);
  const nonsign = ((bits >>> 13) & 0x7c00) + (bits & 0x0fff);
  return ((sign >>> 16) | (shl1W > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff;
}

function tensor(name: string, dims: number[], type: number, bytes: Uint8Array): GgufTensorToWrite {
  return { name, dims, type, data: () => [bytes] };
}

describe('GGUF reader and writer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icl-gguf-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const everyType: [string, GgufValue][] = [
    ['t.u8', { type: GgufValueType.Uint8, value: 250 }],
    ['t.i8', { type: GgufValueType.Int8, value: -120 }],
    ['t.u16', { type: GgufValueType.Uint16, value: 65000 }],
    ['t.i16', { type: GgufValueType.Int16, value: -32000 }],
    ['t.u32', { type: GgufValueType.Uint32, value: 4_000_000_000 }],
    ['t.i32', { type: GgufValueType.Int32, value: -2_000_000_000 }],
    ['t.f32', { type: GgufValueType.Float32, value: -1.25 }],
    ['t.bool', { type: GgufValueType.Bool, value: true }],
    ['t.string', { type: GgufValueType.String, value: 'naïve 🦙 ĠĊ' }],
    ['t.u64', { type: GgufValueType.Uint64, value: 2n ** 63n + 5n }],
    ['t.i64', { type: GgufValueType.Int64, value: -(2n ** 62n) }],
    ['t.f64', { type: GgufValueType.Float64, value: Math.PI }],
    ['a.u8', { type: GgufValueType.Array, itemType: GgufValueType.Uint8, items: Uint8Array.of(0, 255) }],
    ['a.i8', { type: GgufValueType.Array, itemType: GgufValueType.Int8, items: Int8Array.of(-128, 127) }],
    ['a.u16', { type: GgufValueType.Array, itemType: GgufValueType.Uint16, items: Uint16Array.of(1, 65535) }],
    ['a.i16', { type: GgufValueType.Array, itemType: GgufValueType.Int16, items: Int16Array.of(-3, 3) }],
    ['a.u32', { type: GgufValueType.Array, itemType: GgufValueType.Uint32, items: Uint32Array.of(7, 2 ** 32 - 1) }],
    ['a.i32', { type: GgufValueType.Array, itemType: GgufValueType.Int32, items: Int32Array.of(-7, 7, 0) }],
    ['a.f32', { type: GgufValueType.Array, itemType: GgufValueType.Float32, items: Float32Array.of(0.5, -Infinity) }],
    ['a.u64', { type: GgufValueType.Array, itemType: GgufValueType.Uint64, items: BigUint64Array.of(2n ** 64n - 1n) }],
    ['a.i64', { type: GgufValueType.Array, itemType: GgufValueType.Int64, items: BigInt64Array.of(-1n, 1n) }],
    ['a.f64', { type: GgufValueType.Array, itemType: GgufValueType.Float64, items: Float64Array.of(1e-300) }],
    ['a.bool', { type: GgufValueType.Array, itemType: GgufValueType.Bool, items: [true, false, true] }],
    ['a.string', { type: GgufValueType.Array, itemType: GgufValueType.String, items: ['', 'a b', 'ü'] }],
    ['a.empty', { type: GgufValueType.Array, itemType: GgufValueType.String, items: [] }],
    [
      'a.nested',
      {
        type: GgufValueType.Array,
        itemType: GgufValueType.Array,
        items: [
          { type: GgufValueType.Array, itemType: GgufValueType.Int32, items: Int32Array.of(1, 2) },
          { type: GgufValueType.Array, itemType: GgufValueType.String, items: ['x'] },
        ],
      },
    ],
  ];

  it('reads back every metadata value type, typed arrays included, exactly as written', async () => {
    const file = path.join(dir, 'types.gguf');
    await writeGguf(file, { metadata: everyType, tensors: [] });
    const read = await readGguf(file);
    assert.equal(read.version, 3);
    assert.deepEqual([...read.metadata.keys()], everyType.map(([key]) => key));
    for (const [key, value] of everyType) assert.deepStrictEqual(read.metadata.get(key), value, key);
  });

  it('reads back tensors of each type at aligned offsets with their exact bytes', async () => {
    const file = path.join(dir, 'tensors.gguf');
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const written = [
      tensor('odd.f32', [3], GgmlType.F32, quantize(GgmlType.F32, Float32Array.of(1, 2, 3))),
      tensor('m.f16', [32, 2], GgmlType.F16, quantizeF16(values)),
      tensor('m.q8_0', [64], GgmlType.Q8_0, quantizeQ8_0(values)),
    ];
    const size = await writeGguf(file, { metadata: [['general.name', { type: GgufValueType.String, value: 't' }]], tensors: written });
    const read = await readGguf(file);
    assert.equal((await stat(file)).size, size);
    assert.equal(read.dataOffset % GGUF_DEFAULT_ALIGNMENT, 0);
    assert.deepEqual(
      read.tensors.map((t) => [t.name, t.dims, t.type, t.byteSize]),
      [
        ['odd.f32', [3], GgmlType.F32, 12],
        ['m.f16', [32, 2], GgmlType.F16, 128],
        ['m.q8_0', [64], GgmlType.Q8_0, 68],
      ],
    );
    for (const info of read.tensors) assert.equal(info.offset % GGUF_DEFAULT_ALIGNMENT, 0, info.name);
    for (const original of written) {
      const bytes = await readTensorData(read, original.name);
      assert.deepEqual(bytes, [...(original.data() as Uint8Array[])][0], original.name);
    }
    assert.deepEqual(dequantize(GgmlType.F32, await readTensorData(read, 'odd.f32')), Float32Array.of(1, 2, 3));
  });

  it('records a non-default alignment in general.alignment and aligns data to it', async () => {
    const file = path.join(dir, 'aligned.gguf');
    await writeGguf(file, {
      metadata: [],
      tensors: [tensor('a', [1], GgmlType.F32, new Uint8Array(4)), tensor('b', [1], GgmlType.F32, new Uint8Array(4))],
      alignment: 256,
    });
    const read = await readGguf(file);
    assert.deepEqual(read.metadata.get('general.alignment'), { type: GgufValueType.Uint32, value: 256 });
    assert.equal(read.alignment, 256);
    assert.equal(read.dataOffset % 256, 0);
    assert.deepEqual(read.tensors.map((t) => t.offset), [0, 256]);
  });

  it("copies a vocab file's metadata byte for byte", async () => {
    const source = findVocabFile('qwen2');
    const original = await readFile(source);
    const copy = path.join(dir, 'vocab-copy.gguf');
    await writeGguf(copy, { metadata: (await readGguf(source)).metadata, tensors: [] });
    const copied = await readFile(copy);
    // The copy only adds the zero padding that ends the (empty) header section on an alignment boundary.
    assert.ok(copied.subarray(0, original.length).equals(original));
    assert.ok(copied.subarray(original.length).every((b) => b === 0));
    assert.ok(copied.length - original.length < GGUF_DEFAULT_ALIGNMENT);
  });

  it('refuses a tensor whose producer yields the wrong byte count and leaves no file behind', async () => {
    const file = path.join(dir, 'short.gguf');
    await assert.rejects(
      writeGguf(file, { metadata: [], tensors: [tensor('w', [4], GgmlType.F32, new Uint8Array(12))] }),
      /tensor 'w' \(F32 \[4\]\) should be 16 bytes, got 12/,
    );
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await assert.rejects(stat(`${file}.partial-${process.pid}`), { code: 'ENOENT' });
  });

  describe('errors', () => {
    let good: string;
    before(async () => {
      good = path.join(dir, 'good.gguf');
      await writeGguf(good, {
        metadata: [['general.name', { type: GgufValueType.String, value: 'a model with a long enough name' }]],
        tensors: [tensor('weights', [1000], GgmlType.F32, new Uint8Array(4000))],
      });
    });

    async function rejectsWith(file: string, pattern: RegExp): Promise<void> {
      await assert.rejects(readGguf(file), (error: unknown) => {
        assert.ok(error instanceof GgufError, `expected a GgufError, got ${String(error)}`);
        assert.equal(error.path, file);
        assert.ok(error.message.startsWith(`${file}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      });
    }

    it('says a file with another magic is not a GGUF file', async () => {
      const file = path.join(dir, 'notes.txt');
      await writeFile(file, 'these are not the weights you are looking for');
      await rejectsWith(file, /not a GGUF file/);
    });

    it('says an empty file is not a GGUF file', async () => {
      const file = path.join(dir, 'empty.gguf');
      await writeFile(file, '');
      await rejectsWith(file, /not a GGUF file/);
    });

    it('names the version it does not support', async () => {
      const file = path.join(dir, 'v1.gguf');
      const bytes = await readFile(good);
      bytes.writeUInt32LE(1, 4);
      await writeFile(file, bytes);
      await rejectsWith(file, /unsupported GGUF version 1\b/);
    });

    it('reports a file cut inside its metadata as truncated', async () => {
      const file = path.join(dir, 'cut-header.gguf');
      // 24-byte preamble, then the key (8 + 12 bytes), its type (4) and the value's length (8): the
      // 31-byte value would start at byte 56.
      await writeFile(file, (await readFile(good)).subarray(0, 60));
      await rejectsWith(file, /truncated file: value of 'general\.name' at byte 56 needs 31 bytes but the file is 60 bytes long/);
    });

    it('reports a file cut inside tensor data as truncated, naming the tensor', async () => {
      const file = path.join(dir, 'cut-data.gguf');
      const bytes = await readFile(good);
      await writeFile(file, bytes.subarray(0, bytes.length - 100));
      await rejectsWith(file, new RegExp(`truncated file: tensor 'weights' data ends at byte ${bytes.length} but the file is ${bytes.length - 100} bytes long`));
    });

    it('reports a file it cannot open', async () => {
      await rejectsWith(path.join(dir, 'missing.gguf'), /cannot open file/);
    });

    it('reports an unknown tensor name', async () => {
      const read = await readGguf(good);
      await assert.rejects(readTensorData(read, 'nope'), /good\.gguf: no tensor named 'nope'/);
      assert.equal((await readTensorData(read, 'weights')).byteLength, 4000);
    });
  });
});

describe('F16 conversion', () => {
  const cases: [string, number, number][] = [
    ['one', 1, 0x3c00],
    ['minus two', -2, 0xc000],
    ['positive zero', 0, 0x0000],
    ['negative zero', -0, 0x8000],
    ['0.1 (rounded down)', 0.1, 0x2e66],
    ['a third (rounded up)', 1 / 3, 0x3555],
    ['the largest half', 65504, 0x7bff],
    ['just below the overflow tie', 65519.99609375, 0x7bff],
    ['the overflow tie (to even: infinity)', 65520, 0x7c00],
    ['beyond range', 1e6, 0x7c00],
    ['infinity', -Infinity, 0xfc00],
    ['a tie between 1 and 1+2^-10 (to even: 1)', 1 + 2 ** -11, 0x3c00],
    ['a tie between 1+2^-10 and 1+2^-9 (to even: up)', 1 + 3 * 2 ** -11, 0x3c02],
    ['the smallest normal', 2 ** -14, 0x0400],
    ['the largest subnormal', 1023 * 2 ** -24, 0x03ff],
    ['a subnormal that rounds up to the smallest normal', (1023.5 + 0.25) * 2 ** -24, 0x0400],
    ['the smallest subnormal', 2 ** -24, 0x0001],
    ['half the smallest subnormal (tie to even: zero)', 2 ** -25, 0x0000],
    ['a tie between subnormals 1 and 2 (to even: 2)', 3 * 2 ** -25, 0x0002],
    ['a tie between subnormals 2 and 3 (to even: 2)', 5 * 2 ** -25, 0x0002],
    ['just above half the smallest subnormal', 2 ** -25 * (1 + 2 ** -20), 0x0001],
    ['a float32 subnormal', 2 ** -140, 0x0000],
  ];
  for (const [name, value, bits] of cases) {
    it(`encodes ${name} as 0x${bits.toString(16).padStart(4, '0')}`, () => {
      assert.equal(f32ToF16Bits(value).toString(16), bits.toString(16));
    });
  }

  it('encodes NaN as a quiet NaN', () => {
    assert.equal(f32ToF16Bits(Number.NaN) & 0x7fff, 0x7e00);
  });

  it("agrees with ggml's bit-twiddling conversion on random float32 values of every exponent", () => {
    let state = 12345;
    for (let i = 0; i < 200_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const value = floatFromBits(state);
      if (Number.isNaN(value)) continue;
      assert.equal(f32ToF16Bits(value), ggmlFp32ToFp16(value), `bits 0x${state.toString(16)}`);
    }
  });

  it('decodes subnormals, normals and infinities', () => {
    assert.equal(f16BitsToNumber(0x0001), 2 ** -24);
    assert.equal(f16BitsToNumber(0x03ff), 1023 * 2 ** -24);
    assert.equal(f16BitsToNumber(0x3555), 0.333251953125);
    assert.equal(f16BitsToNumber(0x7bff), 65504);
    assert.equal(f16BitsToNumber(0xfc00), -Infinity);
    assert.ok(Object.is(f16BitsToNumber(0x8000), -0));
    assert.ok(Number.isNaN(f16BitsToNumber(0x7e00)));
  });

  it('decodes every finite half back to a value that encodes to the same bits', () => {
    const halves = Uint16Array.from({ length: 0x10000 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    const decoded = dequantize(GgmlType.F16, new Uint8Array(halves.buffer));
    const encoded = new Uint16Array(quantizeF16(decoded).buffer);
    assert.deepEqual(encoded, halves);
  });
});

describe('Q8_0 quantization', () => {
  function block(fill: (i: number) => number): Float32Array {
    return Float32Array.from({ length: 32 }, (_, i) => fill(i));
  }
  function scaleBits(bytes: Uint8Array, blockIndex = 0): number {
    return new DataView(bytes.buffer, bytes.byteOffset).getUint16(blockIndex * 34, true);
  }
  function quants(bytes: Uint8Array, blockIndex = 0): number[] {
    return [...new Int8Array(bytes.buffer, bytes.byteOffset + blockIndex * 34 + 2, 32)];
  }

  it('scales by max|x|/127 and rounds ties away from zero, as roundf does', () => {
    // max|x| = 127 makes d = 1 exactly, so each quant is roundf(x).
    const values = [127, -63.5, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, 126.5, -127];
    const bytes = quantizeQ8_0(block((i) => values[i] ?? 0));
    assert.equal(scaleBits(bytes), 0x3c00);
    assert.deepEqual(quants(bytes).slice(0, values.length), [127, -64, 1, -1, 2, 3, -3, 0, 127, -127]);
    assert.ok(quants(bytes).slice(values.length).every((q) => q === 0));
  });

  it('uses the float32 reciprocal of d for the quants but stores d rounded to f16', () => {
    // max|x| = 127.05 gives d = 1.000394, stored as f16 1.0 (0x3c00). 63.52 / d = 63.495 → 63,
    // whereas dividing by the stored 1.0 would give 64.
    const bytes = quantizeQ8_0(block((i) => (i === 5 ? -127.05 : i === 6 ? 63.52 : 0)));
    assert.equal(scaleBits(bytes), 0x3c00);
    assert.deepEqual(quants(bytes).slice(5, 7), [-127, 63]);
    assert.deepEqual([...dequantizeQ8_0(bytes).slice(5, 7)], [-127, 63]);
  });

  it('writes an all-zero block as zero scale and zero quants', () => {
    const bytes = quantizeQ8_0(new Float32Array(32));
    assert.equal(bytes.length, 34);
    assert.ok(bytes.every((b) => b === 0));
    assert.ok(dequantizeQ8_0(bytes).every((v) => v === 0));
  });

  it('quantizes each block with its own scale', () => {
    const values = new Float32Array(64);
    values[0] = 254; // block 0: d = 2
    values[1] = 3; // 1.5 → 2
    values[32] = -0.5; // block 1: d = 0.5/127
    const bytes = quantizeQ8_0(values);
    assert.equal(scaleBits(bytes, 0), f32ToF16Bits(2));
    assert.deepEqual(quants(bytes, 0).slice(0, 2), [127, 2]);
    assert.equal(scaleBits(bytes, 1), f32ToF16Bits(0.5 / 127));
    assert.equal(quants(bytes, 1)[0], -127);
  });

  it('dequantizes to within half a step of the input', () => {
    let state = 7;
    const values = Float32Array.from({ length: 32 * 50 }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state / 2 ** 32 - 0.5) * 10;
    });
    const restored = dequantizeQ8_0(quantizeQ8_0(values));
    for (let b = 0; b < 50; b++) {
      const slice = values.subarray(b * 32, (b + 1) * 32);
      const step = slice.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
      // Half a step, plus what rounding d to f16 (relative error ≤ 2^-11) costs at |q| ≤ 127.
      for (let j = 0; j < 32; j++) assert.ok(Math.abs(restored[b * 32 + j] - slice[j]) <= step * (0.5 + 127 / 2048));
    }
  });

  it('refuses a length that is not a whole number of blocks', () => {
    assert.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
  });
});
