// Runs `icl-lab download-model <uri> --dir DIR --progress json` in a child process (VS Code's own
// runtime, as the owner's `cli()` builds the command line) and follows its JSON events. The
// extension host cannot import node-llama-cpp (ESM-only, the host bundle is CommonJS), and a child
// is easy to cancel cleanly: a line "cancel" on its stdin works on every OS, where a signal does
// not reach a Windows child. No vscode import: tested with mocha against the real CLI.
import { spawn } from 'node:child_process';
import { parseDownloadEvent, type DownloadEvent, type DownloadFailureReason } from '../../core/models/downloadEvents.js';
import { LineSplitter } from '../runs/runEvents.js';

export interface CliCommandLine {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Builds the command line that runs `icl-lab <args>`. */
export type CliLauncher = (args: readonly string[]) => CliCommandLine;

export type DownloadOutcome =
  | { readonly status: 'done'; readonly file: string; readonly bytes: number; readonly existing: boolean }
  | { readonly status: 'cancelled'; readonly message: string }
  | { readonly status: 'failed'; readonly reason: DownloadFailureReason; readonly message: string };

export interface DownloadProcess {
  readonly done: Promise<DownloadOutcome>;
  /** Asks the download to stop; it deletes its partial file and `done` says 'cancelled'. */
  cancel(): void;
}

/** How long a cancelled download may take to clean up before it is killed. */
const cancelGraceMs = 10_000;

export function startModelDownload(cli: CliLauncher, uri: string, dir: string, onEvent: (event: DownloadEvent) => void = () => undefined): DownloadProcess {
  const line = cli(['download-model', uri, '--dir', dir, '--progress', 'json']);
  const child = spawn(line.command, [...line.args], { env: line.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  let cancelRequested = false;
  let killTimer: NodeJS.Timeout | undefined;
  let last: DownloadEvent | undefined;
  const otherLines: string[] = [];
  const splitter = new LineSplitter();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const text of splitter.push(chunk)) {
      const event = parseDownloadEvent(text);
      if (!event) {
        if (text.trim() !== '') otherLines.push(text.trim());
        if (otherLines.length > 20) otherLines.shift();
        continue;
      }
      if (event.event !== 'progress') last = event;
      onEvent(event);
    }
  });
  child.stdout.resume();
  // A child gone before reading its stdin must not crash us with EPIPE.
  child.stdin.on('error', () => undefined);

  const done = new Promise<DownloadOutcome>((resolve) => {
    child.on('error', (error) => resolve({ status: 'failed', reason: 'other', message: `cannot start icl-lab download-model: ${error.message}` }));
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (last?.event === 'done' && code === 0) return resolve({ status: 'done', file: last.file, bytes: last.bytes, existing: last.existing });
      if (last?.event === 'error') {
        if (last.reason === 'cancelled') return resolve({ status: 'cancelled', message: last.message });
        return resolve({ status: 'failed', reason: last.reason, message: last.message });
      }
      if (cancelRequested) return resolve({ status: 'cancelled', message: `download of ${uri} cancelled` });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = otherLines.slice(-5).join('\n');
      resolve({ status: 'failed', reason: 'other', message: `icl-lab download-model ${how} while downloading ${uri}${tail ? `:\n${tail}` : ''}` });
    });
  });

  return {
    done,
    cancel() {
      if (cancelRequested || child.exitCode !== null || child.signalCode !== null) return;
      cancelRequested = true;
      child.stdin.write('cancel\n');
      killTimer = setTimeout(() => child.kill(), cancelGraceMs);
      killTimer.unref();
    },
  };
}
