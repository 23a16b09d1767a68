// A run folder never mixes inputs silently: after a run, editing the data, adding human labels,
// or losing run.json makes `--resume` refuse with what changed; a run that fails before its model
// loads still leaves run.json (status failed) for the Runs view.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoRunConfig } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { acquireRunLock, readRunLock } from '../../src/core/experiment/runLock.js';
import { labelSidecarPath } from '../../src/core/labelling/labelSidecar.js';
import { runCli } from '../support/runCli.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

describe('icl-lab run: checkpoints tied to their inputs', function () {
  this.timeout(300_000);
  let dir: string;
  let config: string;
  let out: string;
  let dataFile: string;
  let labelsFile: string;
  let dataText: string;
  let labelsText: string;
  const rows = demoRows(30, 7);
  const labelLine = (id: number, label: string): string => JSON.stringify({ id: String(id), label, round: 1, labelledAt: '2026-12-06T00:00:00.000Z' }) + '\n';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-inputs-'));
    dataFile = path.join(dir, 'pool.jsonl');
    // No labels in the data: the first 24 rows are labelled in the sidecar, as the labelling workflow leaves it.
    dataText = rows.map((r) => JSON.stringify({ id: r.id, text: r.text })).join('\n') + '\n';
    await writeFile(dataFile, dataText);
    labelsFile = labelSidecarPath(dataFile);
    labelsText = rows.slice(0, 24).map((r) => labelLine(r.id, r.label)).join('');
    await writeFile(labelsFile, labelsText);
    config = path.join(dir, 'tiny.run.json');
    const demo = demoRunConfig(1) as { data: Record<string, unknown> } & Record<string, unknown>;
    await writeFile(
      config,
      JSON.stringify({
        ...demo,
        model: await testModelPath(tinyQwen2),
        data: { ...demo.data, file: 'pool.jsonl', humanLabels: path.basename(labelsFile) },
        split: { test: 4, probe: 3, pool: 10 },
        masks: ['isolated'],
        selection: { strategies: ['random', 'k-center-greedy'], budgets: [2], rounds: 1, seeds: [0] },
        correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 },
        evaluation: { bootstrap: 10 },
        histogramExamples: 2,
      }),
    );
    out = path.join(dir, 'run');
    const first = await runCli(['run', config, '--out', out, '--no-report']);
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => (process.env['KEEP_TMP'] ? undefined : rm(dir, { recursive: true, force: true })));

  it('records the files by sha256 and every resolved example in run.json, and each unit its examples', async () => {
    const record = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    assert.match(record.inputs.data.sha256, /^[0-9a-f]{64}$/);
    assert.equal(record.inputs.data.file, dataFile);
    assert.match(record.inputs.humanLabels.sha256, /^[0-9a-f]{64}$/);
    assert.equal(record.inputs.splits.pool.length, 10);
    assert.equal(record.inputs.splits.test.length, 4);
    for (const [index, id, digest] of record.inputs.splits.pool) {
      assert.equal(String(rows[index]!.id), id);
      assert.match(digest, /^[0-9a-f]{16}$/);
    }
    // Where extract's time went: the MLP output's isolated pass carried the raw dumps, the residual
    // stream's the vectors (selection.embedding's default, read for them alone); then the assembly.
    const breakdown = record.phases.extract.breakdown;
    assert.deepEqual(Object.keys(breakdown), ['mlp_out/isolated +raw', 'resid_post/isolated +vectors', 'assemble (stats.csv, histograms)']);
    assert.equal(breakdown['mlp_out/isolated +raw'].examples, 10);
    assert.ok(breakdown['mlp_out/isolated +raw'].tokens > 10);
    assert.equal(breakdown['resid_post/isolated +vectors'].tokens, breakdown['mlp_out/isolated +raw'].tokens);
    const unit = JSON.parse(await readFile(path.join(out, 'checkpoints', 'extract-isolated-0.json'), 'utf8'));
    assert.deepEqual(unit.examples.map((e: unknown[]) => e[0]), record.inputs.splits.pool.slice(0, unit.examples.length).map((e: unknown[]) => e[0]));
  });

  it('refuses to resume after labels were added to the sidecar, naming the examples that changed', async () => {
    await writeFile(labelsFile, labelsText + rows.slice(24).map((r) => labelLine(r.id, r.label)).join(''));
    try {
      const result = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /error: the inputs of the run in .* changed since it started/);
      assert.match(result.stderr, /pool\.jsonl\.labels\.jsonl changed since the run started \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\)/);
      assert.match(result.stderr, /the run's examples changed: .*(now takes|no longer takes) row \d+/);
      assert.match(result.stderr, /start a new run folder/);
    } finally {
      await writeFile(labelsFile, labelsText);
    }
  });

  it('refuses to resume after a row the run uses was edited, naming its id and line', async () => {
    const record = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    const [index, id] = record.inputs.splits.pool[3] as [number, string];
    const edited = dataText.split('\n');
    edited[index] = JSON.stringify({ id: rows[index]!.id, text: `${rows[index]!.text} (edited)` });
    await writeFile(dataFile, edited.join('\n'));
    try {
      const result = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /pool\.jsonl changed since the run started/);
      assert.match(result.stderr, new RegExp(`pool: row ${index} \\(id "${id}", line ${index + 1}\\) differs`));
    } finally {
      await writeFile(dataFile, dataText);
    }
    // Restored, the same inputs resume.
    const again = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
    assert.equal(again.code, 0, again.stderr);
  });

  it('a labelling round that added labels: a new run with --reuse takes the unchanged examples from the earlier run; its results equal a fresh run\'s up to float32 rounding', async () => {
    await writeFile(labelsFile, labelsText + rows.slice(24).map((r) => labelLine(r.id, r.label)).join(''));
    try {
      const reused = path.join(dir, 'round-2-reused');
      const fresh = path.join(dir, 'round-2-fresh');
      const withReuse = await runCli(['run', config, '--out', reused, '--reuse', out, '--no-report']);
      assert.equal(withReuse.code, 0, withReuse.stderr);
      const taken = Number(/--reuse: (\d+) example extractions taken from /.exec(withReuse.stderr)?.[1]);
      assert.ok(taken > 0, withReuse.stderr);
      const alone = await runCli(['run', config, '--out', fresh, '--no-report']);
      assert.equal(alone.code, 0, alone.stderr);
      // An example's activations depend, in their last bits, on which others share its batch: the
      // taken ones match a fresh run's to float32 rounding, not byte for byte. Everything the
      // statistics decide (rows, selected examples, curves) is the same.
      const close = (name: string, numericFrom: number): Promise<void> =>
        Promise.all([readFile(path.join(reused, name), 'utf8'), readFile(path.join(fresh, name), 'utf8')]).then(([a, b]) => {
          const rowsA = a.trim().split('\n').map((l) => l.split(','));
          const rowsB = b.trim().split('\n').map((l) => l.split(','));
          assert.deepEqual(rowsA.map((r) => r.slice(0, numericFrom)), rowsB.map((r) => r.slice(0, numericFrom)), name);
          rowsA.slice(1).forEach((r, i) =>
            r.slice(numericFrom).forEach((cell, j) => {
              const x = Number(cell);
              const y = Number(rowsB[i + 1]![numericFrom + j]);
              assert.ok(cell === rowsB[i + 1]![numericFrom + j] || Math.abs(x - y) <= 1e-6 + 1e-4 * Math.max(Math.abs(x), Math.abs(y)), `${name} row ${i + 2}: ${cell} vs ${rowsB[i + 1]![numericFrom + j]}`);
            }),
          );
        });
      await close('stats.csv', 6);
      await close('selections.csv', 6);
      for (const name of ['quality.csv', 'curves.csv']) assert.equal(await readFile(path.join(reused, name), 'utf8'), await readFile(path.join(fresh, name), 'utf8'), name);
      // Another model, template or span changes every example: refused, with why.
      const other = path.join(dir, 'other.run.json');
      await writeFile(other, JSON.stringify({ ...JSON.parse(await readFile(config, 'utf8')), span: 'demonstration' }));
      const refused = await runCli(['run', other, '--out', path.join(dir, 'round-2-other'), '--reuse', out, '--no-report']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /--reuse: .* was run with a different `span`, which changes every example's statistics/);
    } finally {
      await writeFile(labelsFile, labelsText);
    }
  });

  it('treats a garbage or missing run.json beside checkpoints as an error, rebuilt from the checkpoints\' manifest only on --resume when everything matches', async () => {
    const runJson = path.join(out, 'run.json');
    const manifest = path.join(out, 'checkpoints', '.manifest.json');
    const saved = await readFile(runJson, 'utf8');
    const savedManifest = await readFile(manifest, 'utf8');
    const stats = await readFile(path.join(out, 'stats.csv'), 'utf8');
    const units = (await readdir(path.join(out, 'checkpoints'))).filter((n) => !n.startsWith('.')).length;
    try {
      await writeFile(runJson, '{ garbage');
      const garbage = await runCli(['run', config, '--out', out, '--no-report']);
      assert.equal(garbage.code, 1);
      assert.match(garbage.stderr, /run\.json cannot be read .*; their manifest \(.*\.manifest\.json\) names the config, inputs and model they came from: pass --resume/);
      const rebuilt = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      assert.match(rebuilt.stderr, /run\.json cannot be read .*: rebuilding it from .*\.manifest\.json/);
      assert.equal(JSON.parse(await readFile(runJson, 'utf8')).status, 'complete');
      assert.equal(await readFile(path.join(out, 'stats.csv'), 'utf8'), stats);
      await rm(runJson);
      await rm(manifest);
      for (const resume of [[], ['--resume']]) {
        const missing = await runCli(['run', config, '--out', out, ...resume, '--no-report']);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, new RegExp(`holds ${units} checkpoints but no run\\.json, and no manifest says which config and inputs the ${units} checkpoints came from`));
      }
    } finally {
      await writeFile(runJson, saved);
      await writeFile(manifest, savedManifest);
    }
  });

  it('sets a corrupt checkpoint aside and recomputes it, removes stale partial files, and recomputes a missing raw dump: files as before', async () => {
    const files = ['stats.csv', 'histograms.csv', 'massive.csv', 'quality.csv', 'correlations.csv', 'curves.csv'];
    const before = await Promise.all(files.map((f) => readFile(path.join(out, f), 'utf8')));
    const unit = path.join(out, 'checkpoints', 'extract-isolated-0.json');
    const text = await readFile(unit, 'utf8');
    await writeFile(unit, text.slice(0, Math.floor(text.length / 2)));
    await writeFile(path.join(out, 'checkpoints', 'quality-0.json.4242.partial'), '{"torn');
    const result = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /extract-isolated-0\.json is corrupt \(.*\): set aside as extract-isolated-0\.json\.corrupt; the unit is recomputed/);
    assert.match(result.stderr, /quality-0\.json\.4242\.partial, left by an interrupted write/);
    assert.equal(await readFile(unit, 'utf8'), text);
    // A deleted raw dump (the histograms' input): its unit is recomputed, not skipped.
    const dumps = (await readdir(path.join(out, 'raw'))).filter((n) => n.endsWith('.npy'));
    assert.ok(dumps.length > 0, 'the run dumped raw activations');
    await rm(path.join(out, 'raw', dumps[0]!));
    const again = await runCli(['run', config, '--out', out, '--resume', '--no-report']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`${dumps[0]!.replace('.', '\\.')} is missing: extract unit extract-isolated-0\\.json is recomputed`));
    assert.ok((await readdir(path.join(out, 'raw'))).includes(dumps[0]!));
    const after = await Promise.all(files.map((f) => readFile(path.join(out, f), 'utf8')));
    for (const [i, f] of files.entries()) assert.equal(after[i], before[i], f);
    assert.ok(!(await readdir(path.join(out, 'checkpoints'))).some((n) => n.endsWith('.partial')));
  });

  it('retries a unit once in a restarted engine when the engine process crashes under it: the same results', async () => {
    const crashed = path.join(dir, 'crashed');
    const marker = path.join(dir, 'crash-once');
    const result = await runCli(['run', config, '--out', crashed, '--no-report'], undefined, { ...process.env, ICL_LAB_ENGINE_TEST_HOOKS: '1', ICL_LAB_ENGINE_TEST_CRASH_ONCE: marker });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /the engine process died during extraction \(the engine process was killed by SIGABRT.*\): restarting it and retrying the unit once/);
    assert.ok(existsSync(marker), 'the hook crashed an engine');
    for (const name of ['stats.csv', 'quality.csv', 'correlations.csv', 'curves.csv']) assert.equal(await readFile(path.join(crashed, name), 'utf8'), await readFile(path.join(out, name), 'utf8'), name);
  });

  it('icl-lab doctor: healthy after the run; names an edited row as stale and a broken unit as corrupt, changing nothing', async () => {
    const healthy = await runCli(['doctor', out]);
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    assert.match(healthy.stdout, /^ok +run\.json: complete$/m);
    assert.match(healthy.stdout, /^ok +inputs unchanged: pool\.jsonl, pool\.jsonl\.labels\.jsonl; 10 pool, 3 probe, 4 test examples$/m);
    assert.match(healthy.stdout, /^ok +model .*: sha256 matches$/m);
    assert.match(healthy.stdout, /: healthy$/m);
    const record = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    const [index] = record.inputs.splits.pool[0] as [number];
    const edited = dataText.split('\n');
    edited[index] = JSON.stringify({ id: rows[index]!.id, text: 'edited text' });
    const unit = path.join(out, 'checkpoints', 'quality-0.json');
    const unitText = await readFile(unit, 'utf8');
    await writeFile(dataFile, edited.join('\n'));
    await writeFile(unit, unitText.slice(0, 20));
    try {
      const sick = await runCli(['doctor', out, '--no-model-hash']);
      assert.equal(sick.code, 1);
      assert.match(sick.stdout, new RegExp(`^stale +the run's examples changed: pool: row ${index} \\(id "${rows[index]!.id}", line ${index + 1}\\) differs$`, 'm'));
      assert.match(sick.stdout, /^stale +checkpoints\/extract-isolated-0\.json was computed for examples whose content changed since$/m);
      assert.match(sick.stdout, /^corrupt +checkpoints\/quality-0\.json does not parse .*: a resume sets it aside and recomputes it$/m);
      assert.equal(await readFile(unit, 'utf8'), unitText.slice(0, 20), 'doctor changes nothing');
    } finally {
      await writeFile(dataFile, dataText);
      await writeFile(unit, unitText);
    }
  });

  it('refuses a second run or resume while another process holds the folder, naming it, and leaves its lock alone', async () => {
    const lock = await acquireRunLock(out);
    try {
      for (const resume of [['--resume'], []]) {
        const result = await runCli(['run', config, '--out', out, ...resume, '--no-report']);
        assert.equal(result.code, 1);
        assert.match(result.stderr, new RegExp(`error: .*${path.basename(out)} is in use by icl-lab process ${process.pid} on `));
      }
      assert.equal((await readRunLock(out))?.pid, process.pid);
    } finally {
      await lock.release();
    }
    assert.equal(await readRunLock(out), undefined);
  });

  it('writes run.json with status failed and the message when the run fails before its model loads, and a new start replaces it', async () => {
    const bad = path.join(dir, 'bad.run.json');
    await writeFile(path.join(dir, 'notes.gguf'), 'these are notes, not a model\n');
    await writeFile(bad, JSON.stringify({ ...JSON.parse(await readFile(config, 'utf8')), model: 'notes.gguf' }));
    const failedDir = path.join(dir, 'failed');
    const result = await runCli(['run', bad, '--out', failedDir, '--no-report']);
    assert.equal(result.code, 1);
    const record = JSON.parse(await readFile(path.join(failedDir, 'run.json'), 'utf8'));
    assert.equal(record.status, 'failed');
    assert.match(record.error, /notes\.gguf/);
    assert.equal(record.model, undefined);
    const again = await runCli(['run', bad, '--out', failedDir, '--no-report']);
    assert.equal(again.code, 1);
    assert.doesNotMatch(again.stderr, /already holds a run/);
  });
});
