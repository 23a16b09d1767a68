// Activation histograms and massive activations from the raw MLP outputs a run keeps
// (`raw/<example>_L<layer>.npy`, float32 [tokens, d_model], written by the engine). The only
// module that reads .npy files for reports.
//
// Histogram: log10|a| in fixed bins of 0.1 decade from 1e-4 to 1e4, over every token × dimension of
// every example present; values below 1e-4 (zeros included) fold into the first bin, values above
// 1e4 (±inf included) into the last. NaN values are counted apart (`nanValues`), in no bin.
//
// Massive activations (Sun et al., 2024): |a| > 100 AND |a| > 1000 × the median |a| of the value's
// own token (numpy median over that token's d_model values, NaN left out), both at once: the
// definition of stats.csv's `massive` count (ActivationReducer.cpp). The layer's median |a| over
// every token × dimension is reported apart (`medianAbs`).
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { csvCell, formatNumber } from '../format/statsCsv.js';

/** Bin layout: 0.1-decade bins over [10^lowDecade, 10^highDecade]. */
export const histogramBinning = { lowDecade: -4, highDecade: 4, binsPerDecade: 10 } as const;
/** Massive-activation thresholds, as in the engine. */
export const massiveAbsoluteThreshold = 100;
export const massiveMedianFactor = 1000;
/** Massive activations listed per layer (largest |a| first); the total is in `LayerSummary`. */
export const defaultMassivePerLayer = 20;

export interface HistogramRow {
  readonly mask: string;
  readonly layer: number;
  /** Bin edges in |a| units (not log10). */
  readonly binLow: number;
  readonly binHigh: number;
  readonly count: number;
}

export interface MassiveRow {
  readonly mask: string;
  readonly layer: number;
  readonly example: number;
  readonly token: number;
  readonly dim: number;
  readonly value: number;
}

export interface LayerSummary {
  readonly mask: string;
  readonly layer: number;
  readonly examples: number;
  /** Token × dimension values over all examples (NaN included). */
  readonly values: number;
  readonly nanValues: number;
  readonly medianAbs: number;
  /** Massive activations found, before the per-layer cap. */
  readonly massiveCount: number;
}

export interface ActivationHistograms {
  readonly histograms: HistogramRow[];
  readonly massive: MassiveRow[];
  readonly layers: LayerSummary[];
}

export interface ActivationHistogramOptions {
  /** Massive activations listed per layer (default 20). */
  readonly massivePerLayer?: number;
}

export const histogramsCsvColumns = ['mask', 'layer', 'bin_low', 'bin_high', 'count'] as const;
export const massiveCsvColumns = ['mask', 'layer', 'example', 'token', 'dim', 'value'] as const;

/** The bin edges in |a| units: binCount + 1 values from 1e-4 to 1e4. */
export function histogramEdges(): number[] {
  const { lowDecade, highDecade, binsPerDecade } = histogramBinning;
  const edges: number[] = [];
  for (let k = lowDecade * binsPerDecade; k <= highDecade * binsPerDecade; k++) edges.push(10 ** (k / binsPerDecade));
  return edges;
}

/** The bin of |a| (a ≥ 0, not NaN), with under/overflow folded into the end bins. */
function binIndex(abs: number, edges: readonly number[]): number {
  const bins = edges.length - 1;
  if (!(abs >= edges[1]!)) return 0;
  if (abs >= edges[bins - 1]!) return bins - 1;
  const { lowDecade, binsPerDecade } = histogramBinning;
  let i = Math.floor((Math.log10(abs) - lowDecade) * binsPerDecade);
  // log10 rounding near an edge: settle on the edges themselves.
  while (i > 0 && abs < edges[i]!) i--;
  while (i < bins - 1 && abs >= edges[i + 1]!) i++;
  return i;
}

// --- .npy reading (the counterpart of core/format/npy.ts) --------------------------------------

export interface NpyFloat32 {
  readonly shape: number[];
  readonly values: Float32Array;
}

