import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runReproduce, type ReproduceDeps } from '../../src/cli/reproduce.js';
import { packageRoot } from '../../src/engine/packageRoot.js';

// The issue sizes cpu-small to finish in under 90 minutes on two CPU cores. This checks the preset
// against reproduce's own estimate, on the shared datasets, at the per-token cost reproduce measured
// on this project's idle 2-core build machine (`icl-lab reproduce --dry-run`, 2026-12-06). The
// whole cpu-medium grid took 1.33× this estimate (cells with long inputs — CB, GSM8K, NQ-open — up to
// 1.5×), so cpu-small must be estimated at 65 minutes or less (65 × 1.33 < 90); cpu-medium, the
// first size, is the one that did not fit.

const idleCost: Record<string, { extractSecondsPerToken: number; scoringSecondsPerToken: number; charsPerToken: number }> = {
  'smollm2-135m': { extractSecondsPerToken: 1 / 216, scoringSecondsPerToken: 1 / 241, charsPerToken: 4.81 },
  'gemma3-270m': { extractSecondsPerToken: 1 / 232, scoringSecondsPerToken: 1 / 338, charsPerToken: 5.02 },
};

/** The grid's expected minutes, as `reproduce --dry-run` prints them. */
async function expectedMinutes(preset: string): Promise<number> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-sizes-'));
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: string) => void lines.push(String(line));
  const deps: ReproduceDeps = {
    runCell: async () => assert.fail('a dry run ran a cell'),
    resolveModel: async (model) => `/models/${'id' in model ? model.id : model.name}.gguf`,
    calibrate: async (modelFile) => idleCost[path.basename(modelFile, '.gguf')]!,
  };
  try {
    const code = await runReproduce({ preset, out, datasets: path.join(packageRoot(), '..', 'shared', 'datasets'), dryRun: true, report: false, estimate: true }, deps);
    assert.equal(code, 0, lines.join('\n'));
  } finally {
    console.error = original;
    await rm(out, { recursive: true, force: true });
  }
  const total = lines.map((l) => /^grid: .*expected time ≈(?:(\d+)h)?(\d+)m/.exec(l)).find((m) => m);
  assert.ok(total, `no expected time in:\n${lines.join('\n')}`);
  return Number(total[1] ?? 0) * 60 + Number(total[2]);
}

describe('the CPU presets against the 90-minute budget', function () {
  this.timeout(120_000);

  it('cpu-small is estimated at 65 minutes or less on two idle cores (the estimate\'s grid ratio, 1.33, stays under 90)', async () => {
    const minutes = await expectedMinutes('cpu-small');
    assert.ok(minutes <= 65, `cpu-small is estimated at ${minutes} min`);
    assert.ok(minutes >= 40, `cpu-small is estimated at ${minutes} min: smaller than the README says`);
  });

  it('cpu-medium, the first size (20 test queries, 3 seeds), is the one that does not fit', async () => {
    assert.ok((await expectedMinutes('cpu-medium')) > 90);
  });
});
