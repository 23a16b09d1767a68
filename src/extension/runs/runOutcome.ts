// What became of a run, said honestly: the first `error:` line the run printed, the action that
// fits it (open the file at the line, select another model), and Resume only where there is
// something to resume. No vscode import: tested with mocha.
import { CheckpointStore } from '../../core/experiment/checkpointStore.js';
import { runState, type RunState } from '../../core/experiment/runFolders.js';
import type { RunRecord } from '../../core/experiment/runExperiment.js';

/** States a run can be resumed from, once it has a model and finished units. */
const resumableStates: readonly RunState[] = ['cancelled', 'failed', 'interrupted'];

/**
 * Whether `--resume` has anything to continue: run.json records a loaded model, the run stopped
 * (cancelled, failed, interrupted) and checkpoints exist.
 */
export async function isResumable(dir: string, record: RunRecord | undefined, state: RunState | undefined = record ? runState(record) : undefined): Promise<boolean> {
  if (!record?.model || !state || !resumableStates.includes(state)) return false;
  return (await new CheckpointStore(dir).units().catch(() => [])).length > 0;
}

/** The message of the first `error: …` line among a run's output lines (without the prefix). */
export function firstErrorLine(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const match = /^\s*error:\s*(.+)$/.exec(line);
    if (match) return match[1]!.trim();
  }
  return undefined;
}

/**
 * llama.cpp's complaints when a decode is interrupted (`graph_compute: … failed`, `llama_decode:
 * failed to decode`): expected after a cancel, so not errors then.
 */
export function isInterruptedComputeLine(line: string): boolean {
  return /\b(graph_compute|ggml_backend_sched_graph_compute|llama_decode|decode)\b.*\bfail/i.test(line) || /\bcompute\b.*\babort/i.test(line);
}

/** A place an error names: `file:line[:column]` (lines and columns 1-based, as printed). */
export interface ErrorLocation {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}

/** The first `path:line[:col]: ` in an error message (DatasetError and template errors print that). */
export function errorLocation(message: string): ErrorLocation | undefined {
  const match = /^(.*?[^\s:]):(\d+)(?::(\d+))?:\s/.exec(message);
  if (!match || !/[\\/.]/.test(match[1]!)) return undefined;
  return { file: match[1]!, line: Number(match[2]), ...(match[3] ? { column: Number(match[3]) } : {}) };
}

/** Whether an error is about the model file (not GGUF, missing, not loadable). */
export function isModelError(message: string, modelPath: string | undefined): boolean {
  if (/\bGGUF\b/.test(message)) return true;
  if (modelPath && message.includes(modelPath) && /does not exist|not a|cannot|load|unreadable/i.test(message)) return true;
  return /\bmodel\b.*\b(load|not found|does not exist|invalid)/i.test(message);
}

export type FailureAction = 'Open File' | 'Select Model…' | 'Resume' | 'Show Log';

export interface FailureReport {
  readonly message: string;
  readonly actions: readonly FailureAction[];
  readonly location?: ErrorLocation;
}

/** The failed run's notification: its reason and the actions that fit it, Resume only when resumable. */
export function describeFailure(name: string, reason: string, options: { resumable: boolean; modelPath?: string }): FailureReport {
  const location = errorLocation(reason);
  const actions: FailureAction[] = [];
  if (location) actions.push('Open File');
  if (isModelError(reason, options.modelPath)) actions.push('Select Model…');
  if (options.resumable) actions.push('Resume');
  actions.push('Show Log');
  return { message: `ICL Lab: ${name} failed: ${reason}`, actions, ...(location ? { location } : {}) };
}