/** Decodes a .npy (format 1.x–3.x) holding a C-order float32 array; `name` labels errors. */
export function decodeNpyFloat32(bytes: Uint8Array, name = 'npy'): NpyFloat32 {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error(`${name}: not a .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new Error(`${name}: truncated header`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${name}: unreadable header ${JSON.stringify(header.trim())}`);
  if (descr !== '<f4' && descr !== '>f4') throw new Error(`${name}: dtype ${descr}, expected float32 ('<f4')`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order arrays are not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${name}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (dataStart + count * 4 > bytes.length) throw new Error(`${name}: ${count} float32 values expected, file is truncated`);
  const values = new Float32Array(count);
  const littleEndian = descr === '<f4';
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(dataStart + i * 4, littleEndian);
  return { shape, values };
}

export async function readNpyFloat32(file: string): Promise<NpyFloat32> {
  return decodeNpyFloat32(await readFile(file), file);
}

// --- raw folder layout ----------------------------------------------------------------------------

export interface RawActivationFile {
  readonly example: number;
  readonly layer: number;
  readonly file: string;
}

const rawFileName = /^(\d+)_L(\d+)\.npy$/;

/** The `<example>_L<layer>.npy` files directly in `rawDir`, by layer then example. */
export async function listRawActivations(rawDir: string): Promise<RawActivationFile[]> {
  const entries = await readdir(rawDir, { withFileTypes: true });
  const files: RawActivationFile[] = [];
  for (const entry of entries) {
    const match = entry.isFile() ? rawFileName.exec(entry.name) : null;
    if (match) files.push({ example: Number(match[1]), layer: Number(match[2]), file: path.join(rawDir, entry.name) });
  }
  return files.sort((a, b) => a.layer - b.layer || a.example - b.example);
}

export interface RawActivationDir {
  readonly mask: string;
  readonly dir: string;
}

/**
 * Where a run folder keeps raw activations: `raw/*.npy` (the isolated mask, or `defaultMask`) and
 * `raw/<mask>/*.npy` for other masks. Empty when there is no raw folder.
 */
export async function findRawActivationDirs(runDir: string, defaultMask = 'isolated'): Promise<RawActivationDir[]> {
  const rawDir = path.join(runDir, 'raw');
  let entries;
  try {
    entries = await readdir(rawDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: RawActivationDir[] = [];
  if (entries.some((e) => e.isFile() && rawFileName.test(e.name))) found.push({ mask: defaultMask, dir: rawDir });
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = path.join(rawDir, entry.name);
    if (!found.some((f) => f.mask === entry.name) && (await listRawActivations(dir)).length > 0) found.push({ mask: entry.name, dir });
  }
  return found;
}

// --- the computation --------------------------------------------------------------------------------

/** numpy.median of the non-NaN values (reorders `v`); NaN when there are none. */
function medianInPlace(v: Float32Array): number {
  const n = v.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  quickselect(v, mid);
  const upper = v[mid]!;
  if (n % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (v[i]! > lower) lower = v[i]!;
  return (lower + upper) / 2;
}

/** Puts the k-th smallest value at v[k], smaller ones before it (Hoare partition, median of three). */
function quickselect(v: Float32Array, k: number): void {
  let lo = 0;
  let hi = v.length - 1;
  while (hi > lo) {
    const m = (lo + hi) >> 1;
    const a = v[lo]!, b = v[m]!, c = v[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! < pivot) i++;
      while (v[j]! > pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i] = v[j]!;
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Histograms and massive activations of one mask's raw folder, layer by layer. */
export async function activationHistograms(rawDir: string, mask: string, options: ActivationHistogramOptions = {}): Promise<ActivationHistograms> {
  const cap = options.massivePerLayer ?? defaultMassivePerLayer;
  const edges = histogramEdges();
  const files = await listRawActivations(rawDir);
  const layers = [...new Set(files.map((f) => f.layer))];
  const out: ActivationHistograms = { histograms: [], massive: [], layers: [] };
  for (const layer of layers) {
    const arrays: { example: number; dims: number; values: Float32Array }[] = [];
    for (const f of files.filter((x) => x.layer === layer)) {
      const { shape, values } = await readNpyFloat32(f.file);
      if (shape.length !== 2) throw new Error(`${f.file}: shape [${shape.join(', ')}], expected [tokens, d_model]`);
      if (arrays.length > 0 && arrays[0]!.dims !== shape[1]) throw new Error(`${f.file}: d_model ${shape[1]}, other examples of layer ${layer} have ${arrays[0]!.dims}`);
      arrays.push({ example: f.example, dims: shape[1]!, values });
    }
    const counts = new Array<number>(edges.length - 1).fill(0);
    let total = 0;
    let nan = 0;
    for (const { values } of arrays) total += values.length;
    const abs = new Float32Array(total);
    let n = 0;
    for (const { values } of arrays) {
      for (let i = 0; i < values.length; i++) {
        const a = Math.abs(values[i]!);
        if (Number.isNaN(a)) {
          nan++;
          continue;
        }
        counts[binIndex(a, edges)]!++;
        abs[n++] = a;
      }
    }
    const median = medianInPlace(abs.subarray(0, n));
    counts.forEach((count, i) => out.histograms.push({ mask, layer, binLow: edges[i]!, binHigh: edges[i + 1]!, count }));

    const found: MassiveRow[] = [];
    for (const { example, dims, values } of arrays) {
      for (let start = 0; start < values.length; start += dims) {
        const token = values.subarray(start, start + dims);
        // Only a value over the absolute threshold can qualify: skip the median otherwise.
        if (!token.some((v) => Math.abs(v) > massiveAbsoluteThreshold)) continue;
        const threshold = Math.max(massiveAbsoluteThreshold, massiveMedianFactor * medianInPlace(Float32Array.from(token.filter((v) => !Number.isNaN(v)), Math.abs)));
        token.forEach((v, d) => {
          if (Math.abs(v) > threshold) found.push({ mask, layer, example, token: start / dims, dim: d, value: v });
        });
      }
    }
    found.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.example - b.example || a.token - b.token || a.dim - b.dim);
    out.massive.push(...found.slice(0, cap));
    out.layers.push({ mask, layer, examples: arrays.length, values: total, nanValues: nan, medianAbs: median, massiveCount: found.length });
  }
  return out;
}

// --- CSV ---------------------------------------------------------------------------------------------

export function histogramsCsv(rows: readonly HistogramRow[]): string {
  const lines = rows.map((r) => [csvCell(r.mask), r.layer, formatNumber(r.binLow), formatNumber(r.binHigh), r.count].join(','));
  return [histogramsCsvColumns.join(','), ...lines].join('\n') + '\n';
}

export function massiveCsv(rows: readonly MassiveRow[]): string {
  const lines = rows.map((r) => [csvCell(r.mask), r.layer, r.example, r.token, r.dim, formatNumber(r.value)].join(','));
  return [massiveCsvColumns.join(','), ...lines].join('\n') + '\n';
}

export async function readHistogramsCsv(file: string): Promise<HistogramRow[]> {
  return (await readCsvTable(file, histogramsCsvColumns)).map((r) => ({
    mask: r['mask']!,
    layer: integerCell(r['layer']!, file, 'layer'),
    binLow: numberCell(r['bin_low']!),
    binHigh: numberCell(r['bin_high']!),
    count: integerCell(r['count']!, file, 'count'),
  }));
}

export async function readMassiveCsv(file: string): Promise<MassiveRow[]> {
  return (await readCsvTable(file, massiveCsvColumns)).map((r) => ({
    mask: r['mask']!,
    layer: integerCell(r['layer']!, file, 'layer'),
    example: integerCell(r['example']!, file, 'example'),
    token: integerCell(r['token']!, file, 'token'),
    dim: integerCell(r['dim']!, file, 'dim'),
    value: numberCell(r['value']!),
  }));
}



function integerCell(text: string, file: string, column: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`${file}: ${column} ${JSON.stringify(text)} is not an integer`);
  return n;
}

