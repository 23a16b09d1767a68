// Constants of the GGUF v3 file format and of the ggml tensor types it stores.
// Source of truth: llama.cpp's gguf-py/gguf/constants.py and ggml/include/ggml.h.

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Metadata key that overrides the data alignment. */
export const GGUF_ALIGNMENT_KEY = 'general.alignment';
/** ggml's GGML_QNT_VERSION, written as general.quantization_version by llama.cpp's converters. */
export const GGML_QUANTIZATION_VERSION = 2;

/** Type tag in front of every metadata value. */
export const GgufValueType = {
  Uint8: 0,
  Int8: 1,
  Uint16: 2,
  Int16: 3,
  Uint32: 4,
  Int32: 5,
  Float32: 6,
  Bool: 7,
  String: 8,
  Array: 9,
  Uint64: 10,
  Int64: 11,
  Float64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** JS representation of each scalar value type. */
export interface GgufScalarByType {
  [GgufValueType.Uint8]: number;
  [GgufValueType.Int8]: number;
  [GgufValueType.Uint16]: number;
  [GgufValueType.Int16]: number;
  [GgufValueType.Uint32]: number;
  [GgufValueType.Int32]: number;
  [GgufValueType.Float32]: number;
  [GgufValueType.Bool]: boolean;
  [GgufValueType.String]: string;
  [GgufValueType.Uint64]: bigint;
  [GgufValueType.Int64]: bigint;
  [GgufValueType.Float64]: number;
}

/** JS representation of an array's items, by item type: numeric arrays stay typed arrays. */
export interface GgufArrayItemsByType {
  [GgufValueType.Uint8]: Uint8Array;
  [GgufValueType.Int8]: Int8Array;
  [GgufValueType.Uint16]: Uint16Array;
  [GgufValueType.Int16]: Int16Array;
  [GgufValueType.Uint32]: Uint32Array;
  [GgufValueType.Int32]: Int32Array;
  [GgufValueType.Float32]: Float32Array;
  [GgufValueType.Bool]: boolean[];
  [GgufValueType.String]: string[];
  [GgufValueType.Array]: GgufArrayValue[];
  [GgufValueType.Uint64]: BigUint64Array;
  [GgufValueType.Int64]: BigInt64Array;
  [GgufValueType.Float64]: Float64Array;
}

export type GgufScalarType = keyof GgufScalarByType;

export type GgufScalarValue = {
  [T in GgufScalarType]: { readonly type: T; readonly value: GgufScalarByType[T] };
}[GgufScalarType];

export type GgufArrayValue = {
  [T in keyof GgufArrayItemsByType]: {
    readonly type: typeof GgufValueType.Array;
    readonly itemType: T;
    readonly items: GgufArrayItemsByType[T];
  };
}[keyof GgufArrayItemsByType];

/** A metadata value together with its GGUF type, so it can be written back unchanged. */
export type GgufValue = GgufScalarValue | GgufArrayValue;

/** Byte width of each fixed-size value type (strings and arrays are variable). */
export const GGUF_VALUE_TYPE_SIZE: Readonly<Record<number, number>> = {
  [GgufValueType.Uint8]: 1,
  [GgufValueType.Int8]: 1,
  [GgufValueType.Uint16]: 2,
  [GgufValueType.Int16]: 2,
  [GgufValueType.Uint32]: 4,
  [GgufValueType.Int32]: 4,
  [GgufValueType.Float32]: 4,
  [GgufValueType.Bool]: 1,
  [GgufValueType.Uint64]: 8,
  [GgufValueType.Int64]: 8,
  [GgufValueType.Float64]: 8,
};

/** ggml tensor types this project writes. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q8_0: 8,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Values per Q8_0 block; each block is an f16 scale followed by 32 int8. */
export const Q8_0_BLOCK_VALUES = 32;
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK_VALUES;

export interface GgmlTypeTraits {
  readonly name: string;
  /** Values per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

const QK_K = 256;

/**
 * Block layout of every ggml type a GGUF file may hold (gguf-py's GGML_QUANT_SIZES), so that headers
 * of real models, whatever their quantization, can be read and size-checked.
 */
export const GGML_TYPE_TRAITS: ReadonlyMap<number, GgmlTypeTraits> = new Map<number, GgmlTypeTraits>([
  [0, { name: 'F32', blockSize: 1, typeSize: 4 }],
  [1, { name: 'F16', blockSize: 1, typeSize: 2 }],
  [2, { name: 'Q4_0', blockSize: 32, typeSize: 2 + 16 }],
  [3, { name: 'Q4_1', blockSize: 32, typeSize: 2 + 2 + 16 }],
  [6, { name: 'Q5_0', blockSize: 32, typeSize: 2 + 4 + 16 }],
  [7, { name: 'Q5_1', blockSize: 32, typeSize: 2 + 2 + 4 + 16 }],
  [8, { name: 'Q8_0', blockSize: 32, typeSize: 2 + 32 }],
  [9, { name: 'Q8_1', blockSize: 32, typeSize: 2 + 2 + 32 }],
  [10, { name: 'Q2_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 16 + QK_K / 4 }],
  [11, { name: 'Q3_K', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + 12 }],
  [12, { name: 'Q4_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + 12 }],
  [13, { name: 'Q5_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 8 + 12 }],
  [14, { name: 'Q6_K', blockSize: QK_K, typeSize: 2 + QK_K / 2 + QK_K / 4 + QK_K / 16 }],
  [15, { name: 'Q8_K', blockSize: QK_K, typeSize: 4 + QK_K + QK_K / 8 }],
  [16, { name: 'IQ2_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 }],
  [17, { name: 'IQ2_XS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 32 }],
  [18, { name: 'IQ3_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 }],
  [19, { name: 'IQ1_S', blockSize: QK_K, typeSize: 2 + QK_K / 8 + QK_K / 16 }],
  [20, { name: 'IQ4_NL', blockSize: 32, typeSize: 2 + 16 }],
  [21, { name: 'IQ3_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4 }],
  [22, { name: 'IQ2_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 16 }],
  [23, { name: 'IQ4_XS', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 64 }],
  [24, { name: 'I8', blockSize: 1, typeSize: 1 }],
  [25, { name: 'I16', blockSize: 1, typeSize: 2 }],
  [26, { name: 'I32', blockSize: 1, typeSize: 4 }],
  [27, { name: 'I64', blockSize: 1, typeSize: 8 }],
  [28, { name: 'F64', blockSize: 1, typeSize: 8 }],
  [29, { name: 'IQ1_M', blockSize: QK_K, typeSize: QK_K / 8 + QK_K / 16 + QK_K / 32 }],
  [30, { name: 'BF16', blockSize: 1, typeSize: 2 }],
  [34, { name: 'TQ1_0', blockSize: QK_K, typeSize: 2 + 4 * 13 }],
  [35, { name: 'TQ2_0', blockSize: QK_K, typeSize: 2 + 64 }],
  [39, { name: 'MXFP4', blockSize: 32, typeSize: 1 + 16 }],
  [40, { name: 'NVFP4', blockSize: 64, typeSize: 4 + 32 }],
  [41, { name: 'Q1_0', blockSize: 128, typeSize: 2 + 16 }],
  [42, { name: 'Q2_0', blockSize: 64, typeSize: 2 + 16 }],
]);

/** general.file_type values (llama.cpp's LlamaFileType) for the types we write. */
export const LlamaFileType = {
  AllF32: 0,
  MostlyF16: 1,
  MostlyQ8_0: 7,
} as const;
export type LlamaFileType = (typeof LlamaFileType)[keyof typeof LlamaFileType];

export function ggmlTypeName(type: number): string {
  return GGML_TYPE_TRAITS.get(type)?.name ?? `unknown type ${type}`;
}

/**
 * Bytes taken by a tensor of `type` with dimensions `dims` (ggml's ne, innermost first), or
 * undefined for a type we don't know. Throws if the innermost dimension doesn't fill whole blocks.
 */
export function tensorByteSize(type: number, dims: readonly number[]): number | undefined {
  const traits = GGML_TYPE_TRAITS.get(type);
  if (traits === undefined) return undefined;
  const inner = dims[0] ?? 1;
  if (inner % traits.blockSize !== 0) {
    throw new RangeError(`${traits.name} rows must be a multiple of ${traits.blockSize} values, got ${inner}`);
  }
  const rows = dims.slice(1).reduce((product, n) => product * n, 1);
  return (inner / traits.blockSize) * traits.typeSize * rows;
}

export function alignTo(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
