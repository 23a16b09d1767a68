// NumPy .npy (format 1.0) for float32 matrices, so `numpy.load` reads raw activations directly.

/** The bytes of a .npy file holding `values` as a C-order float32 array of `shape`. */
export function encodeNpyFloat32(values: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`npy: shape [${shape.join(', ')}] does not hold ${values.length} values`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64
  // and ended by a newline, as the format requires.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (isLittleEndian()) {
    out.set(body, 10 + header.length);
  } else {
    const view = new DataView(out.buffer, 10 + header.length);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return out;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** A float32 .npy file's values and shape (C order, little-endian; what encodeNpyFloat32 writes). */
export function decodeNpyFloat32(bytes: Uint8Array, file = 'npy'): { values: Float32Array; shape: number[] } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error(`${file}: not a .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${file}: holds ${/'descr':\s*'([^']*)'/.exec(header)?.[1] ?? 'an unknown type'}, expected little-endian float32 ('<f4')`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order is not supported`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new Error(`${file}: the header has no shape`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = start + headerLength;
  if (bytes.length - body !== count * 4) throw new Error(`${file}: shape (${shape.join(', ')}) needs ${count * 4} bytes of data, the file holds ${bytes.length - body}`);
  const values = new Float32Array(count);
  new Uint8Array(values.buffer).set(bytes.subarray(body, body + count * 4));
  if (!isLittleEndian()) for (let i = 0; i < count; i++) values[i] = view.getFloat32(body + i * 4, true);
  return { values, shape };
}
