// Reading a run's log as `icl-lab run --progress json` writes it (one JSON object per line, other
// lines are plain messages), and a one-line summary of where the run is. No vscode import: tested
// with mocha.
import { formatDuration } from '../../core/format/duration.js';

export interface RunProgressEvent {
  readonly event: 'progress';
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  readonly unit: string;
  readonly rate: number | null;
  readonly etaSeconds: number | null;
}

export interface RunLogEvent {
  readonly event: 'log';
  readonly message: string;
}

/** A line that is not one of our JSON events: llama.cpp errors, `error: …`, the summary table. */
export interface RunTextLine {
  readonly event: 'text';
  readonly message: string;
}

export type RunEvent = RunProgressEvent | RunLogEvent | RunTextLine;

export function parseRunEvent(line: string): RunEvent | undefined {
  const text = line.trimEnd();
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    try {
      const value = JSON.parse(text) as { event?: unknown; phase?: unknown; done?: unknown; total?: unknown; unit?: string; rate?: number | null; etaSeconds?: number | null; message?: unknown };
      if (value.event === 'progress' && typeof value.phase === 'string' && typeof value.done === 'number' && typeof value.total === 'number') {
        return { event: 'progress', phase: value.phase, done: value.done, total: value.total, unit: value.unit ?? '', rate: value.rate ?? null, etaSeconds: value.etaSeconds ?? null };
      }
      if (value.event === 'log' && typeof value.message === 'string') return { event: 'log', message: value.message };
    } catch {
      // Not ours: shown as text.
    }
  }
  return { event: 'text', message: text };
}

/** Splits a growing log into whole lines, keeping a trailing partial line for the next chunk. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines;
  }
}

/** "evaluate 40/64 prompts · 3.6 prompts/s · ETA 10s" */
export function describeProgress(p: RunProgressEvent): string {
  const parts = [`${p.phase} ${p.done}/${p.total} ${p.unit}`.trim()];
  if (p.rate !== null) parts.push(`${p.rate.toFixed(p.rate >= 10 ? 0 : 1)} ${p.unit}/s`);
  if (p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(' · ');
}
