// Runs `icl-lab` as a user would, in a child process, and collects what it printed.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI from its TypeScript sources. */
export const sourceCli: readonly string[] = ['--import', 'tsx', path.join(packageRoot(), 'src', 'cli', 'main.ts')];
/** What `npx icl-lab` runs: the esbuild bundles (npm test builds them first). */
export const bundledCli: readonly string[] = [path.join(packageRoot(), 'bin', 'icl-lab.js')];

export function runCli(args: readonly string[], entry: readonly string[] = sourceCli, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], { cwd: packageRoot(), env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
