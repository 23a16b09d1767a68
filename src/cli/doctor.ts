// `icl-lab doctor RUN`: what a run folder holds, what is stale and what is corrupt, changing nothing
// (core/experiment/runDoctor.ts does the checks). Exit 0 when healthy, 1 otherwise.
import path from 'node:path';
import type { Command } from 'commander';
import { inspectRunFolder } from '../core/experiment/runDoctor.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check a run folder: its record, inputs (changed since?), model, checkpoints, raw dumps and results; changes nothing')
    .argument('<run>', 'run folder written by `icl-lab run`')
    .option('--no-model-hash', 'skip hashing the model file (a full read) to compare its sha256')
    .option('--json', 'print the findings as JSON', false)
    .action(async (run: string, options: { modelHash: boolean; json: boolean }) => {
      const report = await inspectRunFolder(path.resolve(run), { hashModel: options.modelHash });
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else {
        for (const f of report.findings) console.log(`${f.level.padEnd(8)}${f.what}`);
        console.log(report.healthy ? `\n${report.dir}: healthy` : `\n${report.dir}: needs attention (stale, corrupt or missing above)`);
      }
      process.exitCode = report.healthy ? 0 : 1;
    });
}
