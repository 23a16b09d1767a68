// Model download through node-llama-cpp's downloader against a loopback HTTP server serving a
// generated GGUF file: in-process, through `icl-lab download-model`, and through the extension's
// download process (which runs that command and cancels it through its stdin).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseDownloadEvent, type DownloadEvent } from '../../src/core/models/downloadEvents.js';
import { parseModelSource } from '../../src/core/models/modelSource.js';
import { downloadModel, ModelDownloadError, type ModelDownloadStart } from '../../src/engine/modelDownload.js';
import { startModelDownload, type CliLauncher } from '../../src/extension/model/modelDownloadProcess.js';
import { startModelServer, type ModelServer } from '../support/modelServer.js';
import { runCli, sourceCli } from '../support/runCli.js';
import { testModelPath, tinyLlama } from './generatedModels.js';

/** A port nothing listens on: one a server had a moment ago. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('model download', function () {
  this.timeout(120_000);
  let model: Buffer;
  let server: ModelServer;
  let root: string;
  let count = 0;
  const freshDir = (): string => path.join(root, `models-${++count}`);
  const url = (name: string): string => `${server.origin}${name}`;

  before(async () => {
    model = await readFile(await testModelPath(tinyLlama));
    server = await startModelServer(
      {
        '/files/tiny.gguf': { body: model },
        '/files/chunked.gguf': { body: model, chunked: true },
        '/files/cut.gguf': { body: model.subarray(0, model.length - 5000) },
        '/files/page.gguf': { body: Buffer.from('<!DOCTYPE html><html><body>Sign in</body></html>'), contentType: 'text/html; charset=utf-8' },
        '/lab/tiny-GGUF/resolve/main/tiny.Q8_0.gguf': { body: model },
      },
      { '/v2/lab/tiny-GGUF/manifests/Q8_0': 'tiny.Q8_0.gguf' },
    );
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-download-'));
  });
  afterEach(() => {
    server.delayMs = 0;
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('downloads over http into the folder, byte-identical, reporting progress', async () => {
    const dir = freshDir();
    const starts: ModelDownloadStart[] = [];
    const progress: [number, number][] = [];
    const result = await downloadModel({
      source: parseModelSource(url('/files/tiny.gguf')),
      dir,
      onStart: (start) => starts.push(start),
      onProgress: (downloaded, total) => progress.push([downloaded, total]),
    });
    const file = path.join(dir, 'tiny.gguf');
    assert.deepEqual(result, { uri: url('/files/tiny.gguf'), file, files: [file], bytes: model.length, existing: false });
    assert.ok((await readFile(file)).equals(model), 'byte-identical');
    assert.deepEqual(await readdir(dir), ['tiny.gguf'], 'no partial file left');
    assert.deepEqual(starts, [{ uri: url('/files/tiny.gguf'), file, totalBytes: model.length, existing: false }]);
    assert.ok(progress.length >= 2, `${progress.length} progress events`);
    assert.ok(progress.every(([, total]) => total === model.length));
    assert.ok(progress.every(([done], i) => i === 0 || done >= progress[i - 1]![0]), 'progress only grows');
    assert.deepEqual(progress.at(-1), [model.length, model.length]);
    assert.ok(server.requests.some((r) => r.url === '/files/tiny.gguf' && r.range && r.range !== 'bytes=0-3'), 'fetched by ranges');
  });

  it('refuses a server that sends no size, whose download could not be checked', async () => {
    const dir = freshDir();
    const error = await downloadModel({ source: parseModelSource(url('/files/chunked.gguf')), dir }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.reason, 'no-size');
    assert.match(error.message, new RegExp(`^cannot download ${url('/files/chunked.gguf').replace(/[.]/g, '\\.')}: the server does not say how large the file is`));
    assert.deepEqual(await readdir(dir), []);
  });

  it('deletes a download whose GGUF header promises more data than arrived', async () => {
    const dir = freshDir();
    const error = await downloadModel({ source: parseModelSource(url('/files/cut.gguf')), dir }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.reason, 'incomplete');
    assert.match(error.message, new RegExp(`^cannot download ${url('/files/cut.gguf').replace(/[.]/g, '\\.')}: .*cut\\.gguf: truncated file: tensor '.*' data ends at byte ${model.length} but the file is ${model.length - 5000} bytes long$`));
    assert.deepEqual(await readdir(dir), []);
  });

  it('keeps a model already downloaded instead of fetching it again', async () => {
    const dir = freshDir();
    await downloadModel({ source: parseModelSource(url('/files/tiny.gguf')), dir });
    const before = server.requests.length;
    const again = await downloadModel({ source: parseModelSource(url('/files/tiny.gguf')), dir });
    assert.equal(again.existing, true);
    const ranged = server.requests.slice(before).filter((r) => r.range && r.range !== 'bytes=0-3');
    assert.deepEqual(ranged, [], 'no part of the model fetched again');
    assert.ok((await readFile(again.file)).equals(model));
  });

  it('after a killed download, replaces its leftovers with the whole file', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    // What a killed process can leave: ipull's partial file, and a short file of the final name from elsewhere.
    await writeFile(path.join(dir, 'tiny.gguf.ipull'), model.subarray(0, 100_000));
    await writeFile(path.join(dir, 'tiny.gguf'), model.subarray(0, 1000));
    const result = await downloadModel({ source: parseModelSource(url('/files/tiny.gguf')), dir });
    assert.equal(result.existing, false);
    assert.ok((await readFile(result.file)).equals(model));
    assert.deepEqual(await readdir(dir), ['tiny.gguf']);
  });

  it('cancelled mid-way leaves no file that looks complete, and says so', async () => {
    const dir = freshDir();
    server.delayMs = 20;
    const controller = new AbortController();
    let seen = 0;
    const error = await downloadModel({
      source: parseModelSource(url('/files/tiny.gguf')),
      dir,
      signal: controller.signal,
      onProgress: (downloaded) => {
        seen = downloaded;
        if (downloaded > 1_000_000) controller.abort();
      },
    }).then(
      () => assert.fail('the download finished'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ModelDownloadError, String(error));
    assert.equal(error.reason, 'cancelled');
    assert.equal(error.message, `download of ${url('/files/tiny.gguf')} cancelled; its partial file was deleted`);
    assert.ok(seen > 1_000_000 && seen < model.length, `cancelled at ${seen} bytes`);
    assert.deepEqual(await readdir(dir), [], 'neither tiny.gguf nor tiny.gguf.ipull');
  });

  it('a 404 fails at once with the URI and the status, leaving nothing', async () => {
    const dir = freshDir();
    const error = await downloadModel({ source: parseModelSource(url('/files/missing.gguf')), dir }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.message, `cannot download ${url('/files/missing.gguf')}: HTTP 404 Not Found`);
    assert.equal(error.reason, 'http-status');
    assert.equal(error.status, 404);
    assert.deepEqual(await readdir(dir), []);
  });

  it('a refused connection fails at once instead of being retried for minutes', async () => {
    const uri = `http://127.0.0.1:${await closedPort()}/m.gguf`;
    const started = Date.now();
    const error = await downloadModel({ source: parseModelSource(uri), dir: freshDir() }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.reason, 'network');
    assert.match(error.message, new RegExp(`^cannot download ${uri.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`));
    assert.ok(Date.now() - started < 10_000);
  });

  it('refuses a web page served in place of a model, before saving it', async () => {
    const dir = freshDir();
    const error = await downloadModel({ source: parseModelSource(url('/files/page.gguf')), dir }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.reason, 'not-gguf');
    assert.equal(error.message, `cannot download ${url('/files/page.gguf')}: not a GGUF file: it starts with "<!DO", not "GGUF" (the server sent a web page)`);
    assert.deepEqual(await readdir(dir), []);
  });

  it('resolves hf: URIs, by file and by quantisation tag, against the Hugging Face endpoint', async () => {
    const dir = freshDir();
    const hfEndpoint = `${server.origin}/`;
    const byFile = await downloadModel({ source: parseModelSource('hf:lab/tiny-GGUF/tiny.Q8_0.gguf', hfEndpoint), dir, hfEndpoint });
    assert.equal(byFile.file, path.join(dir, 'hf_lab_tiny.Q8_0.gguf'));
    assert.ok((await readFile(byFile.file)).equals(model));
    const byTag = await downloadModel({ source: parseModelSource('hf:lab/tiny-GGUF:Q8_0', hfEndpoint), dir, hfEndpoint });
    assert.equal(byTag.file, byFile.file, 'the same file, already there');
    assert.equal(byTag.existing, true);
    const unknownTag = await downloadModel({ source: parseModelSource('hf:lab/tiny-GGUF:Q2_K', hfEndpoint), dir, hfEndpoint }).catch((e: unknown) => e);
    assert.ok(unknownTag instanceof ModelDownloadError);
    assert.match(unknownTag.message, /^cannot download hf:lab\/tiny-GGUF:Q2_K: .*Q2_K/);
    const missing = await downloadModel({ source: parseModelSource('hf:lab/tiny-GGUF/missing.gguf', hfEndpoint), dir, hfEndpoint }).catch((e: unknown) => e);
    assert.ok(missing instanceof ModelDownloadError);
    assert.equal(missing.message, `cannot download hf:lab/tiny-GGUF/missing.gguf: HTTP 404 Not Found from ${hfEndpoint}lab/tiny-GGUF/resolve/main/missing.gguf?download=true`);
  });

  describe('icl-lab download-model', () => {
    it('prints the model path on stdout and its progress as JSON lines on stderr', async () => {
      const dir = freshDir();
      const result = await runCli(['download-model', url('/files/tiny.gguf'), '--dir', dir, '--progress', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const file = path.join(dir, 'tiny.gguf');
      assert.equal(result.stdout, `${file}\n`);
      assert.ok((await readFile(file)).equals(model));
      const events = result.stderr.split('\n').map(parseDownloadEvent).filter((e): e is DownloadEvent => e !== undefined);
      assert.deepEqual(events[0], { event: 'start', uri: url('/files/tiny.gguf'), file, totalBytes: model.length, existing: false });
      assert.deepEqual(events.at(-1), { event: 'done', uri: url('/files/tiny.gguf'), file, bytes: model.length, existing: false });
      const progress = events.filter((e) => e.event === 'progress');
      assert.ok(progress.length >= 1);
      assert.equal(progress.at(-1)!.event === 'progress' && progress.at(-1)!.downloadedBytes, model.length);
    });

    it('fails with one line naming the URI and the reason, and exit status 1', async () => {
      const missing = await runCli(['download-model', url('/files/missing.gguf'), '--dir', freshDir()]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, '');
      assert.match(missing.stderr, new RegExp(`^download-model: cannot download ${url('/files/missing.gguf').replace(/[.]/g, '\\.')}: HTTP 404 Not Found$`, 'm'));
      const bad = await runCli(['download-model', 'ftp://example.org/m.gguf']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /download-model: unsupported URI scheme "ftp:"/);
    });
  });

  describe("the extension's download process", () => {
    const launcher: CliLauncher = (args) => ({ command: process.execPath, args: [...sourceCli, ...args] });

    it('runs icl-lab download-model and reports its events and the file', async () => {
      const dir = freshDir();
      const events: DownloadEvent[] = [];
      const outcome = await startModelDownload(launcher, url('/files/tiny.gguf'), dir, (e) => events.push(e)).done;
      assert.deepEqual(outcome, { status: 'done', file: path.join(dir, 'tiny.gguf'), bytes: model.length, existing: false });
      assert.deepEqual([...new Set(events.map((e) => e.event))], ['start', 'progress', 'done']);
    });

    it('cancels through the child, which deletes its partial file', async () => {
      const dir = freshDir();
      server.delayMs = 20;
      const progress: number[] = [];
      // Events arrive from the child's output, after startModelDownload has returned.
      const download = startModelDownload(launcher, url('/files/tiny.gguf'), dir, (e) => {
        if (e.event !== 'progress') return;
        progress.push(e.downloadedBytes);
        if (e.downloadedBytes > 0) download.cancel();
      });
      const outcome = await download.done;
      assert.deepEqual(outcome, { status: 'cancelled', message: `download of ${url('/files/tiny.gguf')} cancelled; its partial file was deleted` });
      assert.ok(progress.length > 0 && progress.at(-1)! < model.length);
      assert.equal(existsSync(path.join(dir, 'tiny.gguf')), false);
      assert.deepEqual(await readdir(dir), []);
    });

    it('fails with the message of the command', async () => {
      const outcome = await startModelDownload(launcher, url('/files/missing.gguf'), freshDir()).done;
      assert.deepEqual(outcome, { status: 'failed', reason: 'http-status', message: `cannot download ${url('/files/missing.gguf')}: HTTP 404 Not Found` });
    });
  });
});
