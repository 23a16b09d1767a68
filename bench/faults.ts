// `npm run bench:faults`: what a run folder survives, on a generated model (random weights: this
// checks the pipeline's bookkeeping, not a model). Prints, for the closing note:
//   1. SIGKILL at N points spread over every phase (seeded jitter), each followed by --resume:
//      every result CSV compared byte for byte with an uninterrupted run's;
//   2. a full disk (a small tmpfs filled during the run) and a read-only folder (the tmpfs
//      remounted read-only): the message each gives, then the resumed result compared.
// Part 2 mounts tmpfs, so it needs root (it says so and stops otherwise).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { demoRunConfig } from '../src/cli/demo.js';
import { demoRows } from '../src/core/demo/demoDataset.js';
import { SeededRandom } from '../src/core/random.js';
import { packageRoot } from '../src/engine/packageRoot.js';
import { testModelPath, tinyQwen2 } from '../test/engine/generatedModels.js';

const { values: args } = parseArgs({ options: { kills: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, 'skip-disk': { type: 'boolean', default: false } } });
const cli = path.join(packageRoot(), 'bin', 'icl-lab.js');
const resultFiles = ['stats.csv', 'histograms.csv', 'massive.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'strategy_vs_random.csv', 'predictions.csv'];

interface Finished {
  code: number | null;
  stderr: string;
  seconds: number;
}

/** When to strike: `delayMs` after run.json first shows `phase` running. */
interface Strike {
  readonly phase: string;
  readonly delayMs: number;
  /** Default: SIGKILL the run. */
  readonly action?: () => void;
}

/** `icl-lab run CONFIG --out DIR [--resume]`; with `strike`, killed (or struck otherwise) in that phase. */
function run(config: string, out: string, resume: boolean, strike?: Strike): Promise<Finished & { phase?: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, 'run', config, '--out', out, '--no-report', ...(resume ? ['--resume'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let phase: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const poll = strike
      ? setInterval(() => {
          if (timer || phaseNow(out) !== strike.phase) return;
          clearInterval(poll);
          timer = setTimeout(() => {
            phase = phaseNow(out);
            (strike.action ?? (() => child.kill('SIGKILL')))();
          }, strike.delayMs);
        }, 5)
      : undefined;
    child.on('exit', (code) => {
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      resolve({ code, stderr, seconds: (performance.now() - started) / 1000, ...(phase ? { phase } : {}) });
    });
  });
}

/** The phase run.json says is running, read synchronously at the kill. */
function phaseNow(out: string): string {
  try {
    const record = JSON.parse(spawnSync('cat', [path.join(out, 'run.json')]).stdout.toString()) as { phases: Record<string, { status: string }> };
    return Object.entries(record.phases).find(([, p]) => p.status === 'running')?.[0] ?? 'between phases';
  } catch {
    return 'before run.json';
  }
}

async function compare(reference: string, out: string): Promise<string[]> {
  const differing: string[] = [];
  for (const name of resultFiles) {
    const a = path.join(reference, name);
    if (!existsSync(a)) continue;
    const b = path.join(out, name);
    if (!existsSync(b) || !(await readFile(a)).equals(await readFile(b))) differing.push(name);
  }
  return differing;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'icl-faults-'));
  try {
    await writeFile(path.join(root, 'demo.jsonl'), demoRows(40, 7).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const config = path.join(root, 'faults.run.json');
    await writeFile(
      config,
      JSON.stringify({
        ...demoRunConfig(1),
        model: await testModelPath(tinyQwen2),
        split: { test: 6, probe: 4, pool: 16 },
        selection: { strategies: ['random', 'k-center-greedy', 'highest-first'], budgets: [2, 4], rounds: 1, seeds: [0, 1] },
        correlation: { bootstrap: 20, maxBootstrap: 20, permutations: 20 },
        evaluation: { bootstrap: 20 },
        histogramExamples: 2,
      }),
    );
    console.log('model: GENERATED model with random weights (tiny qwen2): these numbers test the pipeline, not a model');
    const reference = path.join(root, 'reference');
    const whole = await run(config, reference, false);
    if (whole.code !== 0) throw new Error(`the uninterrupted run failed:\n${whole.stderr}`);
    const files = resultFiles.filter((f) => existsSync(path.join(reference, f)));
    console.log(`uninterrupted run: ${whole.seconds.toFixed(1)} s; compared files: ${files.join(', ')}`);

    // 1. Kills spread over the whole run, each with a seeded jitter, then one resume.
    const kills = Number(args.kills);
    const random = new SeededRandom(Number(args.seed));
    const phases = ['extract', 'quality', 'correlate', 'select', 'evaluate'];
    console.log(`\n1. SIGKILL then --resume, ${kills} times (seed ${args.seed}): the phases in turn, 0–400 ms into each (0–40 ms into the short correlate, 0–3 into select; seeded)`);
    console.log('trial  target      delay    phase killed in   resume exit  identical');
    let identical = 0;
    const phasesHit = new Set<string>();
    for (let i = 0; i < kills; i++) {
      const target = phases[i % phases.length]!;
      // correlate and select last tens of ms on this model: strike early in them.
      const delay = Math.floor(random.next() * (target === 'select' ? 3 : target === 'correlate' ? 40 : 400));
      const out = path.join(root, `kill-${i}`);
      const killed = await run(config, out, false, { phase: target, delayMs: delay });
      const resumed = await run(config, out, true);
      const differing = resumed.code === 0 ? await compare(reference, out) : ['(resume failed)'];
      if (differing.length === 0) identical++;
      const phase = killed.code === 0 ? 'finished first' : (killed.phase ?? '?');
      phasesHit.add(phase);
      console.log(`${String(i + 1).padEnd(7)}${target.padEnd(12)}${`${delay} ms`.padEnd(9)}${phase.padEnd(18)}${String(resumed.code).padEnd(13)}${differing.length === 0 ? 'yes' : `NO: ${differing.join(', ')}`}`);
      if (resumed.code !== 0) console.log(resumed.stderr.split('\n').filter((l) => l.startsWith('error')).join('\n'));
      await rm(out, { recursive: true, force: true });
    }
    console.log(`${identical} of ${kills} resumed runs identical to the uninterrupted one; phases hit: ${[...phasesHit].join(', ')}`);

    // 2. A full disk and a read-only folder, on a tmpfs.
    if (args['skip-disk']) return;
    if (process.getuid?.() !== 0) {
      console.log('\n2. full disk / read-only folder: skipped, mounting a tmpfs needs root');
      return;
    }
    const mountPoint = path.join(root, 'tmpfs');
    await mkdir(mountPoint);
    const mount = (...options: string[]): void => {
      const result = spawnSync('mount', options, { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`mount ${options.join(' ')}: ${result.stderr}`);
    };
    mount('-t', 'tmpfs', '-o', 'size=72m', 'tmpfs', mountPoint);
    try {
      const out = path.join(mountPoint, 'run');
      console.log('\n2a. full disk: a 72 MiB tmpfs, filled to the last byte once the run has started');
      const full = await run(config, out, false, { phase: 'quality', delayMs: 0, action: () => void spawnSync('sh', ['-c', `cat /dev/zero > ${path.join(mountPoint, 'filler')} 2>/dev/null`]) });
      console.log(`exit ${full.code}; ${full.stderr.split('\n').find((l) => l.startsWith('error')) ?? '(no error line: the run finished before the disk filled)'}`);
      const small = await run(config, path.join(mountPoint, 'another'), false);
      console.log(`a new run on the full disk: exit ${small.code}; ${small.stderr.split('\n').find((l) => l.startsWith('error'))}`);
      await rm(path.join(mountPoint, 'filler'));
      const afterFull = await run(config, out, true);
      const fullDiffers = afterFull.code === 0 ? await compare(reference, out) : ['(resume failed)'];
      console.log(`space freed, --resume: exit ${afterFull.code}; identical to the uninterrupted run: ${fullDiffers.length === 0 ? 'yes' : `NO: ${fullDiffers.join(', ')}`}`);

      console.log('\n2b. read-only folder: a run killed half way, its tmpfs remounted read-only');
      const ro = path.join(mountPoint, 'ro');
      await run(config, ro, false, { phase: 'quality', delayMs: 50 });
      mount('-o', 'remount,ro', mountPoint);
      const refused = await run(config, ro, true);
      console.log(`--resume on the read-only folder: exit ${refused.code}; ${refused.stderr.split('\n').find((l) => l.startsWith('error'))}`);
      mount('-o', 'remount,rw', mountPoint);
      const afterRo = await run(config, ro, true);
      const roDiffers = afterRo.code === 0 ? await compare(reference, ro) : ['(resume failed)'];
      console.log(`remounted read-write, --resume: exit ${afterRo.code}; identical to the uninterrupted run: ${roDiffers.length === 0 ? 'yes' : `NO: ${roDiffers.join(', ')}`}`);
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
