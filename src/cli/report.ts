// `icl-lab report DIR`: a run folder as a self-contained report.html plus figures/*.svg.
import type { Command } from 'commander';
import { renderReport } from '../core/report/renderReport.js';

export interface ReportCliOptions {
  out?: string;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('render a run folder (run.json, stats/quality/correlations/curves CSVs, raw/) as report.html with SVG figures')
    .argument('<dir>', 'run folder written by `icl-lab run`')
    .option('--out <file>', 'HTML file to write (default: DIR/report.html)')
    .action(async (dir: string, options: ReportCliOptions) => {
      process.exitCode = await runReport(dir, options);
    });
}

export async function runReport(dir: string, options: ReportCliOptions): Promise<number> {
  try {
    const { files, notes } = await renderReport(dir, options.out ? { out: options.out } : {});
    for (const file of files) console.log(file);
    for (const line of notes) console.log(`note: ${line}`);
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}
